//! `uid`/`gid` (`--uid`, `--gid`, `--user`): the user and groups an app runs as, looked up
//! as PM2 does (a name, or here also a number), with its errors worded as PM2's. Only a
//! root daemon can switch users.

use nix::unistd::{Gid, Group, Uid, User};
use pm2_proto::AppSpec;
use pm2_supervisor::Credentials;
use std::ffi::CString;

/// Who an app runs as, and the home that goes into its `HOME`.
#[derive(Debug, Clone)]
pub(crate) struct RunAs {
    /// The ids for the child.
    pub(crate) credentials: Credentials,
    /// The user's home directory (PM2 sets the app's `HOME` to it).
    pub(crate) home: String,
}

/// Why an app's `uid`/`gid` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The daemon is not root, so it cannot switch users.
    #[error("To use --uid and --gid please run pm2 as root")]
    NotRoot,
    /// No such user.
    #[error("User {0} cannot be found")]
    UnknownUser(String),
    /// No such group.
    #[error("Group {0} cannot be found")]
    UnknownGroup(String),
}

/// The identity `spec` asks for, or None when it asks for none.
pub(crate) fn run_as(spec: &AppSpec) -> Result<Option<RunAs>, CredentialError> {
    let Some(user_word) = spec.uid.as_deref().or(spec.gid.as_ref().map(|_| "")) else {
        return Ok(None);
    };
    if !Uid::effective().is_root() {
        return Err(CredentialError::NotRoot);
    }
    let user = match user_word {
        // Only a group: the daemon's own user (root) with that group.
        "" => User::from_uid(Uid::effective()).ok().flatten(),
        word => find_user(word),
    }
    .ok_or_else(|| CredentialError::UnknownUser(user_word.to_string()))?;
    let gid = match spec.gid.as_deref() {
        Some(word) => find_group(word).ok_or_else(|| CredentialError::UnknownGroup(word.into()))?,
        None => user.gid,
    };
    let groups = CString::new(user.name.as_bytes())
        .ok()
        .and_then(|name| nix::unistd::getgrouplist(&name, gid).ok())
        .unwrap_or_else(|| vec![gid]);
    Ok(Some(RunAs {
        credentials: Credentials {
            uid: user.uid.as_raw(),
            gid: gid.as_raw(),
            groups: groups.iter().map(|g| g.as_raw()).collect(),
        },
        home: user.dir.to_string_lossy().into_owned(),
    }))
}

fn find_user(word: &str) -> Option<User> {
    match User::from_name(word) {
        Ok(Some(u)) => Some(u),
        _ => word
            .parse()
            .ok()
            .and_then(|id| User::from_uid(Uid::from_raw(id)).ok().flatten()),
    }
}

fn find_group(word: &str) -> Option<Gid> {
    match Group::from_name(word) {
        Ok(Some(g)) => Some(g.gid),
        _ => word.parse().ok().and_then(|id| {
            Group::from_gid(Gid::from_raw(id))
                .ok()
                .flatten()
                .map(|g| g.gid)
        }),
    }
}
