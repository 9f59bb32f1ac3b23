//! Which log events a `pm2 logs` reader wants: its targets, compiled once when it
//! subscribes.

use super::event::LogEvent;
use pm2_proto::Target;

/// Which events a reader wants.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Targets as the user typed them (empty: everything).
    pub targets: Vec<Target>,
    /// Whether daemon lines are wanted.
    pub daemon: bool,
}

/// One target of a [`Filter`], ready to test events against: a regex is compiled once, when
/// the reader subscribes, not for every published chunk.
enum Matcher {
    All,
    Id(u32),
    Name(String),
    /// `None`: the pattern is not a valid regex, so it matches nothing.
    Regex(Option<regex_lite::Regex>),
}

impl Matcher {
    fn new(target: &Target) -> Matcher {
        match target {
            Target::All => Matcher::All,
            Target::Id(id) => Matcher::Id(*id),
            Target::Name(n) => Matcher::Name(n.clone()),
            Target::Regex(re) => Matcher::Regex(regex_lite::Regex::new(re).ok()),
            Target::Word { word, .. } => match word.parse() {
                Ok(id) => Matcher::Id(id),
                Err(_) => Matcher::Name(word.clone()),
            },
        }
    }

    fn matches(&self, pm_id: u32, name: &str, namespace: &str) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Id(id) => *id == pm_id,
            Matcher::Name(n) => n == name || n == namespace,
            Matcher::Regex(re) => re.as_ref().is_some_and(|r| r.is_match(name)),
        }
    }
}

/// A [`Filter`] as a subscriber keeps it.
pub(crate) struct CompiledFilter {
    targets: Vec<Matcher>,
    daemon: bool,
}

impl CompiledFilter {
    pub(crate) fn new(filter: Filter) -> CompiledFilter {
        CompiledFilter {
            targets: filter.targets.iter().map(Matcher::new).collect(),
            daemon: filter.daemon,
        }
    }

    pub(crate) fn matches(&self, e: &LogEvent) -> bool {
        let Some(pm_id) = e.pm_id else {
            return self.daemon;
        };
        self.wants_app(pm_id, &e.name, &e.namespace)
    }

    /// Whether the output of the instance `pm_id` of `name` in `namespace` is wanted.
    pub(crate) fn wants_app(&self, pm_id: u32, name: &str, namespace: &str) -> bool {
        self.targets.is_empty()
            || self
                .targets
                .iter()
                .any(|t| t.matches(pm_id, name, namespace))
    }
}
