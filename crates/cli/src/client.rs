//! Talking to the daemon: connect, spawn it on demand, one request at a time.

use anyhow::{anyhow, bail, Context, Result};
use nix::fcntl::{Flock, FlockArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::unistd::pipe2;
use pm2_home::{Entry, Pm2Home};
use pm2_proto::{frame, Envelope, Reply, Request, Response};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a spawned daemon gets to bind its socket.
const DAEMON_START_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to the daemon.
pub struct Client {
    stream: UnixStream,
    warned: bool,
}

/// Connects to a running daemon without starting one.
pub fn connect_existing(home: &Pm2Home) -> Option<Client> {
    UnixStream::connect(home.socket()).ok().map(Client::new)
}

/// Connects to a running daemon without starting one: None when no daemon serves this
/// home (no socket, or a stale one), an error when one may serve it but not this user.
pub fn try_connect(home: &Pm2Home) -> Result<Option<Client>> {
    use std::io::ErrorKind;
    let socket = home.socket();
    match UnixStream::connect(&socket) {
        Ok(stream) => Ok(Some(Client::new(stream))),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
            Ok(None)
        }
        Err(e) if e.kind() == ErrorKind::PermissionDenied => Err(not_yours(home, e)),
        Err(e) => Err(e).with_context(|| format!("cannot connect to {}", socket.display())),
    }
}

/// The error for a home whose socket this user may not open.
fn not_yours(home: &Pm2Home, e: std::io::Error) -> anyhow::Error {
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(home.root())
        .map(|m| m.uid())
        .ok()
        .and_then(|uid| nix::unistd::User::from_uid(uid.into()).ok().flatten())
        .map_or_else(
            || "another user".to_string(),
            |u| format!("user {}", u.name),
        );
    anyhow!(
        "cannot connect to the PM2 daemon of {} ({e}): this PM2_HOME belongs to {owner}. \
         Run pm2 as that user (e.g. sudo -u <user> pm2 ...), or set PM2_HOME to a folder of \
         your own",
        home.root().display()
    )
}

/// Connects, spawning the daemon first when none answers. Concurrent CLIs serialise on a
/// lock file so exactly one daemon is started.
pub fn connect(home: &Pm2Home, quiet: bool) -> Result<Client> {
    if let Some(c) = try_connect(home)? {
        return Ok(c);
    }
    home.ensure()
        .with_context(|| format!("cannot create PM2_HOME {}", home.root().display()))?;
    let lock_file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(home.spawn_lock())
        .context("cannot open the spawn lock")?;
    let _lock = Flock::lock(lock_file, FlockArg::LockExclusive)
        .map_err(|(_, e)| anyhow!("cannot lock {}: {e}", home.spawn_lock().display()))?;
    if let Some(c) = connect_existing(home) {
        return Ok(c);
    }
    if !quiet {
        crate::out::info(&format!(
            "Spawning PM2 daemon with pm2_home={}",
            home.root().display()
        ));
    }
    spawn_daemon(home)?;
    if !quiet {
        crate::out::info("PM2 Successfully daemonized");
    }
    connect_existing(home).ok_or_else(|| anyhow!("the daemon started but refuses connections"))
}

/// Starts `pm2 __daemon` detached (new session, stdio to pm2.log) and waits until it says
/// its socket is bound, on a readiness pipe (see [`pm2_proto::READY_FD_ENV`]).
fn spawn_daemon(home: &Pm2Home) -> Result<()> {
    let exe = std::env::current_exe().context("cannot locate the pm2 executable")?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(home.daemon_log())
        .with_context(|| format!("cannot open {}", home.describe(Entry::DaemonLog)))?;
    // Both ends close on exec; only the daemon's copy of the write end is kept open.
    let (ready_read, ready_write) =
        pipe2(OFlag::O_CLOEXEC).context("cannot create the daemon's readiness pipe")?;
    let child_end = ready_write.as_raw_fd();
    let mut cmd = Command::new(exe);
    cmd.arg("__daemon")
        .env("PM2_HOME", home.root())
        .envs(home.override_vars())
        .env(pm2_proto::READY_FD_ENV, child_end.to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: setsid and fcntl are async-signal-safe; setsid detaches the daemon from our
    // terminal, and clearing FD_CLOEXEC keeps the pipe's write end across exec.
    unsafe {
        cmd.pre_exec(move || {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            if libc::fcntl(child_end, libc::F_SETFD, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().context("cannot spawn the daemon")?;
    // Ours must go, or the daemon's death would never read as end of file.
    drop(ready_write);
    match wait_ready(&ready_read, Instant::now() + DAEMON_START_TIMEOUT)
        .context("cannot wait for the daemon's readiness pipe")?
    {
        Readiness::Ready => Ok(()),
        // Another daemon may have won the race for this home: it serves, ours stood down.
        Readiness::Closed if connect_existing(home).is_some() => Ok(()),
        Readiness::Closed => {
            let status = child.wait().context("cannot wait for the daemon")?;
            bail!(
                "the daemon exited at start ({status}); see {}",
                home.daemon_log().display()
            )
        }
        Readiness::TimedOut => bail!(
            "the daemon did not open {} within {:?}; see {}",
            home.socket().display(),
            DAEMON_START_TIMEOUT,
            home.daemon_log().display()
        ),
    }
}

/// What the readiness pipe said.
enum Readiness {
    /// The daemon wrote its byte: the socket is bound.
    Ready,
    /// End of file without the byte: the daemon exited at start.
    Closed,
    /// Nothing before the deadline.
    TimedOut,
}

/// Waits on the read end of the readiness pipe until it says something or `deadline`.
fn wait_ready(pipe: &OwnedFd, deadline: Instant) -> std::io::Result<Readiness> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Readiness::TimedOut);
        }
        let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(pipe.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) => continue,
            Ok(_) => break,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let mut byte = [0u8; 1];
    let read = loop {
        match nix::unistd::read(pipe, &mut byte) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => break other?,
        }
    };
    Ok(match read {
        0 => Readiness::Closed,
        _ => Readiness::Ready,
    })
}

impl Client {
    fn new(stream: UnixStream) -> Client {
        Client {
            stream,
            warned: false,
        }
    }

    /// Sends a streaming request; read its frames with [`Client::next_frame`].
    pub fn send(&mut self, request: Request) -> Result<()> {
        frame::write_blocking(&mut self.stream, &Envelope::new(request))
            .context("cannot send the request to the daemon")
    }

    /// The next frame of a streaming reply; `None` when the daemon hung up.
    pub fn next_frame(&mut self) -> Result<Option<Response>> {
        let reply: Option<Reply> =
            frame::read_blocking(&mut self.stream).context("cannot read from the daemon")?;
        Ok(reply.map(|r| r.response))
    }

    /// Sends one request and waits for its reply. A version mismatch is reported once, with
    /// what to do about it.
    pub fn request(&mut self, request: Request) -> Result<Response> {
        frame::write_blocking(&mut self.stream, &Envelope::new(request))
            .context("cannot send the request to the daemon")?;
        let body = match frame::read_bytes_blocking(&mut self.stream) {
            Ok(Some(body)) => body,
            Ok(None) => return Err(anyhow!(HUNG_UP)),
            Err(e) if is_hang_up(&e) => return Err(anyhow!(e).context(HUNG_UP)),
            Err(e) => return Err(anyhow!(e).context("cannot read the daemon's reply")),
        };
        let reply = pm2_proto::reply::decode_reply(&body)
            .map_err(frame::FrameError::from)
            .context("cannot read the daemon's reply")?;
        if reply.daemon_version != pm2_proto::VERSION && !self.warned {
            self.warned = true;
            warn_version_mismatch(&reply.daemon_version);
        }
        // Each environment came once; the instances that share it share one copy here too.
        match reply.response {
            Response::SharedList(list) => Ok(Response::List {
                processes: list.into_processes().map_err(|e| anyhow!(e))?,
            }),
            other => Ok(other),
        }
    }
}

/// What a CLI says when the daemon went away between taking a request and answering it
/// (killed, by the OOM killer say, or crashed): whether the request took effect is unknown,
/// and the next command starts a new daemon, which restores the apps.
const HUNG_UP: &str = "the daemon closed the connection before it answered (it was stopped, \
     killed or crashed: see pm2.log in PM2_HOME); check with `pm2 list` (it starts a new \
     daemon, which restores the apps) and run the command again if it did not take effect";

/// Whether a read failed because the daemon's end went away (reset or cut mid-frame).
fn is_hang_up(e: &frame::FrameError) -> bool {
    matches!(e, frame::FrameError::Io(io) if matches!(
        io.kind(),
        std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::BrokenPipe
    ))
}

/// PM2's own wording for a daemon older (or newer) than the CLI.
fn warn_version_mismatch(daemon_version: &str) {
    eprintln!(">>>> In-memory PM2 is out-of-date, do:");
    eprintln!(">>>> $ pm2 update");
    eprintln!("In memory PM2 version: {daemon_version}");
    eprintln!("Local PM2 version: {}", pm2_proto::VERSION);
}
