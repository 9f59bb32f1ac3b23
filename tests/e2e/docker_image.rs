//! `examples/Dockerfile` without a Docker engine: the image is laid out in a temporary
//! root from the Dockerfile itself (its build stage's `install-pm2.sh`, its final stage's
//! `COPY`, `WORKDIR`, `ENV` and `CMD`), and its `CMD` runs as PID 1 of a new PID
//! namespace (`unshare --pid --fork --mount-proc`, as `docker run` would start it). The
//! app answers HTTP on loopback; SIGTERM to PID 1 (`docker stop`) stops every app, each
//! exiting by itself, and PID 1 exits 0.
//!
//! An instruction this test does not know how to lay out fails it, so the Dockerfile and
//! the layout tested cannot drift apart. The binary laid out is the one under test rather
//! than the build stage's `cargo build --release`.

use crate::harness::child::Spawned;
use crate::harness::cluster::free_port;
use crate::harness::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);
/// The script the build stage runs to lay pm2-rs out.
const INSTALL_SCRIPT: &str = "examples/docker/install-pm2.sh";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Dockerfile's instructions, one per entry (continuations joined, comments dropped),
/// as (keyword in upper case, the rest).
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if current.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(line);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
        .iter()
        .map(|i| {
            let (key, rest) = i.split_once(char::is_whitespace).unwrap_or((i, ""));
            (key.to_ascii_uppercase(), rest.trim().to_string())
        })
        .collect()
}

/// What `docker run` would start: the final stage's working folder, environment and
/// command, with the image's files under `root`.
struct Image {
    workdir: String,
    env: Vec<(String, String)>,
    cmd: Vec<String>,
}

/// `cp -a from to` (symlinks and modes kept, as `COPY` keeps them); a trailing `/` on
/// `from` copies the folder's content.
fn copy(from: &Path, to: &Path, content_only: bool) {
    std::fs::create_dir_all(to).expect("COPY destination");
    let source = if content_only {
        from.join(".")
    } else {
        from.to_path_buf()
    };
    let out = Command::new("cp")
        .arg("-a")
        .arg(&source)
        .arg(to)
        .output()
        .expect("cp");
    assert!(out.status.success(), "COPY {}: {out:?}", from.display());
}

/// The build stage: the one `RUN` that calls [`INSTALL_SCRIPT`] is run into `stage`
/// (other `RUN`s build the binary, which the test brings itself).
fn lay_out_build_stage(stage: &Path, run: &str) {
    let words: Vec<&str> = run.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == INSTALL_SCRIPT)
        .expect("the RUN of install-pm2.sh");
    let dest = words.get(at + 1).expect("install-pm2.sh ROOT");
    let out = Command::new("sh")
        .arg(repo().join(INSTALL_SCRIPT))
        .arg(stage.join(dest.trim_start_matches('/')))
        .arg(bin())
        .output()
        .expect("sh install-pm2.sh");
    assert!(out.status.success(), "install-pm2.sh: {out:?}");
}

/// `COPY [--from=build] SRC DEST` of the final stage into `root`.
fn lay_out_copy(root: &Path, stage: &Path, args: &str) {
    let words: Vec<&str> = args.split_whitespace().collect();
    let (base, paths) = match words.split_first() {
        Some((from, rest)) if from.starts_with("--from=") => (stage, rest),
        _ => (repo(), &words[..]),
    };
    let [src, dest] = paths else {
        panic!("COPY {args}: one source and one destination expected");
    };
    let from = base.join(src.trim_start_matches('/'));
    copy(
        &from,
        &root.join(dest.trim_start_matches('/')),
        src.ends_with('/'),
    );
}

/// Lays the Dockerfile's image out under `root` (the build stage under `stage`).
fn lay_out(dockerfile: &str, root: &Path, stage: &Path) -> Image {
    let mut image = Image {
        workdir: "/".into(),
        env: Vec::new(),
        cmd: Vec::new(),
    };
    let mut stages = 0;
    for (key, rest) in instructions(dockerfile) {
        if key == "FROM" {
            stages += 1;
            continue;
        }
        if stages < 2 {
            if key == "RUN" && rest.contains(INSTALL_SCRIPT) {
                lay_out_build_stage(stage, &rest);
            }
            continue;
        }
        match key.as_str() {
            "COPY" => lay_out_copy(root, stage, &rest),
            "WORKDIR" => image.workdir = rest,
            "ENV" => {
                let (k, v) = rest.split_once('=').expect("ENV KEY=VALUE");
                image.env.push((k.to_string(), v.to_string()));
            }
            "CMD" => image.cmd = serde_json::from_str(&rest).expect("CMD as a JSON array"),
            "EXPOSE" | "LABEL" => {}
            _ => panic!("the docker test cannot lay out `{key} {rest}`: teach it (this file)"),
        }
    }
    assert_eq!(stages, 2, "a build stage and the image");
    image
}

/// `unshare --pid --fork --mount-proc <cmd>` in the image's working folder, its
/// `/usr/local/bin` first on PATH; `port` is the app's.
fn container(p: &Pm2, root: &Path, image: &Image, port: u16) -> Command {
    let bin_dir = root.join("usr/local/bin");
    let program: PathBuf = bin_dir.join(&image.cmd[0]);
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc"])
        .arg(program)
        .args(&image.cmd[1..])
        .current_dir(root.join(image.workdir.trim_start_matches('/')))
        .env("PATH", path)
        .env("PM2_HOME", &p.home)
        .env("PORT", port.to_string())
        .envs(image.env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// Lays the image out, runs it as PID 1 of a PID namespace, checks it serves, then stops
/// it as `docker stop` does. `runtime` replaces the image's `pm2-runtime` (a reference run).
fn run_the_image(p: &Pm2, runtime: Option<PathBuf>) {
    require(
        nix::unistd::geteuid().is_root() && have("unshare"),
        "needs root and unshare",
    );
    let dockerfile =
        std::fs::read_to_string(repo().join("examples/Dockerfile")).expect("examples/Dockerfile");
    let (root, stage) = (p.dir.join("image"), p.dir.join("build-stage"));
    let image = lay_out(&dockerfile, &root, &stage);
    assert_eq!(image.cmd, ["pm2-runtime", "ecosystem.config.js"]);
    let in_image = root.join("usr/local/bin/pm2-runtime");
    assert!(in_image.is_file(), "the image has {}", in_image.display());
    if let Some(other) = runtime {
        std::fs::remove_file(&in_image).expect("replace pm2-runtime");
        std::os::unix::fs::symlink(other, &in_image).expect("the reference pm2-runtime");
    }

    let port = free_port();
    let rt = Spawned::spawn(
        container(p, &root, &image, port),
        "unshare --pid --fork --mount-proc pm2-runtime ecosystem.config.js".into(),
    );
    let mut workers = std::collections::HashSet::new();
    p.wait_until(T, "both workers answering HTTP", || {
        if let Ok(reply) = http::get(port, "/") {
            workers.insert(reply.text());
        }
        workers.len() == 2
    });
    assert!(
        workers.iter().all(|w| w.ends_with("(production)\n")),
        "the image's ENV reaches the app: {workers:?}"
    );
    let pid1 = poll_until(T, "the runtime inside the namespace", || {
        children_of(rt.pid()).first().copied()
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid1),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM to PID 1");
    let (code, out, err) = rt.finish(T);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("listening on"), "app output streamed: {out}");
    // Each worker exited by itself (code 0) before PID 1 did, not killed with the
    // namespace (pm2-rs says so in pm2.log, PM2 on its stdout).
    let log = std::fs::read_to_string(p.home.join("pm2.log")).unwrap_or_default() + &out;
    let exits = log
        .lines()
        .filter(|l| l.contains("App [web:") && l.contains("exited with code [0]"))
        .count();
    assert_eq!(exits, 2, "both workers stopped gracefully:\n{log}");
}

#[test]
#[cfg_attr(no_pid_namespace, ignore = "needs root and unshare")]
fn the_example_image_runs_pm2_runtime_as_pid_1_and_stops_on_sigterm() {
    run_the_image(&Pm2::new("docker_image"), None);
}

#[test]
#[ignore = "reference run against PM2 7: PM2_REF=.../node_modules/.bin/pm2"]
fn reference_the_example_image_runs_pm2_runtime_as_pid_1_and_stops_on_sigterm() {
    let p = Pm2::reference("docker_image_ref");
    let pm2 = PathBuf::from(std::env::var_os("PM2_REF").unwrap_or_default());
    run_the_image(&p, Some(pm2.with_file_name("pm2-runtime")));
}
