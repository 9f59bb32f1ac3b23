//! Start options given to `restart`, `reload` or `start <name|id>` (and to `start <file>`
//! of a stopped app): PM2 merges them into the app's stored definition before starting it
//! again, and a value of `null` removes the key (PM2's `extendMix`), which here means the
//! key goes back to PM2's default.

use crate::model::AppSpec;
use serde::{Deserialize, Serialize};

/// One key's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", content = "value", rename_all = "snake_case")]
pub enum Change<T> {
    /// The key takes this value.
    Set(T),
    /// The key goes back to PM2's default (the user typed `null`).
    Clear,
}

impl<T> Change<T> {
    /// The same change with the value transformed.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Change<U> {
        match self {
            Change::Set(v) => Change::Set(f(v)),
            Change::Clear => Change::Clear,
        }
    }
}

macro_rules! patch {
    ($($(#[$doc:meta])* $field:ident: $ty:ty,)*) => {
        /// The keys of an app definition a restart may change; a key left `None` keeps its
        /// value. The keys are those PM2's restart applies and that pm2-rs reads again when
        /// it starts the process (paths, the working directory, the instance count and the
        /// mode are fixed once the app is registered, in PM2 too).
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        pub struct SpecPatch {
            $($(#[$doc])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub $field: Option<Change<$ty>>,)*
        }

        impl SpecPatch {
            /// Whether the patch changes nothing.
            pub fn is_empty(&self) -> bool {
                true $(&& self.$field.is_none())*
            }

            /// Applies every change to `spec`, a cleared key taking [`AppSpec::default`]'s
            /// value.
            pub fn apply(&self, spec: &mut AppSpec) {
                let defaults = AppSpec::default();
                $(match &self.$field {
                    Some(Change::Set(v)) => spec.$field = v.clone(),
                    Some(Change::Clear) => spec.$field = defaults.$field.clone(),
                    None => {}
                })*
            }
        }
    };
}

patch! {
    /// `--name`: renames the app (its log and pid files keep their names, as in PM2).
    name: String,
    /// `--namespace`.
    namespace: String,
    /// `--node-args` / `--interpreter-args`.
    interpreter_args: Vec<String>,
    /// The arguments after `--`.
    args: Vec<String>,
    /// `--no-autorestart`.
    autorestart: bool,
    /// `--no-treekill`.
    treekill: bool,
    /// `--stop-exit-codes`.
    stop_exit_codes: Vec<i32>,
    /// `--min-uptime`.
    min_uptime: u64,
    /// `--max-restarts`.
    max_restarts: u32,
    /// `--restart-delay`.
    restart_delay: Option<u64>,
    /// `--exp-backoff-restart-delay`.
    exp_backoff_restart_delay: Option<u64>,
    /// `--kill-timeout`.
    kill_timeout: Option<u64>,
    /// `--log-date-format` or `--time`.
    log_date_format: Option<String>,
    /// `--log-type`.
    log_type: Option<String>,
    /// `--watch` (on `start`; `restart --watch` toggles instead).
    watch: bool,
    /// `--watch <paths>`, absolute.
    watch_paths: Vec<String>,
    /// `--ignore-watch`.
    ignore_watch: Vec<String>,
    /// `--watch-delay`.
    watch_delay: Option<u64>,
    /// `--wait-ready`.
    wait_ready: bool,
    /// `--listen-timeout`.
    listen_timeout: Option<u64>,
    /// `--shutdown-with-message`.
    shutdown_with_message: bool,
    /// `--max-memory-restart`.
    max_memory_restart: Option<u64>,
    /// `--cron-restart`.
    cron_restart: Option<String>,
    /// `--no-automation`.
    automation: bool,
    /// `--source-map-support`.
    source_map_support: bool,
    /// `--disable-source-map-support`.
    disable_source_map_support: bool,
    /// `PM2_DEEP_MONITORING` in the CLI's environment.
    deep_monitoring: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_changes_clear_restores_the_default_and_none_keeps() {
        let mut spec = AppSpec {
            name: "a".into(),
            interpreter_args: vec!["--x".into()],
            max_memory_restart: Some(5),
            kill_timeout: Some(9),
            ..AppSpec::default()
        };
        let patch = SpecPatch {
            name: Some(Change::Set("b".into())),
            interpreter_args: Some(Change::Clear),
            max_memory_restart: Some(Change::Set(Some(7))),
            ..SpecPatch::default()
        };
        assert!(!patch.is_empty() && SpecPatch::default().is_empty());
        patch.apply(&mut spec);
        assert_eq!(spec.name, "b");
        assert!(spec.interpreter_args.is_empty());
        assert_eq!(spec.max_memory_restart, Some(7));
        assert_eq!(spec.kill_timeout, Some(9));
    }

    #[test]
    fn wire_form_omits_untouched_keys() {
        let patch = SpecPatch {
            cron_restart: Some(Change::Clear),
            ..SpecPatch::default()
        };
        let text = serde_json::to_string(&patch).unwrap();
        assert_eq!(text, r#"{"cron_restart":{"op":"clear"}}"#);
        assert_eq!(serde_json::from_str::<SpecPatch>(&text).unwrap(), patch);
    }
}
