//! The `deploy` section of an ecosystem file, read into [`Target`]s: every key PM2's
//! deploy reads, with numbers and booleans honoured (PM2 ignores a numeric `port`) and
//! each problem reported as `<file>: deploy.<env>.<key>: <what>`.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One environment of the `deploy` section (`deploy.production`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// The environment's name, as the user typed it.
    pub name: String,
    /// `user`: the ssh login name; none means ssh's own choice.
    pub user: Option<String>,
    /// `host`: one or many; each is deployed on its own.
    pub hosts: Vec<String>,
    /// `port`, a number or a numeric string.
    pub port: Option<u16>,
    /// `key`: the identity file (`~` is the local home).
    pub key: Option<String>,
    /// `ssh_options`: each becomes `-o <item>`.
    pub ssh_options: Vec<String>,
    /// `forward-agent` (a non-empty string or `true`): `-A`.
    pub forward_agent: bool,
    /// `ref`: `origin/main`; empty means the latest tag.
    pub git_ref: String,
    /// `repo`: what `git clone` is given at setup.
    pub repo: String,
    /// `path`: the remote base folder (absolute).
    pub path: String,
    /// `releases: N` (beyond PM2): build each deploy in its own release folder, keep N
    /// (see [`crate::releases`]); none means PM2's single work tree.
    pub releases: Option<u32>,
    /// `fetch: 'fast'`: shallow clone and fetch (`--depth=5`).
    pub shallow: bool,
    /// `env`: exported, byte-exact, to every remote hook (keys upper-cased as PM2 does).
    pub env: BTreeMap<String, String>,
    /// The hooks, by their PM2 names.
    pub hooks: Hooks,
    /// Non-fatal remarks (unknown keys, keys without effect here).
    pub warnings: Vec<String>,
}

/// The hook commands of a target; `None` or empty means no hook.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hooks {
    /// `pre-setup`: remote command, or a local script file sent to the remote.
    pub pre_setup: Option<String>,
    /// `post-setup`: remote, in `path/current`.
    pub post_setup: Option<String>,
    /// `pre-deploy-local`: local, in the local working directory, once per run.
    pub pre_deploy_local: Option<String>,
    /// `pre-deploy`: remote, before the fetch.
    pub pre_deploy: Option<String>,
    /// `post-deploy`: remote, after the new code is in place (PM2's default restarts the
    /// apps; see [`default_post_deploy`]).
    pub post_deploy: Option<String>,
}

/// The keys a target may have; others are warned about (PM2 ignores them silently).
const KNOWN: &[&str] = &[
    "user",
    "host",
    "port",
    "key",
    "ssh_options",
    "ref",
    "repo",
    "path",
    "fetch",
    "releases",
    "env",
    "needs_tty",
    "forward-agent",
    "pre-setup",
    "post-setup",
    "pre-deploy-local",
    "pre-deploy",
    "post-deploy",
];

/// The environment names of the `deploy` section, in file order (empty when there is none).
pub fn environments(config: &Value) -> Vec<String> {
    match config.get("deploy") {
        Some(Value::Object(envs)) => envs.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Reads `deploy.<env>` of `config`. `file` is the ecosystem file as typed (for the
/// default post-deploy and messages). Every problem is returned at once, each naming the
/// file and the key.
pub fn read_target(config: &Value, env: &str, file: &str) -> Result<Target, Vec<String>> {
    let Some(section) = config.get("deploy") else {
        return Err(vec![format!(
            "{file}: no `deploy` section (add deploy.{env} with user, host, ref, repo and path)"
        )]);
    };
    let Some(obj) = section.get(env) else {
        let known = environments(config).join(", ");
        return Err(vec![format!(
            "{env} environment is not defined in {file} (its deploy environments: {})",
            if known.is_empty() { "none" } else { &known }
        )]);
    };
    let Value::Object(obj) = obj else {
        return Err(vec![format!("{file}: deploy.{env}: expected an object")]);
    };
    let mut r = Reader {
        obj,
        at: format!("{file}: deploy.{env}"),
        errors: Vec::new(),
    };
    let target = r.target(env, file);
    if r.errors.is_empty() {
        Ok(target)
    } else {
        Err(r.errors)
    }
}

/// PM2's post-deploy when none is given: restart the apps of the same file, in that
/// environment. The file goes as typed when relative (the remote runs it in `current`);
/// an absolute local path cannot mean anything remotely, so its file name is used.
pub fn default_post_deploy(file: &str, env: &str) -> String {
    let remote_file = if file.starts_with('/') {
        std::path::Path::new(file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.to_string())
    } else {
        file.to_string()
    };
    format!(
        "pm2 startOrRestart {} --env {}",
        crate::quote::sh_quote(&remote_file),
        crate::quote::sh_quote(env)
    )
}

struct Reader<'a> {
    obj: &'a Map<String, Value>,
    at: String,
    errors: Vec<String>,
}

impl Reader<'_> {
    fn target(&mut self, env: &str, file: &str) -> Target {
        let mut t = Target {
            name: env.to_string(),
            user: self.user(),
            hosts: self.hosts(),
            port: self.port(),
            key: self.string("key"),
            ssh_options: self.strings("ssh_options"),
            forward_agent: self.flag("forward-agent"),
            git_ref: self.required("ref").unwrap_or_default(),
            repo: self.required("repo").unwrap_or_default(),
            path: self.path(),
            releases: self.releases(),
            shallow: self.string("fetch").as_deref() == Some("fast"),
            env: self.env(),
            hooks: self.hooks(),
            warnings: Vec::new(),
        };
        self.check_ref(&t.git_ref);
        self.check_not_option("repo", &t.repo);
        if !self.obj.contains_key("post-deploy") {
            t.hooks.post_deploy = Some(default_post_deploy(file, env));
        }
        t.warnings = self.warnings();
        t
    }

    fn error(&mut self, key: &str, msg: &str) {
        self.errors.push(format!("{}.{key}: {msg}", self.at));
    }

    fn string(&mut self, key: &str) -> Option<String> {
        match self.obj.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => {
                self.error(key, &format!("expected a string, got {other}"));
                None
            }
        }
    }

    fn required(&mut self, key: &str) -> Option<String> {
        if !self.obj.contains_key(key) {
            self.error(key, "missing (PM2 requires it)");
            return None;
        }
        self.string(key)
    }

    fn flag(&mut self, key: &str) -> bool {
        match self.obj.get(key) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => !s.is_empty(),
            Some(other) => {
                self.error(
                    key,
                    &format!("expected true, false or a string, got {other}"),
                );
                false
            }
        }
    }

    fn user(&mut self) -> Option<String> {
        let user = self.string("user")?;
        if user.is_empty() {
            self.error("user", "is empty (leave it out to let ssh choose the user)");
        }
        self.check_not_option("user", &user);
        Some(user)
    }

    fn hosts(&mut self) -> Vec<String> {
        let hosts = match self.obj.get("host") {
            None => {
                self.error("host", "missing (a host name or a list of them)");
                return Vec::new();
            }
            Some(Value::String(h)) => vec![h.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|item| match item {
                    Value::String(h) => Some(h.clone()),
                    other => {
                        self.error("host", &format!("expected host names, got {other}"));
                        None
                    }
                })
                .collect(),
            Some(other) => {
                self.error(
                    "host",
                    &format!("expected a host name or a list, got {other}"),
                );
                return Vec::new();
            }
        };
        if hosts.is_empty() && self.errors.is_empty() {
            self.error("host", "is an empty list");
        }
        for h in &hosts {
            if h.is_empty() || h.starts_with('-') || h.chars().any(char::is_whitespace) {
                self.error("host", &format!("{h:?} is not a host name"));
            }
        }
        hosts
    }

    fn port(&mut self) -> Option<u16> {
        let text = match self.obj.get("port")? {
            Value::Number(n) => n.to_string(),
            Value::String(s) if s.is_empty() => return None,
            Value::String(s) => s.clone(),
            Value::Null => return None,
            other => other.to_string(),
        };
        match text.parse::<u16>() {
            Ok(p) if p > 0 => Some(p),
            _ => {
                self.error("port", &format!("{text} is not a port (1 to 65535)"));
                None
            }
        }
    }

    fn releases(&mut self) -> Option<u32> {
        let value = self.obj.get("releases")?;
        let n = match value {
            Value::Null => return None,
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        match n.and_then(|n| u32::try_from(n).ok()).filter(|n| *n >= 1) {
            Some(n) => Some(n),
            None => {
                self.error(
                    "releases",
                    &format!("{value} is not a count of releases to keep (1 or more)"),
                );
                None
            }
        }
    }

    fn strings(&mut self, key: &str) -> Vec<String> {
        match self.obj.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) if s.is_empty() => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(other) => {
                self.error(
                    key,
                    &format!("expected a string or a list of strings, got {other}"),
                );
                Vec::new()
            }
        }
    }

    fn path(&mut self) -> String {
        let path = self.required("path").unwrap_or_default();
        if !path.is_empty() && !path.starts_with('/') {
            self.error(
                "path",
                &format!("{path:?} is relative: give the absolute folder on the remote host"),
            );
        }
        path
    }

    fn check_ref(&mut self, git_ref: &str) {
        self.check_not_option("ref", git_ref);
    }

    fn check_not_option(&mut self, key: &str, value: &str) {
        if value.starts_with('-') {
            self.error(
                key,
                &format!("{value:?} starts with '-', which git or ssh would read as an option"),
            );
        }
    }

    fn env(&mut self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let Some(value) = self.obj.get("env") else {
            return env;
        };
        let Value::Object(vars) = value else {
            self.error(
                "env",
                &format!("expected an object of variables, got {value}"),
            );
            return env;
        };
        for (k, v) in vars {
            let name = k.to_uppercase();
            let valid = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
            if !valid {
                self.error(
                    &format!("env.{k}"),
                    "not a variable name (letters, digits, _)",
                );
                continue;
            }
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            env.insert(name, text);
        }
        env
    }

    fn hooks(&mut self) -> Hooks {
        let mut hook = |key| self.string(key).filter(|s| !s.trim().is_empty());
        Hooks {
            pre_setup: hook("pre-setup"),
            post_setup: hook("post-setup"),
            pre_deploy_local: hook("pre-deploy-local"),
            pre_deploy: hook("pre-deploy"),
            post_deploy: hook("post-deploy"),
        }
    }

    fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .obj
            .keys()
            .filter(|k| !KNOWN.contains(&k.as_str()))
            .map(|k| format!("{}.{k}: unknown key, ignored", self.at))
            .collect();
        if self
            .obj
            .get("needs_tty")
            .is_some_and(|v| v != &Value::Bool(false))
        {
            out.push(format!(
                "{}.needs_tty: ignored (the remote script comes on stdin, so no terminal is allocated)",
                self.at
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target(env: Value) -> Result<Target, Vec<String>> {
        read_target(&json!({ "deploy": { "prod": env } }), "prod", "eco.json")
    }

    #[test]
    fn every_key_is_read_with_numbers_and_lists() {
        let t = target(json!({
            "user": "deploy", "host": ["a", "b"], "port": 2222, "key": "~/k",
            "ssh_options": "StrictHostKeyChecking=no", "ref": "origin/main", "repo": "r",
            "path": "/srv/app", "fetch": "fast", "forward-agent": true,
            "env": { "node_env": "production", "n": 3 }, "pre-deploy": "make",
        }))
        .expect("valid");
        assert_eq!(t.hosts, ["a", "b"]);
        assert_eq!(t.port, Some(2222));
        assert_eq!(t.ssh_options, ["StrictHostKeyChecking=no"]);
        assert!(t.shallow && t.forward_agent);
        assert_eq!(t.env["NODE_ENV"], "production");
        assert_eq!(t.env["N"], "3");
        assert_eq!(t.hooks.pre_deploy.as_deref(), Some("make"));
        assert_eq!(
            t.hooks.post_deploy.as_deref(),
            Some("pm2 startOrRestart 'eco.json' --env 'prod'")
        );
        assert_eq!(
            target(json!({"host": "h", "port": "22", "ref": "", "repo": "r", "path": "/p"}))
                .map(|t| t.port),
            Ok(Some(22))
        );
    }

    #[test]
    fn each_bad_key_is_named_with_the_file() {
        let errors = target(json!({
            "user": "", "host": "-oProxyCommand=x", "port": 70000, "ref": "--upload-pack=x",
            "path": "rel", "env": { "a-b": "x" },
        }))
        .expect_err("invalid");
        let all = errors.join("\n");
        for key in ["user", "host", "port", "ref", "repo", "path", "env.a-b"] {
            assert!(
                all.contains(&format!("eco.json: deploy.prod.{key}:")),
                "{key} in {all}"
            );
        }
    }

    #[test]
    fn an_explicit_empty_post_deploy_is_no_hook() {
        let t =
            target(json!({"host": "h", "ref": "r", "repo": "r", "path": "/p", "post-deploy": ""}));
        assert_eq!(t.expect("valid").hooks.post_deploy, None);
    }
}
