//! Where a new app's log and pid files go: in the folders of the environment of the CLI
//! that starts it (`PM2_DEFAULT_LOG_PATH`, `PM2_DEFAULT_PID_PATH`, else `PM2_HOME`'s), as
//! PM2 places them. They are written into the spec, so the daemon uses them whatever its
//! own environment says.

use pm2_config::safe_file_name;
use pm2_home::Pm2Home;
use pm2_proto::{AppSpec, CombinedLog};
use std::path::Path;

/// Fills the log and pid paths the app did not give with this CLI's folders (the daemon
/// adds the per-instance suffixes to them as to its own defaults).
pub(super) fn place_files(spec: &mut AppSpec, home: &Pm2Home) {
    let fname = safe_file_name(&spec.name);
    let (logs, pids) = (home.logs(), home.pids());
    let file = |dir: &Path, name: String| dir.join(name).to_string_lossy().into_owned();
    spec.out_file
        .get_or_insert_with(|| file(&logs, format!("{fname}-out.log")));
    spec.error_file
        .get_or_insert_with(|| file(&logs, format!("{fname}-error.log")));
    if spec.log_file == CombinedLog::Default {
        spec.log_file = CombinedLog::Path(file(&logs, format!("{fname}.log")));
    }
    spec.pid_file
        .get_or_insert_with(|| file(&pids, format!("{fname}.pid")));
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm2_home::Entry;

    #[test]
    fn unset_paths_go_to_this_clis_folders_and_given_ones_stay() {
        let home = Pm2Home::at("/h").with(Entry::Logs, "/var/log/apps");
        let mut spec = AppSpec {
            name: "api".into(),
            error_file: Some("/srv/api.err".into()),
            log_file: CombinedLog::Default,
            ..AppSpec::default()
        };
        place_files(&mut spec, &home);
        assert_eq!(spec.out_file.as_deref(), Some("/var/log/apps/api-out.log"));
        assert_eq!(spec.error_file.as_deref(), Some("/srv/api.err"));
        assert_eq!(
            spec.log_file,
            CombinedLog::Path("/var/log/apps/api.log".into())
        );
        assert_eq!(spec.pid_file.as_deref(), Some("/h/pids/api.pid"));
    }
}
