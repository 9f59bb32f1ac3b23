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
    /// A letter where none means anything: seconds, minutes and hours are numbers, and a
    /// bare `L` names no month or weekday. croner accepts such a field as "last", which
    /// never comes, and searches years for it (32 s for `l * * * *`, found by fuzzing).
    #[error("{expr:?}: {field:?} is not a {what}")]
    Letters {
        /// The whole pattern.
        expr: String,
        /// The field.
        field: String,
        /// What the field holds.
        what: &'static str,
    },
}

/// Refuses letters croner would take but node-schedule gives no meaning to (see
/// [`CronError::Letters`]); other mistakes are left to croner.
fn check_letters(expr: &str) -> Result<(), CronError> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    let numeric = match fields.len() {
        6 => 3,
        5 => 2,
        _ => return Ok(()),
    };
    let refuse = |field: &str, what| CronError::Letters {
        expr: expr.to_string(),
        field: field.to_string(),
        what,
    };
    for field in &fields[..numeric] {
        if !field
            .chars()
            .all(|c| c.is_ascii_digit() || "*,/-?".contains(c))
        {
            return Err(refuse(field, "number, range, list or step"));
        }
    }
    let (month, weekday) = (fields[numeric + 1], fields[numeric + 2]);
    let bare_l = |field: &str| {
        field
            .split([',', '-', '/'])
            .any(|t| t.eq_ignore_ascii_case("l"))
    };
    if bare_l(month) {
        return Err(refuse(month, "month"));
    }
    if bare_l(weekday) {
        return Err(refuse(weekday, "weekday (`5L` is the last Friday)"));
    }
    Ok(())
}

impl CronSchedule {
    /// Parses a 5-field pattern, or 6 fields with seconds first (node-schedule accepts both).
    pub fn parse(expr: &str) -> Result<CronSchedule, CronError> {
        let empty_item = |field: &str| field.split(',').any(str::is_empty);
        if expr.split_whitespace().any(empty_item) {
            return Err(CronError::EmptyListItem(expr.to_string()));
        }
        check_letters(expr)?;
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
