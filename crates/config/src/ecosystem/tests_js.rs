//! JavaScript ecosystem files, evaluated by the real `node` (skipped when it is absent).

use super::tests::{ctx, tmpdir, write};
use super::*;
use crate::find_in_path;

fn node_available() -> bool {
    let found = find_in_path("node", &std::env::var("PATH").unwrap_or_default()).is_some();
    if !found {
        // A test that cannot run must not pass under CI.
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "no `node` on PATH: CI=true requires every test to run"
        );
        eprintln!("skipped: no `node` on PATH");
    }
    found
}

fn names(eco: &Ecosystem) -> Vec<&str> {
    eco.apps.iter().map(|a| a.name.as_str()).collect()
}

#[test]
fn commonjs_with_require_env_and_computed_values() {
    if !node_available() {
        return;
    }
    let d = tmpdir("cjs");
    write(&d, "a.sh", "");
    write(&d, "ports.js", "module.exports = { base: 3000 };\n");
    write(
        &d,
        "ecosystem.config.js",
        r#"const { base } = require('./ports');
console.log('noise on stdout is ignored');
module.exports = {
  apps: ['one', 'two'].map((name, i) => ({
    name, script: 'a.sh', cwd: __dirname,
    env: { PORT: base + i, FROM_SHELL: process.env.SHARED },
  })),
};
"#,
    );
    let eco = load_ecosystem("ecosystem.config.js", &Default::default(), &ctx(&d)).unwrap();
    assert_eq!(names(&eco), vec!["one", "two"]);
    assert_eq!(eco.apps[1].env["PORT"], "3001");
    assert_eq!(eco.apps[1].env["FROM_SHELL"], "from-shell");
    write(
        &d,
        "e.config.cjs",
        "module.exports = { apps: [{ script: 'a.sh' }] };",
    );
    let eco = load_ecosystem("e.config.cjs", &Default::default(), &ctx(&d)).unwrap();
    assert_eq!(names(&eco), vec!["a"]);
}

#[test]
fn esm_mjs_and_type_module_packages() {
    if !node_available() {
        return;
    }
    let d = tmpdir("esm");
    write(&d, "a.sh", "");
    write(
        &d,
        "ecosystem.config.mjs",
        "export default { apps: [{ name: 'm', script: 'a.sh' }] };\n",
    );
    let eco = load_ecosystem("ecosystem.config.mjs", &Default::default(), &ctx(&d)).unwrap();
    assert_eq!(names(&eco), vec!["m"]);
    let pkg = d.join("pkg");
    write(&pkg, "package.json", r#"{"type": "module"}"#);
    write(&pkg, "a.sh", "");
    write(
        &pkg,
        "ecosystem.config.js",
        "import path from 'node:path';\nexport default { apps: [{ name: path.basename('x/esm'), script: 'a.sh' }] };\n",
    );
    let eco = load_ecosystem("ecosystem.config.js", &Default::default(), &ctx(&pkg)).unwrap();
    assert_eq!(names(&eco), vec!["esm"]);
}

#[test]
fn a_throwing_file_names_the_error_and_where() {
    if !node_available() {
        return;
    }
    let d = tmpdir("throw");
    write(
        &d,
        "bad.config.js",
        "\nthrow new Error('no config for you');\n",
    );
    let err = load_ecosystem("bad.config.js", &Default::default(), &ctx(&d)).unwrap_err();
    let file = std::fs::canonicalize(d.join("bad.config.js")).unwrap();
    assert_eq!(
        err[0].0,
        format!(
            "bad.config.js: Error: no config for you (at Object.<anonymous> ({}:2:7))",
            file.display()
        )
    );
    write(
        &d,
        "syntax.config.js",
        "module.exports = {\n  apps: [\n};\n",
    );
    let err = load_ecosystem("syntax.config.js", &Default::default(), &ctx(&d)).unwrap_err();
    let file = std::fs::canonicalize(d.join("syntax.config.js")).unwrap();
    assert!(
        err[0]
            .0
            .starts_with("syntax.config.js: SyntaxError: Unexpected token"),
        "{}",
        err[0]
    );
    assert!(
        err[0].0.ends_with(&format!("({}:3)", file.display())),
        "{}",
        err[0]
    );
}

#[test]
fn missing_node_names_the_alternatives() {
    let d = tmpdir("nonode");
    write(&d, "ecosystem.config.js", "module.exports = {};");
    let mut c = ctx(&d);
    c.env
        .insert("PATH".into(), d.to_string_lossy().into_owned());
    let err = load_ecosystem("ecosystem.config.js", &Default::default(), &c).unwrap_err();
    assert_eq!(
        err[0].0,
        "ecosystem.config.js: evaluating a JavaScript ecosystem file needs `node` on PATH; \
         use ecosystem.json or ecosystem.yaml instead"
    );
}

#[test]
fn the_templates_load() {
    if !node_available() {
        return;
    }
    let d = tmpdir("template");
    write(&d, "app.js", "");
    write(&d, "ecosystem.config.js", ecosystem_template(true));
    let eco = load_ecosystem("ecosystem.config.js", &Default::default(), &ctx(&d)).unwrap();
    assert_eq!(names(&eco), vec!["app1"]);
    write(&d, "index.js", "");
    write(&d, "service-worker/index.js", "");
    write(&d, "full.config.js", ecosystem_template(false));
    let names = ecosystem_app_names("full.config.js", &Default::default(), &ctx(&d)).unwrap();
    assert_eq!(names, vec!["index", "service-worker"]);
    assert!(ecosystem_template(false).contains("deploy"));
}

#[test]
fn json_files_and_stdin_are_javascript_expressions() {
    if !node_available() {
        return;
    }
    let d = tmpdir("jsonexpr");
    write(&d, "a.sh", "");
    let text = "// a comment first\n{\n  apps: [{\n    name: 'api-' + (1 + 1),\n    script: 'a.sh',\n    env: { FROM_SHELL: process.env.SHARED, SIZE: 2 * 1024, },\n  },],\n}\n";
    write(&d, "computed.json", text);
    let eco = load_ecosystem("computed.json", &Default::default(), &ctx(&d)).unwrap();
    assert_eq!(names(&eco), vec!["api-2"]);
    assert_eq!(eco.apps[0].env["FROM_SHELL"], "from-shell");
    assert_eq!(eco.apps[0].env["SIZE"], "2048");
    let eco = load_ecosystem_from_reader(text.as_bytes(), &Default::default(), &ctx(&d)).unwrap();
    assert_eq!(names(&eco), vec!["api-2"]);
    let names = ecosystem_app_names("computed.json", &Default::default(), &ctx(&d)).unwrap();
    assert_eq!(names, vec!["api-2"]);
}

#[test]
fn json_expression_errors_name_file_line_and_column() {
    if !node_available() {
        return;
    }
    let d = tmpdir("jsonexprerr");
    let cases: &[(&str, &str, &str)] = &[
        (
            "syntax.json",
            "{\n  apps: [\n    { script: 'a.sh' }\n    { name: 'x' }\n  ]\n}",
            "syntax.json:4:5: SyntaxError: Unexpected token '{'",
        ),
        (
            "first.json",
            "{ apps: [ } ",
            "first.json:1:11: SyntaxError: Unexpected token '}'",
        ),
        (
            "unknown.json",
            "{\n  apps: [{ script: nope }]\n}",
            "unknown.json:2:20: ReferenceError: nope is not defined",
        ),
        (
            "norequire.json",
            "{ apps: require('./x') }",
            "norequire.json:1:9: ReferenceError: require is not defined",
        ),
        (
            "open.json",
            "{ apps: [",
            "open.json:1:10: the file ends with 2 brackets still open, the innermost opened at 1:9 (is it cut short?)",
        ),
    ];
    for (file, text, want) in cases {
        write(&d, file, text);
        let err = load_ecosystem(file, &Default::default(), &ctx(&d)).unwrap_err();
        assert_eq!(err[0].0, *want, "{file}");
    }
    let err =
        load_ecosystem_from_reader(&b"{apps: [}"[..], &Default::default(), &ctx(&d)).unwrap_err();
    assert_eq!(err[0].0, "<stdin>:1:9: SyntaxError: Unexpected token '}'");
}
