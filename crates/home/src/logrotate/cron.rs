//! `rotateInterval`: a cron pattern (5 or 6 fields), parsed and evaluated by croner.

use chrono::{DateTime, TimeZone};

/// A parsed `rotateInterval`.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    cron: croner::Cron,
}

/// A `rotateInterval` that is not a cron pattern node-schedule would accept.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct CronError(#[from] croner::errors::CronError);

impl CronSchedule {
    /// Parses a 5-field pattern, or 6 fields with seconds first (node-schedule accepts both).
    pub fn parse(expr: &str) -> Result<CronSchedule, CronError> {
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
