//! What the dashboard needs at start: its `PM2_HOME`, where to listen (`pm2 set
//! pm2-plus:host|port`), and the refusal to listen beyond this machine without a password.

use pm2_home::plus::{Bind, PlusFiles};
use pm2_home::Pm2Home;

/// Everything read once at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The daemon's home (its socket, the dashboard's files).
    pub home: Pm2Home,
    /// Where to listen.
    pub bind: Bind,
    /// The dashboard's files in the home.
    pub files: PlusFiles,
}

impl Settings {
    /// Reads the settings; an error when the port is not one, or the address is public
    /// and no password was set.
    pub fn load(home: Pm2Home) -> Result<Settings, String> {
        let bind = Bind::from_conf(&home)?;
        let files = PlusFiles::of(&home);
        if let Some(why) = bind.refusal(&files) {
            return Err(why);
        }
        Ok(Settings { home, bind, files })
    }
}
