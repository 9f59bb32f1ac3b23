//! `pm2 monit` in a real terminal: tmux runs it at 80x24, `send-keys` drives it and
//! `capture-pane` reads the screen. Ignored (with the reason) when tmux is not installed,
//! failed under CI.

use crate::harness::poll::try_poll;
use crate::harness::{bin, have, require, Pm2};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// How long the screen may take to show what a step waits for.
const SCREEN_TIMEOUT: Duration = Duration::from_secs(20);

/// A tmux server of our own (its own socket in the test folder, so the user's server is never
/// touched) running one session; both are killed on drop, the session by its unique name.
struct Tmux {
    socket: std::path::PathBuf,
    session: String,
    /// Where the shell around monit writes its exit status.
    status_file: std::path::PathBuf,
}

impl Tmux {
    /// Starts `command` in a detached 80x24 session that keeps its pane after the command
    /// exits (so the exit status and the final screen can be read).
    fn start(p: &Pm2, tag: &str) -> Tmux {
        let dir = &p.dir;
        let status_file = dir.join(format!("monit-{tag}.status"));
        let command = format!(
            "env PM2_HOME='{}' '{}' monit; echo $? > '{}'",
            p.home.display(),
            bin(),
            status_file.display()
        );
        let name = format!(
            "pm2rs-monit-{tag}-{}-{}",
            std::process::id(),
            crate::harness::now_ms()
        );
        let conf = dir.join("tmux.conf");
        std::fs::write(&conf, "set -g remain-on-exit on\n").expect("write tmux.conf");
        let tmux = Tmux {
            socket: dir.join(format!("tmux-{tag}.sock")),
            session: name,
            status_file,
        };
        let conf = conf.to_string_lossy().into_owned();
        let out = tmux.run(&[
            "-f",
            &conf,
            "new-session",
            "-d",
            "-x",
            "80",
            "-y",
            "24",
            "-s",
            &tmux.session,
            &command,
        ]);
        assert!(out.status.success(), "tmux new-session failed: {out:?}");
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null());
        if std::env::var_os("TERM").is_none() {
            cmd.env("TERM", "xterm-256color");
        }
        cmd.output().expect("run tmux")
    }

    /// The visible screen, one line per row.
    fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", &self.session]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A pane format variable (`pane_dead`, `pane_dead_status`, `alternate_on`).
    fn var(&self, name: &str) -> String {
        let format = format!("#{{{name}}}");
        let out = self.run(&["display-message", "-p", "-t", &self.session, &format]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn keys(&self, keys: &str) {
        let out = self.run(&["send-keys", "-t", &self.session, keys]);
        assert!(
            out.status.success(),
            "tmux send-keys {keys} failed: {out:?}"
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-session", "-t", &self.session]);
        let _ = self.run(&["kill-server"]);
    }
}

/// Whether some `<word> <digit>` appears: a log line of the ticker, not its name in the list.
fn has_log_line(screen: &str, word: &str) -> bool {
    let prefix = format!("{word} ");
    screen.match_indices(&prefix).any(|(at, _)| {
        screen[at + prefix.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

/// The highest `n` of the `<word> <n>` lines on screen.
fn last_line_number(screen: &str, word: &str) -> Option<u64> {
    let prefix = format!("{word} ");
    screen
        .match_indices(&prefix)
        .filter_map(|(at, _)| {
            let digits: String = screen[at + prefix.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .max()
}

/// Polls the screen until `cond` holds; fails with the last screen after the timeout.
fn wait_screen(p: &Pm2, tmux: &Tmux, what: &str, cond: impl Fn(&str) -> bool) -> String {
    let mut screen = String::new();
    let shown = try_poll(SCREEN_TIMEOUT, || {
        screen = tmux.screen();
        cond(&screen)
    });
    if shown.is_err() {
        let state = format!(
            "pane_dead={} status={}",
            tmux.var("pane_dead"),
            tmux.var("pane_dead_status")
        );
        p.fail(
            &format!("timed out waiting for the screen to show {what} ({state}):\n{screen}"),
            None,
        );
    }
    screen
}

/// Polls `what` until it holds; fails with the screen after the timeout.
fn wait_for(p: &Pm2, tmux: &Tmux, what: &str, cond: impl FnMut() -> bool) {
    if try_poll(SCREEN_TIMEOUT, cond).is_err() {
        p.fail(
            &format!("timed out waiting for {what}:\n{}", tmux.screen()),
            None,
        );
    }
}

/// Waits for monit to exit and checks it exited 0 and left the alternate screen. The status
/// comes from the shell that ran it (tmux 3.3 does not always reap a pane's process, so its
/// `pane_dead_status` cannot be relied on).
fn expect_clean_exit(p: &Pm2, tmux: &Tmux, how: &str) {
    let mut status = String::new();
    wait_for(p, tmux, &format!("monit to exit after {how}"), || {
        status = std::fs::read_to_string(&tmux.status_file).unwrap_or_default();
        status.ends_with('\n')
    });
    let screen = tmux.screen();
    assert_eq!(status.trim(), "0", "exit status after {how}:\n{screen}");
    wait_for(p, tmux, &format!("the normal screen after {how}"), || {
        tmux.var("alternate_on") == "0"
    });
    let screen = tmux.screen();
    assert!(
        !screen.contains("Processes"),
        "the dashboard is still on screen after {how}:\n{screen}"
    );
}

fn start_tickers(p: &Pm2) {
    p.fixture("monit_ticker.sh");
    p.ok(&["start", "monit_ticker.sh", "--name", "alpha", "--", "alpha"]);
    p.ok(&["start", "monit_ticker.sh", "--name", "beta", "--", "beta"]);
    p.wait_online(0);
    p.wait_online(1);
}

#[test]
#[cfg_attr(no_tmux, ignore = "tmux not installed (scripts/install-deps.sh)")]
fn monit_shows_the_list_and_the_chosen_apps_logs_in_tmux() {
    require(have("tmux"), "tmux not installed (scripts/install-deps.sh)");
    let p = Pm2::new("monit");
    start_tickers(&p);
    let tmux = Tmux::start(&p, "keys");

    let screen = wait_screen(&p, &tmux, "both apps and alpha's lines", |s| {
        s.contains("alpha") && s.contains("beta") && has_log_line(s, "alpha")
    });
    assert!(
        !has_log_line(&screen, "beta"),
        "beta's logs while alpha is selected:\n{screen}"
    );
    assert!(screen.contains("online"), "{screen}");
    assert_eq!(
        tmux.var("alternate_on"),
        "1",
        "monit should use the alternate screen"
    );
    // Lines that arrive while monit runs show up: the stream, not only the files' tails.
    let first = last_line_number(&screen, "alpha");
    let screen = wait_screen(&p, &tmux, "new alpha lines", |s| {
        last_line_number(s, "alpha") > first.map(|n| n + 2)
    });
    println!("--- monit at 80x24 ---\n{screen}");

    tmux.keys("Down");
    let screen = wait_screen(&p, &tmux, "beta's lines only", |s| {
        has_log_line(s, "beta") && !has_log_line(s, "alpha")
    });
    println!("--- after Down ---\n{screen}");

    tmux.keys("q");
    expect_clean_exit(&p, &tmux, "q");

    drop(tmux);

    // Again, left with Ctrl-C (a key event in raw mode, not a signal).
    let tmux = Tmux::start(&p, "ctrl-c");
    wait_screen(&p, &tmux, "the dashboard again", |s| {
        has_log_line(s, "alpha")
    });
    tmux.keys("C-c");
    expect_clean_exit(&p, &tmux, "Ctrl-C");
    drop(tmux);

    // SIGTERM from elsewhere: quits at the next frame, terminal restored.
    let tmux = Tmux::start(&p, "term");
    wait_screen(&p, &tmux, "the dashboard a third time", |s| {
        has_log_line(s, "alpha")
    });
    // The pane runs a shell whose child is monit (`env` execs pm2).
    let shell: i32 = tmux.var("pane_pid").parse().expect("pane_pid is a number");
    let pid = match crate::harness::children_of(shell).as_slice() {
        [pid] => *pid,
        other => p.fail(
            &format!("monit's pid under the pane shell: {other:?}"),
            None,
        ),
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("signal monit");
    expect_clean_exit(&p, &tmux, "SIGTERM");
}

#[test]
fn monit_needs_a_terminal() {
    let p = Pm2::new("monit-notty");
    let out = p.run(&["monit"]);
    p.expect_code(&out, 1);
    p.expect_output(&out, "needs a terminal");
}
