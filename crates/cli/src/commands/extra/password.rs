//! `pm2 plus --set-password`: the dashboard's password, read from the terminal (twice,
//! not echoed) or from one line of stdin, stored as an Argon2id hash (PHC string) in
//! `PM2_HOME/plus/password`, mode 0600. The dashboard reads it at each login, so a running
//! one needs no restart.

use crate::out;
use anyhow::{anyhow, bail, Context, Result};
use argon2::password_hash::{PasswordHasher, SaltString};
use pm2_home::plus::PlusFiles;
use pm2_home::Pm2Home;
use std::io::{BufRead, IsTerminal, Read, Write};

/// The shortest password accepted.
const MIN_LEN: usize = 8;

/// Sets the password; exit 1, changing nothing, when it is too short or the two typed
/// differ.
pub(super) fn set(home: &Pm2Home) -> Result<i32> {
    let password = match read_password()? {
        Ok(p) => p,
        Err(why) => {
            out::error(&format!("{why}: the password was not changed"));
            return Ok(1);
        }
    };
    let hash = hash(&password)?;
    let files = PlusFiles::of(home);
    files
        .write_secret(&files.password(), hash.as_bytes())
        .with_context(|| format!("cannot write {}", files.password().display()))?;
    out::info(&format!(
        "PM2 Plus password set (argon2id hash in {})",
        files.password().display()
    ));
    Ok(0)
}

/// An Argon2id hash of `password` with a random salt.
fn hash(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut salt))
        .context("cannot read /dev/urandom for a salt")?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow!("salt: {e}"))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow!("cannot hash the password: {e}"))
}

/// The password, or why it is refused.
fn read_password() -> Result<std::result::Result<String, String>> {
    let password = if std::io::stdin().is_terminal() {
        let first = prompt("New PM2 Plus password: ")?;
        if prompt("Again: ")? != first {
            return Ok(Err("the two passwords differ".into()));
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        line.trim_end_matches(['\n', '\r']).to_string()
    };
    if password.chars().count() < MIN_LEN {
        return Ok(Err(format!(
            "the password must have at least {MIN_LEN} characters"
        )));
    }
    Ok(Ok(password))
}

/// Asks on stderr and reads a line from the terminal with echo off.
fn prompt(question: &str) -> Result<String> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    let stdin = std::io::stdin();
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let saved = tcgetattr(&stdin).context("cannot read the terminal's settings")?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet).context("cannot turn echo off")?;
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    let _ = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
    eprintln!();
    if read.context("cannot read the password")? == 0 {
        bail!("no password typed");
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
