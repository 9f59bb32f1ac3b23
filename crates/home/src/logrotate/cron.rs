//! `rotateInterval`: a cron pattern (5 or 6 fields), parsed and evaluated by croner.

use chrono::{DateTime, TimeZone};

/// A parsed `rotateInterval`.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    cron: croner::Cron,
}

/// A `rotateInterval` that is not a cron pattern node-schedule would accept.
#[derive(Debug, thiserror::Error)]
pub enum CronError {
    /// croner refused it.
    #[error(transparent)]
    Pattern(#[from] croner::errors::CronError),
    /// A list with an empty item (`,`, `1,,2`): croner accepts it as matching nothing, and
    /// then searches years of minutes for a time that never comes (seconds of CPU, found
    /// by fuzzing), so it is refused here.
    #[error("{0:?} has an empty item in a list")]
    EmptyListItem(String),
}

impl CronSchedule {
    /// Parses a 5-field pattern, or 6 fields with seconds first (node-schedule accepts both).
    pub fn parse(expr: &str) -> Result<CronSchedule, CronError> {
        let empty_item = |field: &str| field.split(',').any(str::is_empty);
        if expr.split_whitespace().any(empty_item) {
            return Err(CronError::EmptyListItem(expr.to_string()));
        }
        let cron = croner::Cron::new(expr.trim())
            .with_seconds_optional()
            .parse()?;
        Ok(CronSchedule { cron })
    }

    /// The first time strictly after `after` that matches.
    pub fn next_after<Tz: TimeZone>(&self, after: &DateTime<Tz>) -> Option<DateTime<Tz>> {
        self.cron.find_next_occurrence(after, false).ok()
    }
}
