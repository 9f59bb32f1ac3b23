//! [`Object`]: a JSON object under construction whose values borrow from the instance they
//! describe, so that `pm2_env` is built once as keys and references and then either turned
//! into a `serde_json` map (dumps, the child's environment) or written straight to bytes
//! (`jlist`), with the same keys in the same order either way.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a over the key's bytes: the keys are a few bytes long, where SipHash's setup cost
/// was a third of writing `jlist` (the keys are the app's own names, not a peer's input
/// that could aim at collisions).
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// One value of an [`Object`].
#[derive(Clone)]
pub(crate) enum Val<'a> {
    /// A value built for this instance.
    Json(Value),
    /// An environment variable's text.
    Str(&'a str),
    /// An environment variable's text already encoded as a JSON string (the encoding made
    /// once for every instance that shares the environment).
    Raw(&'a [u8]),
    /// The app's `env` object (the instance's environment plus the app's name).
    Env,
}

/// Keys in insertion order; inserting a key again replaces its value in place, as
/// `serde_json`'s ordered map does (PM2's key order depends on it).
#[derive(Default)]
pub(crate) struct Object<'a> {
    entries: Vec<(&'a str, Val<'a>)>,
    index: HashMap<&'a str, usize, BuildHasherDefault<Fnv>>,
}

impl<'a> Object<'a> {
    /// An empty object with room for `n` keys.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Object {
            entries: Vec::with_capacity(n),
            index: HashMap::with_capacity_and_hasher(n, Default::default()),
        }
    }

    /// Sets `key`, in place when it is already there.
    pub(crate) fn insert(&mut self, key: &'a str, value: Val<'a>) {
        match self.index.get(key) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.index.insert(key, self.entries.len());
                self.entries.push((key, value));
            }
        }
    }

    /// Sets `key` to a built value.
    pub(crate) fn put(&mut self, key: &'a str, value: Value) {
        self.insert(key, Val::Json(value));
    }

    /// Whether `key` is set.
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// The entries in order.
    pub(crate) fn entries(&self) -> &[(&'a str, Val<'a>)] {
        &self.entries
    }
}

/// A `pm2_env` object with the `env` object its [`Val::Env`] stands for, and the app's
/// name, which PM2 shows in that object as `{}` when no variable has the name.
pub(crate) struct Pm2Env<'a> {
    /// The top-level keys.
    pub(crate) top: Object<'a>,
    /// The instance's environment.
    pub(crate) env: Object<'a>,
    /// The app's name.
    pub(crate) name: &'a str,
}

impl Pm2Env<'_> {
    /// The object as a `serde_json` map.
    pub(crate) fn to_map(&self) -> Map<String, Value> {
        object_map(&self.top, Some(self))
    }

    /// Appends the object's JSON, exactly the bytes `serde_json` writes for
    /// [`Pm2Env::to_map`].
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        write_object(out, &self.top, Some(self));
    }

    fn env_map(&self) -> Map<String, Value> {
        let mut map = object_map(&self.env, None);
        map.entry(self.name.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        map
    }

    fn write_env(&self, out: &mut Vec<u8>) {
        write_object(out, &self.env, None);
        if !self.env.contains(self.name) {
            out.pop();
            if !self.env.entries.is_empty() {
                out.push(b',');
            }
            write_str(out, self.name);
            out.extend_from_slice(b":{}}");
        }
    }
}

fn object_map(object: &Object<'_>, env: Option<&Pm2Env<'_>>) -> Map<String, Value> {
    let mut map = Map::with_capacity(object.entries.len());
    for (key, value) in &object.entries {
        let value = match value {
            Val::Json(v) => v.clone(),
            Val::Str(s) => Value::String(s.to_string()),
            Val::Raw(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
            Val::Env => env.map_or(Value::Null, |e| Value::Object(e.env_map())),
        };
        map.insert(key.to_string(), value);
    }
    map
}

fn write_object(out: &mut Vec<u8>, object: &Object<'_>, env: Option<&Pm2Env<'_>>) {
    out.push(b'{');
    for (i, (key, value)) in object.entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, key);
        out.push(b':');
        match value {
            Val::Json(v) => write_json(out, v),
            Val::Str(s) => write_str(out, s),
            Val::Raw(bytes) => out.extend_from_slice(bytes),
            Val::Env => match env {
                Some(e) => e.write_env(out),
                None => out.extend_from_slice(b"null"),
            },
        }
    }
    out.push(b'}');
}

/// Appends `s` as a JSON string, escaped as `serde_json` escapes it.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail, and a str always encodes.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Appends a built value as `serde_json` encodes it.
pub(crate) fn write_json(out: &mut Vec<u8>, v: &Value) {
    // Writing into a Vec cannot fail, and a Value always encodes (maps have string keys).
    let _ = serde_json::to_writer(&mut *out, v);
}
