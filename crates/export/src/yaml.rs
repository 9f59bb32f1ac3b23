//! JSON values written as YAML (Kubernetes and Compose files are read as YAML by people):
//! through yaml-rust2's emitter, which quotes every string that would read back as
//! something else (`"true"`, `"8080"`, `"a: b"`).

use serde_json::Value;
use yaml_rust2::yaml::{Hash, Yaml};
use yaml_rust2::YamlEmitter;

/// `value` as one YAML document, starting with `---`.
pub(crate) fn document(value: &Value) -> String {
    let mut text = String::new();
    let mut emitter = YamlEmitter::new(&mut text);
    // Emitting into a String cannot fail (fmt::Write on String never errors).
    let _ = emitter.dump(&to_yaml(value));
    text.push('\n');
    text
}

fn to_yaml(value: &Value) -> Yaml {
    match value {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Integer(i),
            None => Yaml::Real(n.to_string()),
        },
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(items) => Yaml::Array(items.iter().map(to_yaml).collect()),
        Value::Object(map) => {
            let mut hash = Hash::new();
            for (k, v) in map {
                hash.insert(Yaml::String(k.clone()), to_yaml(v));
            }
            Yaml::Hash(hash)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_that_look_like_other_types_stay_strings() {
        let text = document(&json!({"a": "true", "b": "8080", "c": "x: y", "d": 3}));
        let back = &yaml_rust2::YamlLoader::load_from_str(&text).expect("yaml")[0];
        assert_eq!(back["a"].as_str(), Some("true"));
        assert_eq!(back["b"].as_str(), Some("8080"));
        assert_eq!(back["c"].as_str(), Some("x: y"));
        assert_eq!(back["d"].as_i64(), Some(3));
    }
}
