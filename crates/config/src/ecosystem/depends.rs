//! `depends_on` (beyond PM2): which apps of the file an app waits for, and in what
//! condition. Names resolve against the whole file (as declared or as run, after
//! `name_prefix`/`append_env_to_name`); an unknown name, an app depending on itself, a
//! cycle, or `healthy` of an app without `health_check` is an error naming the apps. The
//! apps come out in start order: each after what it depends on, file order otherwise.

use super::fields;
use pm2_proto::{Condition, Dependency};
use serde_json::Value;

/// One app object of the file, as the ordering needs it.
pub(crate) struct Declared {
    /// `apps[1]`.
    pub prefix: String,
    /// The name as declared (`name`, or from the script).
    pub base: String,
    /// The name it runs under.
    pub full: String,
    /// Its `depends_on`, names as written.
    pub deps: Vec<Dependency>,
    /// Whether it has a `health_check`.
    pub checked: bool,
}

/// `depends_on`: a name, or a list of names and `{ name, condition }` objects.
pub(crate) fn depends_on(v: &Value) -> Result<Vec<Dependency>, String> {
    let items = match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    items.into_iter().map(entry).collect()
}

fn entry(v: &Value) -> Result<Dependency, String> {
    match v {
        Value::String(name) if !name.is_empty() => Ok(Dependency {
            name: name.clone(),
            condition: Condition::default(),
        }),
        Value::Object(obj) => {
            if let Some(key) = obj
                .keys()
                .find(|k| !matches!(k.as_str(), "name" | "condition"))
            {
                return Err(format!("{key}: unknown key; expected name and condition"));
            }
            let name = obj
                .get("name")
                .ok_or("an entry needs a name")
                .and_then(|n| fields::string(n).map_err(|_| "name: expected a string"))?;
            let condition = match obj.get("condition") {
                None | Some(Value::Null) => Condition::default(),
                Some(c) => condition(c)?,
            };
            Ok(Dependency { name, condition })
        }
        other => Err(format!(
            "expected an app name or {{ name, condition }}, got {}",
            fields::show(other)
        )),
    }
}

fn condition(v: &Value) -> Result<Condition, String> {
    let all = [
        Condition::Started,
        Condition::Online,
        Condition::Healthy,
        Condition::Completed,
    ];
    let word = v.as_str().unwrap_or_default();
    all.into_iter().find(|c| c.as_str() == word).ok_or_else(|| {
        format!(
            "condition: expected started, online, healthy or completed, got {}",
            fields::show(v)
        )
    })
}

/// Each declared app's dependencies with full names, checked; or every problem.
pub(crate) fn resolve(declared: &[Declared]) -> Result<Vec<Vec<Dependency>>, Vec<String>> {
    let mut errors = Vec::new();
    let mut resolved = Vec::new();
    for d in declared {
        let mut deps = Vec::new();
        for dep in &d.deps {
            let Some(target) = declared
                .iter()
                .find(|o| o.full == dep.name || o.base == dep.name)
            else {
                let msg = format!("no app named {:?} in this file", dep.name);
                errors.push(format!("{}.depends_on: {msg}", d.prefix));
                continue;
            };
            if target.full == d.full {
                errors.push(format!(
                    "{}.depends_on: {} depends on itself",
                    d.prefix, d.full
                ));
                continue;
            }
            if dep.condition == Condition::Healthy && !target.checked {
                errors.push(format!(
                    "{}.depends_on: {} has no health_check, so it never becomes healthy (add one, or use condition online)",
                    d.prefix, target.full
                ));
            }
            deps.push(Dependency {
                name: target.full.clone(),
                condition: dep.condition,
            });
        }
        resolved.push(deps);
    }
    if errors.is_empty() {
        if let Some(cycle) = find_cycle(declared, &resolved) {
            errors.push(format!("depends_on: a cycle: {}", cycle.join(" → ")));
        }
    }
    errors.is_empty().then_some(resolved).ok_or(errors)
}

/// A cycle among the apps, as names from one app back to itself.
fn find_cycle(declared: &[Declared], deps: &[Vec<Dependency>]) -> Option<Vec<String>> {
    let index = |name: &str| declared.iter().position(|d| d.full == name);
    // 0: not visited, 1: on the current path, 2: done.
    let mut mark = vec![0u8; declared.len()];
    let mut path = Vec::new();
    fn visit(
        i: usize,
        deps: &[Vec<Dependency>],
        index: &dyn Fn(&str) -> Option<usize>,
        mark: &mut [u8],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        mark[i] = 1;
        path.push(i);
        for dep in &deps[i] {
            let Some(j) = index(&dep.name) else { continue };
            if mark[j] == 1 {
                let from = path.iter().position(|p| *p == j).unwrap_or(0);
                let mut cycle = path[from..].to_vec();
                cycle.push(j);
                return Some(cycle);
            }
            if mark[j] == 0 {
                if let Some(c) = visit(j, deps, index, mark, path) {
                    return Some(c);
                }
            }
        }
        path.pop();
        mark[i] = 2;
        None
    }
    (0..declared.len()).find_map(|i| {
        if mark[i] != 0 {
            return None;
        }
        visit(i, deps, &index, &mut mark, &mut path)
            .map(|c| c.into_iter().map(|k| declared[k].full.clone()).collect())
    })
}

/// The positions of `names` in start order: each after those of its `deps` that are among
/// `names`, file order otherwise (the file is known to have no cycle).
pub(crate) fn start_order(names: &[String], deps: &[Vec<Dependency>]) -> Vec<usize> {
    let mut done = vec![false; names.len()];
    let mut order = Vec::with_capacity(names.len());
    while order.len() < names.len() {
        let next = (0..names.len()).find(|&i| {
            !done[i]
                && deps[i]
                    .iter()
                    .all(|d| names.iter().zip(&done).all(|(n, ok)| n != &d.name || *ok))
        });
        // Unreachable without a cycle; never loop forever on one.
        let Some(i) = next.or_else(|| (0..names.len()).find(|&i| !done[i])) else {
            break;
        };
        done[i] = true;
        order.push(i);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app(i: usize, name: &str, deps: Value) -> Declared {
        Declared {
            prefix: format!("apps[{i}]"),
            base: name.into(),
            full: name.into(),
            deps: depends_on(&deps).expect("parses"),
            checked: name == "db",
        }
    }

    #[test]
    fn entries_parse() {
        let d = depends_on(&json!(["db", {"name": "cache", "condition": "healthy"}])).unwrap();
        assert_eq!(d[0].condition, Condition::Online);
        assert_eq!(
            (d[1].name.as_str(), d[1].condition),
            ("cache", Condition::Healthy)
        );
        assert!(depends_on(&json!([{"name": "x", "condition": "up"}]))
            .unwrap_err()
            .contains("condition: expected started, online, healthy or completed"));
        assert!(depends_on(&json!([{"nam": "x"}]))
            .unwrap_err()
            .contains("nam: unknown key"));
    }

    #[test]
    fn unknown_names_cycles_and_unhealthy_conditions_are_refused() {
        let file = [app(0, "web", json!(["dbx"]))];
        assert_eq!(
            resolve(&file).unwrap_err(),
            vec!["apps[0].depends_on: no app named \"dbx\" in this file"]
        );
        let file = [
            app(0, "a", json!(["b"])),
            app(1, "b", json!(["c"])),
            app(2, "c", json!(["a"])),
        ];
        assert_eq!(
            resolve(&file).unwrap_err(),
            vec!["depends_on: a cycle: a → b → c → a"]
        );
        let file = [
            app(0, "web", json!([{"name": "api", "condition": "healthy"}])),
            app(1, "api", json!([])),
        ];
        assert!(resolve(&file).unwrap_err()[0].contains("api has no health_check"));
    }

    #[test]
    fn start_order_puts_dependencies_first() {
        let file = [
            app(0, "web", json!(["api"])),
            app(1, "api", json!(["db"])),
            app(2, "db", json!([])),
            app(3, "cron", json!([])),
        ];
        let deps = resolve(&file).unwrap();
        let names: Vec<String> = file.iter().map(|d| d.full.clone()).collect();
        let order: Vec<&str> = start_order(&names, &deps)
            .into_iter()
            .map(|i| names[i].as_str())
            .collect();
        assert_eq!(order, ["db", "api", "web", "cron"]);
    }
}
