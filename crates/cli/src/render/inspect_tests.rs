//! `prettylist` checked against the real thing: every case is run through Node's
//! `util.inspect(JSON.parse(text), false, null, false)` and the outputs must be identical;
//! without Node, against Node's output recorded in `inspect_golden.json`.

use super::inspect::prettylist;
use super::table::tests::process;
use pm2_proto::{pm2json, ExecMode, Status};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// The script Node runs: read JSON on stdin, print it the way `pm2 prettylist` does.
const NODE_SCRIPT: &str =
    "let d='';process.stdin.setEncoding('utf8');process.stdin.on('data',c=>d+=c).on('end',()=>\
process.stdout.write(require('util').inspect(JSON.parse(d),false,null,false)))";

/// Node's rendering of `json`, or None when `node` is not installed.
fn node_inspect(json: &str) -> Option<String> {
    let mut child = match Command::new("node")
        .args(["-e", NODE_SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("could not run node: {e}"),
    };
    child
        .stdin
        .take()
        .expect("stdin was piped")
        .write_all(json.as_bytes())
        .expect("write JSON to node");
    let out = child.wait_with_output().expect("node ran");
    assert!(out.status.success(), "node failed on {json}");
    Some(String::from_utf8(out.stdout).expect("node prints UTF-8"))
}

/// Node's output for every case, recorded with Node (`inspect_golden.json`, keyed by case
/// name, with the input it was made from), so the comparison also runs where Node is not
/// installed. Re-record after adding or changing a case:
/// `PM2_RS_BLESS=1 cargo test -p pm2-cli inspect_tests` (needs `node`).
const GOLDEN_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/render/inspect_golden.json"
);

/// One recorded case: the JSON text given to Node and what Node printed.
#[derive(PartialEq)]
struct Golden {
    input: String,
    node: String,
}

/// The recorded cases, by name (none when the file is not there yet).
fn golden_cases() -> BTreeMap<String, Golden> {
    let text = match std::fs::read_to_string(GOLDEN_FILE) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return BTreeMap::new(),
        Err(e) => panic!("read {GOLDEN_FILE}: {e}"),
    };
    let cases: BTreeMap<String, Value> =
        serde_json::from_str(&text).expect("inspect_golden.json parses");
    let field = |case: &Value, key: &str| case[key].as_str().unwrap_or_default().to_string();
    cases
        .into_iter()
        .map(|(name, case)| {
            let golden = Golden {
                input: field(&case, "input"),
                node: field(&case, "node"),
            };
            (name, golden)
        })
        .collect()
}

/// Records `case` in the golden file (tests run in parallel: one writer at a time).
fn bless(name: &str, case: Golden) {
    static WRITER: Mutex<()> = Mutex::new(());
    let _one = WRITER.lock().unwrap_or_else(|p| p.into_inner());
    let mut cases = golden_cases();
    cases.insert(name.to_string(), case);
    let cases: BTreeMap<&String, Value> = cases
        .iter()
        .map(|(name, case)| (name, json!({ "input": case.input, "node": case.node })))
        .collect();
    let text = serde_json::to_string_pretty(&cases).expect("golden cases serialise") + "\n";
    std::fs::write(GOLDEN_FILE, text).unwrap_or_else(|e| panic!("write {GOLDEN_FILE}: {e}"));
}

/// Whether this run is under CI (`CI` set to anything but "", "0" or "false"), where Node
/// must be there for the live comparison.
fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

/// Asserts that `prettylist` prints `json` exactly as Node does: live when `node` is on
/// PATH (and then the recorded output must be the same), else as recorded.
fn check(name: &str, json: &str) {
    let value: Value = serde_json::from_str(json).expect("test JSON parses");
    let actual = prettylist(&value);
    let recorded = golden_cases().remove(name);
    let expected = match node_inspect(json) {
        Some(live) => {
            let case = Golden {
                input: json.to_string(),
                node: live.clone(),
            };
            if std::env::var_os("PM2_RS_BLESS").is_some() {
                bless(name, case);
            } else {
                assert!(
                    recorded.as_ref() == Some(&case),
                    "case {name}: {GOLDEN_FILE} is missing it or records another input or \
                     output: re-record with PM2_RS_BLESS=1 cargo test -p pm2-cli inspect_tests"
                );
            }
            live
        }
        None => {
            assert!(
                !under_ci(),
                "`node` is not on PATH under CI: case {name} needs it"
            );
            eprintln!("note: `node` is not on PATH: case {name} compared with {GOLDEN_FILE}");
            let case = recorded.unwrap_or_else(|| panic!("case {name} is not in {GOLDEN_FILE}"));
            assert_eq!(case.input, json, "case {name}: {GOLDEN_FILE} is stale");
            case.node
        }
    };
    assert_eq!(
        actual, expected,
        "case {name}\n--- ours ---\n{actual}\n--- node ---\n{expected}"
    );
}

fn check_value(name: &str, value: &Value) {
    check(name, &value.to_string());
}

#[test]
fn scalars_and_empty_containers() {
    for (i, json) in [
        "null",
        "true",
        "0",
        "-0",
        "-0.0",
        "1.5",
        "-42",
        "0.1",
        "1e21",
        "1.5e-7",
        "12345678901234567890",
        "\"\"",
        "\"plain\"",
        "[]",
        "{}",
        "[[],{}]",
        "{\"a\":[],\"b\":{},\"c\":[[]]}",
    ]
    .iter()
    .enumerate()
    {
        check(&format!("scalar {i}"), json);
    }
}

#[test]
fn string_quoting_and_escapes() {
    let strings = [
        "it's",
        "say \"hi\"",
        "say \"hi\" it's",
        "a'b\"c`d",
        "a'b\"c${x}",
        "a'b\"c$ {x}",
        "back\\slash",
        "tab\there",
        "bell\u{7}\u{1}\u{1f}\u{b}",
        "del\u{7f} c1\u{85}\u{9f} nbsp\u{a0}",
        "line\nbreak",
        "crlf\r\n",
        "héllo wörld",
        "日本語テキスト",
        "rocket 🚀 launch",
        "zero\u{200b}width",
    ];
    for (i, s) in strings.iter().enumerate() {
        check_value(&format!("string {i}"), &json!(s));
        check_value(&format!("string in object {i}"), &json!({ "k": s }));
    }
}

#[test]
fn long_and_multiline_strings() {
    let long_line = "x".repeat(120);
    let multi = "first line of a long text\nsecond line that is also long\nthird\n";
    let short_multi = "a\nb";
    check_value("long line", &json!(long_line));
    check_value("long line nested", &json!({ "a": { "b": long_line } }));
    check_value("multiline top", &json!(multi));
    check_value("multiline nested", &json!({ "out": multi, "n": 1 }));
    check_value("multiline deep", &json!([[{ "x": multi }]]));
    check_value("short multiline", &json!({ "s": short_multi }));
    check_value(
        "quotes per piece",
        &json!({ "s": format!("it's {multi}\"q\"\n{long_line}") }),
    );
    check_value("huge string", &json!("ab".repeat(5003)));
    check_value("huge string 1 over", &json!("a".repeat(10_001)));
    check_value("exactly 16", &json!([["abcdefghijklmnop"]]));
}

#[test]
fn keys() {
    check(
        "keys",
        r#"{"plain":1,"_under":2,"camelCase9":3,"a-b":4,"with space":5,"$dollar":6,
           "9lives":7,"10":8,"2":9,"":10,"it's":11,"q\"uote":12,"__proto__":13,"ünï":14,
           "01":15,"4294967295":16,"4294967294":17}"#,
    );
}

#[test]
fn number_arrays_group_right_aligned() {
    let small: Vec<u32> = (0..7).collect();
    let squares: Vec<u64> = (0..40).map(|i: u64| i * i * i).collect();
    let many: Vec<u32> = (0..150).collect();
    let floats: Vec<f64> = (0..12).map(|i| f64::from(i) * 1.25 - 3.0).collect();
    check_value("seven", &json!(small));
    check_value("cubes", &json!(squares));
    check_value("more items", &json!(many));
    check_value("exactly 101", &json!((0..101).collect::<Vec<_>>()));
    check_value("floats", &json!(floats));
    check_value("nested numbers", &json!({ "data": { "points": squares } }));
    check_value("six", &json!([1, 2, 3, 4, 5, 6]));
    check_value(
        "wide numbers",
        &json!([1, 22, 333, 4444, 55555, 666666, 7777777, 88888888]),
    );
}

#[test]
fn string_and_mixed_arrays_group_left_aligned() {
    let letters: Vec<String> = ('a'..='z').map(String::from).collect();
    let words = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
        "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon",
    ];
    let cjk = [
        "日本",
        "中文字",
        "한국어",
        "テスト",
        "漢字",
        "かな",
        "カタカナ",
        "ひらがな",
    ];
    let many: Vec<String> = (0..130).map(|i| format!("item-{i}")).collect();
    check_value("letters", &json!(letters));
    check_value("words", &json!(words));
    check_value("cjk", &json!(cjk));
    check_value(
        "emoji",
        &json!(["🚀", "🎉", "🔥", "✨", "💡", "📦", "🐛", "✅"]),
    );
    check_value("many strings", &json!(many));
    check_value(
        "mixed",
        &json!([1, "two", 3, null, true, false, 7.5, "eight"]),
    );
    check_value(
        "uneven",
        &json!(["a", "b", "c", "d", "e", "f", "a much longer entry here"]),
    );
    check_value(
        "paths",
        &json!([
            "/usr/local/bin",
            "/usr/bin",
            "/bin",
            "/usr/sbin",
            "/sbin",
            "/snap/bin",
            "/home/deploy/.local/bin"
        ]),
    );
}

#[test]
fn nesting_and_compact_levels() {
    check_value(
        "deep",
        &json!({ "a": { "b": { "c": { "d": { "e": [1, 2, 3] } } } } }),
    );
    check_value("deep array", &json!([[[[[["x"]]]]]]));
    check_value(
        "siblings",
        &json!({ "first": [1, 2, 3], "second": { "inner": [1, 2, 3] }, "third": "x" }),
    );
    check_value(
        "objects in array",
        &json!([{ "a": 1 }, { "b": 2 }, { "c": 3 }]),
    );
    check_value(
        "seven objects",
        &json!([{ "a": 1 }, { "a": 2 }, { "a": 3 }, { "a": 4 }, { "a": 5 }, { "a": 6 }, { "a": 7 }]),
    );
    check_value(
        "just fits",
        &json!({ "key1": "value-number-one", "key2": "value-number-two", "k3": "v3" }),
    );
    check_value(
        "just breaks",
        &json!({ "key1": "value-number-one", "key2": "value-number-two", "key3": "three!" }),
    );
    let wide: serde_json::Map<String, Value> =
        (0..30).map(|i| (format!("k{i}"), json!(i))).collect();
    check_value("many keys", &Value::Object(wide));
}

#[test]
fn realistic_jlist() {
    let mut worker = process(2, "worker");
    worker
        .spec
        .env
        .insert("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into());
    worker.spec.env.insert("HOME".into(), "/home/deploy".into());
    worker.spec.args = vec!["--port".into(), "3000".into()];
    let mut api = process(0, "api");
    api.spec.exec_mode = ExecMode::Cluster;
    api.spec.interpreter = "node".into();
    api.spec.node_version = Some("20.20.2".into());
    api.monit.cpu = 3.8;
    let mut stopped = process(1, "cron-job");
    stopped.status = Status::Stopped;
    stopped.exit_code = Some(42);
    stopped.created_at = None;
    let list = pm2json::jlist(&[api, stopped, worker]);
    check_value("jlist", &list);
    check_value("empty jlist", &pm2json::jlist(&[]));
}

#[test]
fn pm2_reference_entry() {
    check(
        "reference entry",
        r#"{"pid":6204,"name":"echo","pm2_env":{"name":"echo","filter_env":[],"namespace":"default",
        "env":{"PWD":"/srv/app","PM2_HOME":"/home/deploy/.pm2","echo":{},"unique_id":"1b63af67"},
        "merge_logs":true,"node_args":[],"axm_actions":[{"action_name":"km:heapdump",
        "action_type":"internal","arity":2}],"axm_monitor":{"Heap Size":{"historic":true,
        "unit":"MiB","type":"internal/v8/heap/total","value":"7.23"},"Heap Usage":{"historic":true,
        "unit":"%","type":"internal/v8/heap/usage","value":74.58}},"axm_options":{"error":true,
        "feature.profiler.heapsnapshot":false,"metrics":{"v8":true,"network":false},
        "tracing":{"enabled":false,"outbound":false},"module_conf":{},
        "apm":{"type":"node","version":"8.0.0"}},"created_at":1795233507118,"pm_id":0,
        "restart_time":0,"version":"7.0.3","node_version":"20.20.2"},"pm_id":0,
        "monit":{"memory":53915648,"cpu":3.8}}"#,
    );
}
