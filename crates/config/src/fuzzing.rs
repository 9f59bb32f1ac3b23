//! One input through each reader of a file the user (or another tool) gives the CLI, with
//! the invariants that must hold whatever the bytes are: ecosystem files (JSON5, YAML, and
//! the JSON the JavaScript evaluator prints, which goes through the same resolution),
//! `dump.pm2`, and the value forms inside them. Only the crate's public functions are
//! called, as the CLI and the daemon call them. The fuzz targets in `fuzz/` and the
//! property tests below call the same functions.
//!
//! Compiled for tests and with the `fuzzing` feature only.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::dump::app_from_dump_entry;
use crate::{
    ecosystem_app_names, ecosystem_app_names_from_reader, load_ecosystem,
    load_ecosystem_from_reader, parse_cron, parse_duration_ms, parse_instances, parse_memory_size,
    safe_file_name, EcosystemOptions, ResolveContext,
};

/// `data` as JSON on stdin (`pm2 start -`), read both to resolve and to list names: no
/// panic, and when both succeed they name the same apps. No `node` is on PATH: text JSON5
/// cannot read would be handed to node, whose parser is not ours to fuzz (and a process per
/// input would make the runs crawl).
pub fn ecosystem_json(data: &[u8]) {
    let mut ctx = context();
    ctx.env.insert("PATH".into(), String::new());
    for opts in options() {
        let loaded = load_ecosystem_from_reader(data, &opts, &ctx);
        let names = ecosystem_app_names_from_reader(data, &opts);
        if let (Ok(eco), Ok(names)) = (loaded, names) {
            let resolved: Vec<&str> = eco.apps.iter().map(|a| a.name.as_str()).collect();
            assert_eq!(resolved, names, "resolved apps and listed names differ");
        }
    }
}

/// `data` as an `ecosystem.yaml` file, read as `pm2 start ecosystem.yaml` reads it.
pub fn ecosystem_yaml(data: &[u8]) {
    with_file("yaml", data, |name, ctx| {
        for opts in options() {
            let _ = load_ecosystem(name, &opts, ctx);
            let _ = ecosystem_app_names(name, &opts, ctx);
        }
    });
}

/// `data` as `dump.pm2` (or the daemon's state file, same format): a JSON array of
/// `pm2_env` objects, each read back into an app; no panic, and an app always has a name.
pub fn dump(data: &[u8]) {
    let Ok(Value::Array(entries)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    for entry in &entries {
        if let Ok(app) = app_from_dump_entry(entry, "/usr/bin:/bin") {
            assert!(entry["name"].is_string() || entry["name"].is_number());
            assert!(!app.spec.script.is_empty() || entry["pm_exec_path"] == "");
        }
    }
}

/// The value forms (`instances`, durations, memory sizes, cron patterns, app names as file
/// names) on any text: no panic, no overflow, and a file name stays inside its folder.
pub fn values(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = parse_instances(&text);
    let _ = parse_duration_ms("--fuzz", &text);
    let _ = parse_memory_size(&text);
    let _ = parse_cron(&text);
    let safe = safe_file_name(&text);
    assert_eq!(safe.chars().count(), text.chars().count());
    assert!(safe
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    assert!(
        safe.is_empty() || safe.chars().any(|c| c != '.'),
        "{safe:?}"
    );
}

/// A context that finds `/bin/sh` and friends, as a CLI in a shell would.
fn context() -> ResolveContext {
    ResolveContext {
        cwd: std::env::temp_dir(),
        env: BTreeMap::from([("PATH".to_string(), "/usr/bin:/bin".to_string())]),
        cpus: 4,
        username: "fuzz".into(),
        pm2_exe: "/usr/bin/pm2".into(),
    }
}

fn options() -> [EcosystemOptions; 2] {
    [
        EcosystemOptions::default(),
        EcosystemOptions {
            env_name: Some("production".into()),
            only: vec!["api".into()],
            ..Default::default()
        },
    ]
}

/// Writes `data` to `ecosystem.<ext>` in a fresh private folder, runs `f` with the file's
/// name (relative to the context's cwd, that folder) and removes the folder.
fn with_file(ext: &str, data: &[u8], f: impl FnOnce(&str, &ResolveContext)) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("pm2-config-fuzz-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp folder");
    let name = format!("ecosystem.{ext}");
    std::fs::write(dir.join(&name), data).expect("the fuzz folder is writable");
    let ctx = ResolveContext {
        cwd: dir.clone(),
        ..context()
    };
    f(&name, &ctx);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// App objects with keys pm2 knows and values of every JSON type.
    fn app_json() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            Just("name"),
            Just("script"),
            Just("instances"),
            Just("exec_mode"),
            Just("max_memory_restart"),
            Just("cron_restart"),
            Just("env_production"),
            Just("args"),
            Just("kill_timeout"),
            Just("append_env_to_name"),
            Just("name_prefix"),
            Just("pm_exec_path"),
            Just("pm_cwd"),
        ];
        let value = prop_oneof![
            Just("\"api\"".to_string()),
            Just("\"sh\"".to_string()),
            Just("true".to_string()),
            Just("null".to_string()),
            Just("[\"a\",1]".to_string()),
            Just("{\"A\":1}".to_string()),
            "-?[0-9]{1,20}",
            "\"[0-9a-zA-Z *./-]{0,12}\"",
        ];
        proptest::collection::vec((key, value), 0..6).prop_map(|pairs| {
            let body: Vec<String> = pairs.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", body.join(","))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn any_bytes_as_an_ecosystem(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            ecosystem_json(&data);
            dump(&data);
            values(&data);
        }

        #[test]
        fn app_shaped_ecosystems(apps in proptest::collection::vec(app_json(), 0..4)) {
            let json = format!("{{\"apps\":[{}]}}", apps.join(","));
            ecosystem_json(json.as_bytes());
            dump(format!("[{}]", apps.join(",")).as_bytes());
        }

        #[test]
        fn any_bytes_as_yaml(data in proptest::collection::vec(any::<u8>(), 0..128)) {
            ecosystem_yaml(&data);
        }

        #[test]
        fn any_value_text(text in "\\PC{0,24}") {
            values(text.as_bytes());
        }
    }

    /// Nesting up to the limit parses (the parsers' recursion fits a test thread's stack
    /// even in a debug build); one level more is refused with a message, not a crash.
    #[test]
    fn nesting_up_to_the_limit_parses() {
        let json = |depth: usize| {
            let inner = depth - 3; // {"apps": [ {"name":…,"x": <inner> } ] }
            format!(
                r#"{{"apps":[{{"name":"a","script":"sh","x":{}1{}}}]}}"#,
                "[".repeat(inner),
                "]".repeat(inner)
            )
        };
        let names = ecosystem_app_names_from_reader(json(64).as_bytes(), &Default::default());
        assert_eq!(names, Ok(vec!["a".to_string()]));
        let err = ecosystem_app_names_from_reader(json(65).as_bytes(), &Default::default());
        assert!(err.unwrap_err()[0]
            .0
            .ends_with("nested deeper than 64 levels"));
        let yaml = |depth: usize| {
            format!(
                "apps:\n  - name: a\n    script: sh\n    x:\n      {}1\n",
                "- ".repeat(depth - 3)
            )
        };
        with_file("yaml", yaml(64).as_bytes(), |name, ctx| {
            let names = ecosystem_app_names(name, &Default::default(), ctx);
            assert_eq!(names, Ok(vec!["a".to_string()]));
        });
        with_file("yaml", yaml(65).as_bytes(), |name, ctx| {
            let err = ecosystem_app_names(name, &Default::default(), ctx).unwrap_err();
            assert!(
                err[0].0.ends_with("nested deeper than 64 levels"),
                "{err:?}"
            );
        });
    }

    /// Every input a fuzz target of this crate ever failed on stays fixed.
    #[test]
    fn fuzz_regressions() {
        pm2_fuzz_regressions::replay(&[
            ("config_json", ecosystem_json as fn(&[u8])),
            ("config_yaml", ecosystem_yaml),
            ("config_dump", dump),
            ("config_values", values),
        ]);
    }
}
