//! [`SharedEnv`]: an app's environment, shared between every spec and instance that has the
//! same one (apps started from one shell carry the same few kilobytes of variables), and
//! copied only when one of them changes it. [`EnvPool`] finds the copy to share.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Weak};

/// The variables, by name; read as a `BTreeMap`, copied on the first write while shared.
/// On the wire and in PM2's files it is the plain object it always was.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SharedEnv(Arc<BTreeMap<String, String>>);

impl SharedEnv {
    /// Whether both are the one same copy (not merely equal).
    pub fn shares_with(&self, other: &SharedEnv) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The identity of the copy: equal for every holder of the one same copy, so that what
    /// is done once per environment (sending it, encoding it) is done once per copy.
    pub fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}

impl Deref for SharedEnv {
    type Target = BTreeMap<String, String>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for SharedEnv {
    /// Copies the variables first when another spec shares them.
    fn deref_mut(&mut self) -> &mut Self::Target {
        Arc::make_mut(&mut self.0)
    }
}

impl std::fmt::Debug for SharedEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<BTreeMap<String, String>> for SharedEnv {
    fn from(map: BTreeMap<String, String>) -> Self {
        SharedEnv(Arc::new(map))
    }
}

impl<const N: usize> From<[(String, String); N]> for SharedEnv {
    fn from(pairs: [(String, String); N]) -> Self {
        BTreeMap::from(pairs).into()
    }
}

impl FromIterator<(String, String)> for SharedEnv {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        BTreeMap::from_iter(iter).into()
    }
}

impl<'a> IntoIterator for &'a SharedEnv {
    type Item = (&'a String, &'a String);
    type IntoIter = std::collections::btree_map::Iter<'a, String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Serialize for SharedEnv {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for SharedEnv {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::deserialize(d).map(SharedEnv::from)
    }
}

/// The environments in use, by content: [`EnvPool::share`] replaces an environment with
/// the copy an earlier app already holds. Holds no environment alive itself.
#[derive(Default)]
pub struct EnvPool {
    by_hash: HashMap<u64, Vec<Weak<BTreeMap<String, String>>>>,
    shares: u64,
}

/// After this many calls, entries whose apps are all gone are dropped.
const PRUNE_EVERY: u64 = 64;

impl EnvPool {
    /// Makes `env` the copy already in use with the same variables, if there is one; else
    /// remembers it for the next app.
    pub fn share(&mut self, env: &mut SharedEnv) {
        self.shares += 1;
        if self.shares % PRUNE_EVERY == 0 {
            self.by_hash.retain(|_, copies| {
                copies.retain(|w| w.strong_count() > 0);
                !copies.is_empty()
            });
        }
        let mut hasher = DefaultHasher::new();
        env.0.hash(&mut hasher);
        let copies = self.by_hash.entry(hasher.finish()).or_default();
        copies.retain(|w| w.strong_count() > 0);
        let found = copies
            .iter()
            .filter_map(Weak::upgrade)
            .find(|c| **c == *env.0);
        match found {
            Some(copy) => env.0 = copy,
            None => copies.push(Arc::downgrade(&env.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> SharedEnv {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn equal_environments_end_up_as_one_copy_and_others_stay_apart() {
        let mut pool = EnvPool::default();
        let (mut a, mut b, mut c) = (env(&[("A", "1")]), env(&[("A", "1")]), env(&[("A", "2")]));
        pool.share(&mut a);
        pool.share(&mut b);
        pool.share(&mut c);
        assert!(a.shares_with(&b));
        assert!(!a.shares_with(&c));
        assert_eq!(*c, *env(&[("A", "2")]));
    }

    #[test]
    fn a_write_copies_a_shared_environment_first() {
        let mut pool = EnvPool::default();
        let (mut a, mut b) = (env(&[("A", "1")]), env(&[("A", "1")]));
        pool.share(&mut a);
        pool.share(&mut b);
        b.insert("B".into(), "2".into());
        assert_eq!(*a, *env(&[("A", "1")]));
        assert_eq!(b.len(), 2);
        assert!(!a.shares_with(&b));
    }

    #[test]
    fn the_pool_keeps_nothing_alive() {
        let mut pool = EnvPool::default();
        let mut a = env(&[("A", "1")]);
        pool.share(&mut a);
        drop(a);
        let mut b = env(&[("A", "1")]);
        let before = b.clone();
        pool.share(&mut b);
        assert!(b.shares_with(&before), "a fresh copy, not a dead one");
    }

    #[test]
    fn on_the_wire_it_is_a_plain_object() {
        let a = env(&[("B", "2"), ("A", "1")]);
        let text = serde_json::to_string(&a).unwrap();
        assert_eq!(text, r#"{"A":"1","B":"2"}"#);
        let back: SharedEnv = serde_json::from_str(&text).unwrap();
        assert_eq!(back, a);
    }
}
