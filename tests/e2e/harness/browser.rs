//! Headless Chromium driven over the DevTools protocol (the `pm2-inspector` client), for
//! the dashboard's browser test: launched with the flags this machine needs (no sandbox,
//! no background networking, a fresh profile), in its own process group, which is ended
//! when the browser is dropped.

use pm2_inspector::Session;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long one protocol call may take.
const CALL: Duration = Duration::from_secs(10);
/// How long a navigation may take: `Page.navigate` answers only once the new document
/// committed, and the first one of a fresh profile starts the renderer process too. On
/// this 2-core machine at load 8 (the fleet test: two daemons, their apps, other test
/// sessions), the launch took 12.3 s, a first navigation to `about:blank` 1.2 s and the
/// dashboard's page 0.42 s, while the dashboard answered `GET /` in 9 ms: the time is
/// Chromium's, under load, and at the load 12-17 of earlier runs it passed [`CALL`].
/// Bounded by the same 30 s as the tests' other waits.
const NAVIGATE: Duration = Duration::from_secs(30);

/// A running browser and its one page.
pub struct Browser {
    page: Session,
    _group: Group,
}

/// The browser's process group, ended on drop (also when the launch fails half-way).
struct Group(Child);

impl Browser {
    /// Launches Chromium with a new profile under `dir` and opens a session on its page.
    pub fn launch(dir: &Path) -> Result<Browser, String> {
        Browser::launch_with(dir, &[])
    }

    /// [`Browser::launch`] with extra command line flags (e.g. accepting a test
    /// certificate).
    pub fn launch_with(dir: &Path, flags: &[&str]) -> Result<Browser, String> {
        let profile = dir.join("chromium-profile");
        std::fs::create_dir_all(&profile).map_err(|e| e.to_string())?;
        let mut cmd = Command::new("chromium");
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-port=0",
            "--window-size=1400,900",
        ])
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let group = Group(
            cmd.spawn()
                .map_err(|e| format!("cannot start chromium: {e}"))?,
        );
        let port = super::poll_until(
            Duration::from_secs(30),
            "chromium's DevToolsActivePort",
            || {
                std::fs::read_to_string(profile.join("DevToolsActivePort"))
                    .ok()
                    .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u16>().ok()))
            },
        );
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let targets = pm2_inspector::targets::list(addr, CALL).map_err(|e| e.to_string())?;
        let page = targets
            .iter()
            .find(|t| t.web_socket_debugger_url.contains("/devtools/page/"))
            .ok_or("chromium lists no page")?;
        let page = Session::connect(addr, &page.web_socket_debugger_url, CALL)
            .map_err(|e| e.to_string())?;
        Ok(Browser {
            page,
            _group: group,
        })
    }

    /// Opens `url` in the page and waits (bounded polling) until its document has loaded.
    pub fn navigate(&mut self, url: &str) -> Result<(), String> {
        self.page
            .call("Page.navigate", json!({ "url": url }), NAVIGATE)
            .map_err(|e| format!("Page.navigate {url}: {e}"))?;
        super::poll::try_poll(NAVIGATE, || {
            self.eval("document.readyState").ok() == Some(json!("complete"))
        })
        .map_err(|e| format!("{url} did not finish loading within {:?}", e.after))
    }

    /// The value of a JavaScript expression in the page (`null` when it throws).
    pub fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        )?;
        Ok(r.get("result")
            .and_then(|r| r.get("value"))
            .cloned()
            .unwrap_or(Value::Null))
    }

    /// A PNG of the page, written to `path`.
    pub fn screenshot(&mut self, path: &Path) -> Result<(), String> {
        use base64::Engine;
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}))?;
        let data = r
            .get("data")
            .and_then(Value::as_str)
            .ok_or("no screenshot data")?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| e.to_string())?;
        std::fs::write(path, png).map_err(|e| e.to_string())
    }

    fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.page
            .call(method, params, CALL)
            .map_err(|e| e.to_string())
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // The whole group: the browser and its renderer, GPU and zygote processes.
        let pgid = self.0.id() as i32;
        // SAFETY: kill(2) on the process group this test created; no memory is touched.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.0.wait();
    }
}
