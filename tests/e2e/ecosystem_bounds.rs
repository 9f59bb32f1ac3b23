//! Ecosystem files that would hold the CLI up or mislead it: a JavaScript file that never
//! finishes is stopped at a bound the user can set (`PM2_RS_ECOSYSTEM_TIMEOUT_MS`) and its
//! node dies with the CLI (a Ctrl-C, or a kill of the CLI alone); a directory is named a
//! directory; a JSON file cut short is named where it ends, with what is left open.

use crate::harness::child::Spawned;
use crate::harness::*;
use std::path::Path;
use std::time::Duration;

/// A config file that writes its node's pid to `node.pid`, ignores SIGINT and never ends.
const FOREVER: &str = "require('fs').writeFileSync('node.pid', String(process.pid));\n\
                       process.on('SIGINT', () => {});\n\
                       while (true) {}\n";

/// The pid the `FOREVER` file wrote, once it did.
fn node_pid(p: &Pm2) -> i32 {
    let path = p.dir.join("node.pid");
    p.wait_until(Duration::from_secs(20), "node to evaluate the file", || {
        std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
    })
}

/// SIGKILL to the config's node if a failed test left it behind (its pid is the one the
/// file this test wrote reported).
struct EndNode(i32);

impl Drop for EndNode {
    fn drop(&mut self) {
        if alive(self.0) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.0),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

#[test]
fn a_js_file_that_never_finishes_is_stopped_at_the_bound_the_user_sets() {
    let p = Pm2::new("eco_forever");
    std::fs::write(p.dir.join("forever.config.js"), FOREVER).expect("write");
    let out = p.run_env(
        &[("PM2_RS_ECOSYSTEM_TIMEOUT_MS", "700")],
        &["start", "forever.config.js"],
    );
    let _end = EndNode(node_pid(&p));
    p.expect_code(&out, 1);
    p.expect_output(
        &out,
        "[PM2][ERROR] forever.config.js: evaluating the file took longer than 700 ms, and was \
         stopped (set PM2_RS_ECOSYSTEM_TIMEOUT_MS to allow more)",
    );
    // The CLI killed and reaped its node before it answered.
    p.check(
        !alive(node_pid(&p)),
        "the node evaluating the file is gone",
        &out,
    );
    p.check(p.daemon_pid().is_none(), "no daemon started", &out);

    let out = p.run_env(
        &[("PM2_RS_ECOSYSTEM_TIMEOUT_MS", "soon")],
        &["start", "forever.config.js"],
    );
    p.expect_code(&out, 1);
    p.expect_output(
        &out,
        "forever.config.js: PM2_RS_ECOSYSTEM_TIMEOUT_MS=\"soon\" is not a number of milliseconds",
    );
}

#[test]
fn the_node_evaluating_a_file_dies_with_the_cli() {
    let p = Pm2::new("eco_ctrl_c");
    std::fs::write(p.dir.join("forever.config.js"), FOREVER).expect("write");
    let mut cli = Spawned::spawn(
        p.command(&["start", "forever.config.js"]),
        "pm2 start forever.config.js".into(),
    );
    let node = node_pid(&p);
    let _end = EndNode(node);
    // SIGINT to the CLI alone (not its group): the node, which ignores SIGINT and is busy,
    // must still end, at once, with it.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(cli.pid()),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("signal the CLI");
    let (code, _, stderr) = cli
        .try_finish(Duration::from_secs(20))
        .expect("the CLI ends");
    assert_ne!(code, Some(0), "{stderr}");
    p.wait_until(
        Duration::from_secs(20),
        "the node to die with the CLI",
        || (!alive(node)).then_some(()),
    );
    assert!(p.daemon_pid().is_none(), "no daemon started");
}

#[test]
fn a_directory_given_as_an_ecosystem_file_is_named_a_directory() {
    let p = Pm2::new("eco_dir");
    for dir in ["conf.config.js", "conf.json"] {
        std::fs::create_dir_all(p.dir.join(dir)).expect("mkdir");
        let out = p.fails(&["start", dir], 1);
        p.expect_output(
            &out,
            &format!(
                "[PM2][ERROR] {dir}: is a directory, not an ecosystem file (give the file in \
                 it, such as {dir}/ecosystem.config.js)"
            ),
        );
        p.check(p.daemon_pid().is_none(), "no daemon started", &out);
    }
}

/// A 50 MB ecosystem file of one line and one of many lines, both cut in the middle of a
/// string: the error names the end of the file and where the string began.
#[test]
fn a_truncated_50_mb_json_file_is_named_where_it_was_cut() {
    let p = Pm2::new("eco_truncated");
    let apps: Vec<String> = (0..120_000)
        .map(|i| {
            format!(
                "{{\"name\": \"app{i}\", \"script\": \"a.js\", \"env\": {{\"K\": \"{}\"}}}}",
                "v".repeat(360)
            )
        })
        .collect();
    for (file, sep) in [("one-line.json", ", "), ("lines.json", ",\n")] {
        let full = format!("{{\"apps\": [{}]}}", apps.join(sep));
        assert!(full.len() > 50_000_000, "{} bytes", full.len());
        // Cut inside the 360 v's of the middle app's K value.
        let middle = full.len() / 2;
        let value_start = full[..middle].rfind("\"K\": \"").expect("a K") + 5;
        let cut = &full[..value_start + 100];
        std::fs::write(p.dir.join(file), cut).expect("write");
        let last_line = cut.lines().count() + usize::from(cut.ends_with('\n'));
        let line_start = cut.rfind('\n').map_or(0, |i| i + 1);
        let string_col = cut[line_start..value_start].chars().count() + 1;
        let end_col = cut[line_start..].chars().count() + 1;
        let out = p.fails(&["start", file], 1);
        p.expect_output(
            &out,
            &format!(
                "[PM2][ERROR] {file}:{last_line}:{end_col}: the file ends inside the string \
                 that starts at {last_line}:{string_col} (is it cut short?)"
            ),
        );
        std::fs::remove_file(Path::new(&p.dir).join(file)).expect("remove");
    }
}

/// Past 64 MiB, a file, standard input and what node prints for a JavaScript file are each
/// refused with the limit named, and nothing starts.
#[test]
fn ecosystem_text_past_64_mib_is_refused_with_the_limit_named() {
    let p = Pm2::new("eco_too_large");
    let big = format!("{{\"apps\": [], \"pad\": \"{}\"}}", "x".repeat(65 << 20));
    std::fs::write(p.dir.join("huge.json"), &big).expect("write");
    let out = p.fails(&["start", "huge.json"], 1);
    p.expect_output(
        &out,
        "[PM2][ERROR] huge.json: the file holds more than 64 MiB: an ecosystem file may be at \
         most that large",
    );
    let out = p.run_stdin(&big, &["start", "-"]);
    p.expect_code(&out, 1);
    p.expect_output(&out, "<stdin>: standard input holds more than 64 MiB");
    let chatty = "const mb = 'x'.repeat(1 << 20);\n\
                  for (let i = 0; i < 70; i++) process.stdout.write(mb);\n\
                  module.exports = { apps: [] };\n";
    std::fs::write(p.dir.join("chatty.config.js"), chatty).expect("write");
    let out = p.fails(&["start", "chatty.config.js"], 1);
    p.expect_output(&out, "chatty.config.js: node printed more than 64 MiB");
    p.check(p.daemon_pid().is_none(), "no daemon started", &out);
}
