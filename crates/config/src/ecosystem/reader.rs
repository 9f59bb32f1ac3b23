//! One app object of a file, with its keys resolved to canonical names, read value by value
//! while every problem is collected under its key path (`apps[1].max_memory_restart`).

use super::fields;
use super::keys::{classify, suggest, Key, Support};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// An app object being read.
pub(crate) struct AppReader<'a> {
    /// `apps[1]`: how messages name this app.
    pub prefix: String,
    /// Canonical option name → (the key as written, its value). Nulls count as absent.
    options: BTreeMap<&'static str, (&'a str, &'a Value)>,
    /// `env_<name>` blocks by name.
    pub env_blocks: BTreeMap<String, &'a Value>,
    /// Values that do not fit, already prefixed with their key path.
    pub errors: Vec<String>,
    /// Unknown keys, unsupported options, missing env blocks.
    pub warnings: Vec<String>,
}

impl<'a> AppReader<'a> {
    /// Classifies every key; unknown ones become warnings with a suggestion.
    pub fn new(prefix: String, obj: &'a Map<String, Value>) -> Self {
        let mut reader = AppReader {
            prefix,
            options: BTreeMap::new(),
            env_blocks: BTreeMap::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
        };
        for (key, value) in obj {
            match classify(key) {
                Key::Option(canonical, _) => {
                    // The canonical spelling wins over an alias given alongside it.
                    let exact = key == canonical;
                    let taken = reader
                        .options
                        .get(canonical)
                        .is_some_and(|(k, _)| *k == canonical);
                    if !value.is_null() && (exact || !taken) {
                        reader.options.insert(canonical, (key.as_str(), value));
                    }
                }
                Key::EnvBlock(name) => {
                    reader.env_blocks.insert(name, value);
                }
                Key::Unknown => {
                    let hint = suggest(key)
                        .map(|s| format!(" (did you mean {s}?)"))
                        .unwrap_or_default();
                    let msg = format!("{}.{key}: unknown option{hint}", reader.prefix);
                    reader.warnings.push(msg);
                }
            }
        }
        reader
    }

    /// Whether the option was given (and is not null).
    pub fn has(&self, key: &str) -> bool {
        self.options.contains_key(key)
    }

    /// Reads an option with `parse`; a misfit is recorded and gives `None`.
    pub fn get<T>(
        &mut self,
        key: &'static str,
        parse: impl Fn(&Value) -> Result<T, String>,
    ) -> Option<T> {
        let (written, value) = *self.options.get(key)?;
        match parse(value) {
            Ok(v) => Some(v),
            Err(msg) => {
                self.error(written, &msg);
                None
            }
        }
    }

    /// Records a problem with the option `key` (named as the user wrote it if present).
    pub fn error_at(&mut self, key: &str, msg: &str) {
        let written = self.options.get(key).map(|(k, _)| *k).unwrap_or(key);
        self.error(written, msg);
    }

    fn error(&mut self, written: &str, msg: &str) {
        // An option read twice (e.g. `script` for the name and for the start) reports once.
        let line = format!("{}.{written}: {msg}", self.prefix);
        if !self.errors.contains(&line) {
            self.errors.push(line);
        }
    }

    /// A string option.
    pub fn string(&mut self, key: &'static str) -> Option<String> {
        self.get(key, fields::string)
    }

    /// A boolean option.
    pub fn flag(&mut self, key: &'static str) -> Option<bool> {
        self.get(key, fields::boolean)
    }

    /// A duration option, in the decimal-ms string form [`crate::StartOptions`] takes.
    pub fn duration(&mut self, key: &'static str) -> Option<String> {
        self.get(key, fields::duration).map(|ms| ms.to_string())
    }

    /// Validates the options pm2-rs does not act on yet and warns about those that are set
    /// to something other than "off".
    pub fn check_unsupported(&mut self) {
        let keys: Vec<&'static str> = self
            .options
            .keys()
            .copied()
            .filter(|k| matches!(classify(k), Key::Option(_, Support::Unsupported)))
            .collect();
        for key in keys {
            let active = match key {
                "kill_retry_time" => self.get(key, fields::duration).map(|_| true),
                "watch_options" => self.get(key, object).map(|_| true),
                "source_map_support" | "force" => self.flag(key),
                _ => self.get(key, fields::string).map(|_| true),
            };
            if active == Some(true) {
                let written = self.options[key].0;
                let msg = format!("{}.{written}: accepted but not supported yet", self.prefix);
                self.warnings.push(msg);
            }
        }
    }
}

fn object(v: &Value) -> Result<(), String> {
    match v {
        Value::Object(_) => Ok(()),
        other => Err(format!("expected an object, got {}", fields::show(other))),
    }
}
