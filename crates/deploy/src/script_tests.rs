//! The script run locally by bash, for what needs no host: the history rule and that
//! hostile values stay literal.

use crate::config::Target;
use crate::script::{build, ScriptInput};
use crate::verbs::Verb;
use std::io::Write;
use std::process::{Command, Stdio};

const MARKER: &str = "@@test";

/// Runs the script for `verb` on `target` with local bash; returns (lines not from the
/// script's markers, marker lines).
fn run(target: &Target, verb: Verb) -> (Vec<String>, Vec<String>) {
    let script = build(&ScriptInput {
        target,
        verb: &verb,
        pre_setup_file: None,
        marker: MARKER,
    });
    let mut child = Command::new("bash")
        .arg("-s")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run bash");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write script");
    let out = child.wait_with_output().expect("wait bash");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (markers, plain): (Vec<String>, Vec<String>) = text
        .lines()
        .map(str::to_string)
        .partition(|l| l.starts_with(MARKER));
    (plain, markers)
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pm2-deploy-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn a_revert_line_moves_back_in_the_history_instead_of_adding_to_it() {
    let dir = temp_dir("history");
    std::fs::write(dir.join(".deploys"), "v1\nv2\nv3\nv2 revert\nv4\n").expect("write");
    let target = Target {
        path: dir.to_string_lossy().into_owned(),
        ..Target::default()
    };
    let (lines, _) = run(&target, Verb::List);
    assert_eq!(lines, ["0\tv4", "1\tv2", "2\tv1"]);
    let (lines, _) = run(&target, Verb::Previous);
    assert_eq!(lines, ["v2"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hostile_values_stay_literal_in_every_action() {
    let dir = temp_dir("hostile");
    let marker = dir.join("ran");
    let payload = format!(
        "$(touch {m}) `touch {m}` '; touch {m} #",
        m = marker.display()
    );
    let mut target = Target {
        path: format!("{}/p{payload}", dir.display()),
        repo: payload.clone(),
        git_ref: payload.clone(),
        ..Target::default()
    };
    target.env.insert("X".into(), payload.clone());
    for verb in [
        Verb::Setup,
        Verb::Deploy,
        Verb::Ref(payload.clone()),
        Verb::Revert(1),
        Verb::Current,
        Verb::Previous,
        Verb::List,
    ] {
        let (_, markers) = run(&target, verb.clone());
        assert!(
            markers
                .iter()
                .any(|m| m.contains(" fail ") || m.ends_with(" done")),
            "{verb:?} did not finish: {markers:?}"
        );
        assert!(!marker.exists(), "{verb:?} ran a value");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
