//! Reading fields of a `pm2 jlist` element; a missing field reads as 0 or "", so a poll
//! can compare without unwrapping (the element is there or not, the test says which).

use serde_json::Value;

/// `pm2_env.status` of a jlist element.
pub fn st(app: &Value) -> &str {
    app["pm2_env"]["status"].as_str().unwrap_or("")
}

/// `pm2_env.<key>` as u64 (0 when missing).
pub fn env_u64(app: &Value, key: &str) -> u64 {
    app["pm2_env"][key].as_u64().unwrap_or(0)
}

/// `pm2_env.<key>` as a string ("" when missing).
pub fn env_str<'a>(app: &'a Value, key: &str) -> &'a str {
    app["pm2_env"][key].as_str().unwrap_or("")
}

/// The jlist `pid` of an element.
pub fn pid_of(app: &Value) -> i32 {
    app["pid"].as_i64().unwrap_or(0) as i32
}
