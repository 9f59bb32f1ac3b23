//! The history on disk: `PM2_HOME/plus/history.db`, SQLite in WAL mode (a reader never
//! waits for the once-a-second writer), mode 0600 (its `-wal` and `-shm` files take the
//! same). One transaction a tick writes the second's samples, the rollups that closed
//! (`tiers::due`) and a bounded slice of the pruning, so a tick's cost does not grow with
//! the time the dashboard was down.

use super::tiers::{self, Point, RollUp, TIERS};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Rows deleted per tier and tick at most (400 series × 1 new raw point a second leaves
/// plenty of room to catch up).
pub const PRUNE_PER_TICK: i64 = 5000;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY,
  app TEXT NOT NULL,
  pm_id INTEGER NOT NULL,
  metric TEXT NOT NULL,
  UNIQUE (app, pm_id, metric)
);
CREATE TABLE IF NOT EXISTS points (
  series INTEGER NOT NULL,
  tier INTEGER NOT NULL,
  t INTEGER NOT NULL,
  avg REAL NOT NULL,
  max REAL NOT NULL,
  n INTEGER NOT NULL,
  UNIQUE (series, tier, t)
);
CREATE INDEX IF NOT EXISTS points_age ON points (tier, t);
";

/// One sample of one series at the tick's second.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The app's name.
    pub app: String,
    /// The instance.
    pub pm_id: u32,
    /// `cpu`, `memory`, `restarts` or a custom metric's name.
    pub metric: String,
    /// Its value.
    pub value: f64,
}

/// The open database and the series ids already known.
pub struct Store {
    db: Connection,
    ids: HashMap<(String, u32, String), i64>,
    last: Option<i64>,
}

impl Store {
    /// Opens (creating, 0600) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, String> {
        let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| err(&e))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| err(&e))?;
        let db = Connection::open(path).map_err(|e| err(&e))?;
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| err(&e))?;
        db.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| err(&e))?;
        db.execute_batch(SCHEMA).map_err(|e| err(&e))?;
        let last = db
            .query_row("SELECT MAX(t) FROM points WHERE tier = 0", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .map_err(|e| err(&e))?;
        Ok(Store {
            db,
            ids: HashMap::new(),
            last,
        })
    }

    /// Writes the samples of second `now`, then the rollups due and a slice of pruning,
    /// in one transaction.
    pub fn tick(&mut self, now: i64, samples: &[Sample]) -> rusqlite::Result<()> {
        let tx = self.db.transaction()?;
        for s in samples {
            let key = (s.app.clone(), s.pm_id, s.metric.clone());
            let id = match self.ids.get(&key) {
                Some(id) => *id,
                None => {
                    let id = series_id(&tx, s)?;
                    self.ids.insert(key, id);
                    id
                }
            };
            tx.execute(
                "INSERT OR REPLACE INTO points (series, tier, t, avg, max, n) VALUES (?1, 0, ?2, ?3, ?3, 1)",
                params![id, now, s.value],
            )?;
        }
        let due = tiers::due(self.last.unwrap_or(now), now);
        for r in &due {
            roll_up(&tx, *r)?;
        }
        for (tier, cutoff) in tiers::cutoffs(now).iter().enumerate() {
            tx.execute(
                "DELETE FROM points WHERE rowid IN (SELECT rowid FROM points WHERE tier = ?1 AND t < ?2 LIMIT ?3)",
                params![tier as i64, cutoff, PRUNE_PER_TICK],
            )?;
        }
        let hour_closed = due.iter().any(|r| r.from == 1);
        if hour_closed {
            // Apps gone for 90 days: their series go too, so names that come and go do
            // not grow the table.
            tx.execute(
                "DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM points WHERE points.series = series.id)",
                [],
            )?;
            self.ids.clear();
        }
        tx.commit()?;
        self.last = Some(now);
        Ok(())
    }

    /// The points `[t_ms, value]` of `metric` of `app` in `tier` since `since` (seconds),
    /// its instances added up (cpu, memory, restarts) or averaged (custom metrics); only
    /// instance `pm_id` when given. Restarts read each bucket's maximum, the rest its mean.
    pub fn points(
        &self,
        app: &str,
        metric: &str,
        pm_id: Option<u32>,
        tier: usize,
        since: i64,
    ) -> rusqlite::Result<Vec<(i64, f64)>> {
        let builtin = matches!(metric, "cpu" | "memory" | "restarts");
        let column = if metric == "restarts" { "max" } else { "avg" };
        let fold = if builtin { "SUM" } else { "AVG" };
        let sql = format!(
            "SELECT p.t, {fold}(p.{column}) FROM points p JOIN series s ON s.id = p.series
             WHERE s.app = ?1 AND s.metric = ?2 AND (?3 IS NULL OR s.pm_id = ?3)
               AND p.tier = ?4 AND p.t >= ?5
             GROUP BY p.t ORDER BY p.t"
        );
        let mut q = self.db.prepare_cached(&sql)?;
        let rows = q.query_map(params![app, metric, pm_id, tier as i64, since], |r| {
            Ok((r.get::<_, i64>(0)? * 1000, r.get::<_, f64>(1)?))
        })?;
        rows.collect()
    }

    /// The metrics recorded for `app`, built-in ones first.
    pub fn metrics(&self, app: &str) -> rusqlite::Result<Vec<String>> {
        let mut q = self.db.prepare_cached(
            "SELECT DISTINCT metric FROM series WHERE app = ?1
             ORDER BY metric NOT IN ('cpu', 'memory', 'restarts'), metric",
        )?;
        let rows = q.query_map(params![app], |r| r.get(0))?;
        rows.collect()
    }
}

/// The id of `s`'s series, created when new.
fn series_id(tx: &rusqlite::Transaction<'_>, s: &Sample) -> rusqlite::Result<i64> {
    let find = "SELECT id FROM series WHERE app = ?1 AND pm_id = ?2 AND metric = ?3";
    let found = tx
        .query_row(find, params![s.app, s.pm_id, s.metric], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    tx.execute(
        "INSERT INTO series (app, pm_id, metric) VALUES (?1, ?2, ?3)",
        params![s.app, s.pm_id, s.metric],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Reads tier `r.from` in `[r.start, r.end)`, rolls it up (`tiers::roll_up`) and writes
/// the result into the next tier (replacing a bucket written before a restart).
fn roll_up(tx: &rusqlite::Transaction<'_>, r: RollUp) -> rusqlite::Result<()> {
    let mut q = tx.prepare_cached(
        "SELECT series, t, avg, max, n FROM points WHERE tier = ?1 AND t >= ?2 AND t < ?3",
    )?;
    let points = q
        .query_map(params![r.from as i64, r.start, r.end], |row| {
            Ok(Point {
                series: row.get(0)?,
                t: row.get(1)?,
                avg: row.get(2)?,
                max: row.get(3)?,
                n: row.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let to = r.from + 1;
    let mut insert = tx.prepare_cached(
        "INSERT OR REPLACE INTO points (series, tier, t, avg, max, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for p in tiers::roll_up(&points, TIERS[to].width_s) {
        insert.execute(params![p.series, to as i64, p.t, p.avg, p.max, p.n])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(app: &str, pm_id: u32, metric: &str, value: f64) -> Sample {
        Sample {
            app: app.into(),
            pm_id,
            metric: metric.into(),
            value,
        }
    }

    #[test]
    fn ticks_roll_up_prune_and_survive_reopening() {
        let dir = std::env::temp_dir().join(format!("pm2-plus-history-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("history.db");
        let start = 1_000_000 * 3600;
        {
            let mut store = Store::open(&path).unwrap();
            for s in 0..120 {
                let v = s as f64;
                let samples = [
                    sample("web", 0, "cpu", v),
                    sample("web", 1, "cpu", 1.0),
                    sample("web", 0, "Req/min", v),
                ];
                store.tick(start + s, &samples).unwrap();
            }
        }
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let mut store = Store::open(&path).unwrap();
        let raw = store.points("web", "cpu", None, 0, start).unwrap();
        assert_eq!(raw.len(), 120);
        assert_eq!(raw[5], ((start + 5) * 1000, 6.0), "instances add up");
        let one = store.points("web", "cpu", Some(1), 0, start).unwrap();
        assert!(one.iter().all(|(_, v)| *v == 1.0));
        // Minute 0 (0..59, mean 29.5) closed at second 60, minute 1 at 120, once the
        // reopened store ticks on.
        store
            .tick(start + 120, &[sample("web", 0, "cpu", 0.0)])
            .unwrap();
        let minutes = store.points("web", "cpu", Some(0), 1, start).unwrap();
        assert_eq!(
            minutes,
            vec![(start * 1000, 29.5), ((start + 60) * 1000, 89.5)]
        );
        assert_eq!(
            store.metrics("web").unwrap(),
            vec!["cpu".to_string(), "Req/min".to_string()]
        );
        // An hour and a bit later the raw points are pruned, the minutes stay.
        store.tick(start + 3600 + 200, &[]).unwrap();
        assert!(store.points("web", "cpu", None, 0, 0).unwrap().is_empty());
        // Minutes 0 and 1, and the minute of the lone sample at 120.
        assert_eq!(store.points("web", "cpu", Some(0), 1, 0).unwrap().len(), 3);
        let hours = store.points("web", "cpu", Some(0), 2, 0).unwrap();
        assert_eq!(hours.len(), 1, "the first hour rolled up: {hours:?}");
        // 91 days on, every tier has pruned the app's points, and its series went with them.
        store.tick(start + 91 * 86_400, &[]).unwrap();
        assert!(store.metrics("web").unwrap().is_empty());
        store
            .tick(start + 91 * 86_400 + 1, &[sample("web", 0, "cpu", 3.0)])
            .unwrap();
        assert_eq!(store.metrics("web").unwrap(), vec!["cpu".to_string()]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
