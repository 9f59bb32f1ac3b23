//! `.env` files (beyond PM2, issue 18): an app's `env_file` (snake_case or camelCase, one
//! path or a list, relative to the app's cwd) and `--env-file`, in dotenv syntax, merged
//! under the app's `env`; a broken or missing file names the file (and line, and app) and
//! starts nothing. PM2 has no such key, so there is no reference twin.

use crate::harness::*;
use serde_json::Value;
use std::time::Duration;

const T: Duration = Duration::from_secs(15);
const NEED_NODE: &str = "node not on PATH (scripts/install-deps.sh)";

/// The `ENV {...}` line `health_app.js` printed for app `name`.
fn printed_env(p: &Pm2, name: &str) -> Value {
    let log = p.log_path(&format!("{name}-out.log"));
    p.wait_file_contains(&log, "ENV ", T);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    text.lines()
        .find_map(|l| serde_json::from_str(l.strip_prefix("ENV ")?).ok())
        .unwrap_or(Value::Null)
}

const DOTENV: &str =
    "# settings\nexport A=1\nB='two words'\nC=\"${A}-x\"\nSHARED=file\n\nD=plain # comment\n";

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn env_file_values_reach_the_app_under_its_env() {
    require(have("node"), NEED_NODE);
    let p = Pm2::new("envfile_eco");
    p.fixture("health_app.js");
    std::fs::create_dir_all(p.dir.join("srv")).expect("mkdir");
    std::fs::copy(p.dir.join("health_app.js"), p.dir.join("srv/health_app.js")).expect("copy");
    std::fs::write(p.dir.join("srv/.env"), DOTENV).expect("write .env");
    std::fs::write(p.dir.join("srv/more.env"), "B=\"later file wins\"\n").expect("write");
    let eco = r#"{"apps":[{"name":"web","script":"health_app.js","cwd":"srv",
        "envFile":[".env","more.env"],
        "env":{"SHARED":"app","PORT":"0","ENV_KEYS":"A,B,C,D,SHARED"}}]}"#;
    std::fs::write(p.dir.join("eco.json"), eco).expect("write eco");
    p.ok(&["start", "eco.json"]);
    let env = printed_env(&p, "web");
    assert_eq!(env["A"], "1");
    assert_eq!(env["B"], "later file wins");
    assert_eq!(env["C"], "1-x", "${{A}} expanded");
    assert_eq!(env["D"], "plain");
    assert_eq!(env["SHARED"], "app", "the app's env wins over the file");
}

#[test]
#[cfg_attr(no_node, ignore = "node not on PATH (scripts/install-deps.sh)")]
fn the_env_file_flag_reaches_a_started_script() {
    require(have("node"), NEED_NODE);
    let p = Pm2::new("envfile_flag");
    p.fixture("health_app.js");
    std::fs::write(p.dir.join("flag.env"), "A=from-flag\nPORT=0\nENV_KEYS=A\n").expect("write");
    p.ok(&[
        "start",
        "health_app.js",
        "--name",
        "web",
        "--env-file",
        "flag.env",
    ]);
    assert_eq!(printed_env(&p, "web")["A"], "from-flag");
}

#[test]
fn env_file_errors_name_the_file_line_and_app_and_start_nothing() {
    let p = Pm2::new("envfile_errors");
    p.sleeper_script("app.sh");
    std::fs::write(p.dir.join("bad.env"), "OK=1\n# fine\nNOT A LINE\n").expect("write");
    let eco = r#"{"apps":[{"name":"web","script":"app.sh","env_file":"bad.env"}]}"#;
    std::fs::write(p.dir.join("eco.json"), eco).expect("write");
    let out = p.fails(&["start", "eco.json"], 1);
    let bad = p.dir.join("bad.env");
    let needle = format!("apps[0].env_file: {}:3:", bad.display());
    assert!(out.stderr.contains(&needle), "{}", out.report());
    let eco = r#"{"apps":[{"name":"web","script":"app.sh","env_file":"missing.env"}]}"#;
    std::fs::write(p.dir.join("eco.json"), eco).expect("write");
    let out = p.fails(&["start", "eco.json"], 1);
    assert!(
        out.stderr.contains("missing.env: no such env file"),
        "{}",
        out.report()
    );
    let out = p.fails(
        &[
            "start",
            "app.sh",
            "--name",
            "solo",
            "--env-file",
            "nope.env",
        ],
        1,
    );
    assert!(
        out.stderr.contains("app solo: ") && out.stderr.contains("nope.env: no such env file"),
        "{}",
        out.report()
    );
    assert_eq!(p.app_count(), 0, "nothing started");
}
