//! `depends_on` (beyond PM2) as the CLI and the daemon both apply it: which apps go in
//! which layer, and whether a dependency is as its condition asks, from the daemon's list.
//! The CLI uses it for `start|restart|reload <file>` and `resurrect`; the daemon for
//! `restart all` (and any restart or reload of several apps) and its own crash recovery.
//! Pure: no I/O.

use crate::{Condition, Dependency, HealthStatus, ProcessInfo, Status};

/// The layer of each app (`0` first): each comes after every app it depends on, in their
/// order otherwise. `apps` gives each app's name and `depends_on`; a dependency on an app
/// not in `apps` is not waited for. A cycle (only a hand-edited dump can hold one) stops
/// deepening after one pass per app.
pub fn depths(apps: &[(&str, &[Dependency])]) -> Vec<usize> {
    let mut depth = vec![0usize; apps.len()];
    for _ in 0..apps.len() {
        let mut changed = false;
        for (i, (_, deps)) in apps.iter().enumerate() {
            let d = deps
                .iter()
                .flat_map(|dep| {
                    let of = apps.iter().zip(&depth);
                    of.filter(move |((name, _), _)| *name == dep.name)
                })
                .map(|(_, d)| d + 1)
                .max()
                .unwrap_or(0);
            if d > depth[i] {
                depth[i] = d;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    depth
}

/// `items` (apps, each with the name and `depends_on` that `of` reads) in layers: each
/// after every item it depends on ([`depths`]), in order within a layer.
pub fn layers<T>(items: Vec<T>, of: impl Fn(&T) -> (&str, &[Dependency])) -> Vec<Vec<T>> {
    let named: Vec<(&str, &[Dependency])> = items.iter().map(&of).collect();
    let depths = depths(&named);
    into_layers(items, &depths)
}

/// `items` grouped by their `depths`, in order within a layer.
fn into_layers<T>(items: Vec<T>, depths: &[usize]) -> Vec<Vec<T>> {
    let mut layers: Vec<Vec<T>> = Vec::new();
    for (item, d) in items.into_iter().zip(depths) {
        if layers.len() <= *d {
            layers.resize_with(d + 1, Vec::new);
        }
        layers[*d].push(item);
    }
    layers
}

/// Where one dependency stands.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// As its condition asks.
    Met,
    /// A `completed` dependency still runs: wait.
    Running,
    /// Not as asked, and why, in the words the user reads after `not started: `.
    Unmet(String),
}

/// Where `dep` stands in the daemon's `list`.
pub fn verdict(dep: &Dependency, list: &[ProcessInfo]) -> Verdict {
    let name = &dep.name;
    let of: Vec<&ProcessInfo> = list.iter().filter(|p| &p.spec.name == name).collect();
    if of.is_empty() {
        return Verdict::Unmet(format!("its dependency {name} is not running"));
    }
    let want = dep.condition.as_str();
    for p in of {
        let status = p.status.as_str();
        let met = match dep.condition {
            Condition::Started => true,
            Condition::Online => p.status == Status::Online,
            Condition::Healthy => {
                p.status == Status::Online
                    && p.health
                        .as_ref()
                        .is_some_and(|h| h.status == HealthStatus::Healthy)
            }
            Condition::Completed if p.status.is_running() => return Verdict::Running,
            // Stopped without an exit code: it did not run under this daemon (a resurrect
            // keeps a saved, stopped app stopped), so what it did is done.
            Condition::Completed => p.status == Status::Stopped && p.exit_code.unwrap_or(0) == 0,
        };
        if !met {
            let health = p
                .health
                .as_ref()
                .and_then(|h| h.last_error.as_deref())
                .map(|e| format!("; its health check: {e}"))
                .unwrap_or_default();
            let exit = match (dep.condition, p.exit_code) {
                (Condition::Completed, Some(code)) => format!(", exit code {code}"),
                _ => String::new(),
            };
            return Verdict::Unmet(format!(
                "its dependency {name} is {status}{exit}, not {want}{health}"
            ));
        }
    }
    Verdict::Met
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(name: &str) -> Dependency {
        Dependency {
            name: name.into(),
            condition: Condition::Online,
        }
    }

    #[test]
    fn a_chain_goes_in_three_layers_whatever_its_order() {
        let (a, b, c) = (vec![], vec![dep("a")], vec![dep("b")]);
        let apps = [("c", &c[..]), ("a", &a[..]), ("b", &b[..]), ("x", &c[..])];
        let d = depths(&apps);
        assert_eq!(d, vec![2, 0, 1, 2]);
        assert_eq!(
            layers(apps.to_vec(), |a| *a)
                .iter()
                .map(|l| l.iter().map(|a| a.0).collect::<Vec<_>>())
                .collect::<Vec<_>>(),
            vec![vec!["a"], vec!["b"], vec!["c", "x"]]
        );
    }

    #[test]
    fn a_missing_dependency_is_unmet_with_its_name() {
        assert_eq!(
            verdict(&dep("db"), &[]),
            Verdict::Unmet("its dependency db is not running".into())
        );
    }
}
