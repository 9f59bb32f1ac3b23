//! Waiting for a condition with a deadline, the one way every test waits: a free
//! [`poll_until`] that panics naming what it waited for, [`try_poll`] for callers that add
//! their own report (see `Pm2::wait_until`), and [`during`] for the opposite check, that
//! something keeps holding for a whole window.

use std::time::{Duration, Instant};

/// How often a condition is re-checked.
pub const POLL: Duration = Duration::from_millis(25);

/// What a polled closure returns: `bool` (done or not) or `Option<T>` (done with a value).
pub trait Ready {
    /// The value handed back once ready.
    type Out;
    /// `Some` once the condition holds.
    fn ready(self) -> Option<Self::Out>;
}

impl Ready for bool {
    type Out = ();
    fn ready(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Ready for Option<T> {
    type Out = T;
    fn ready(self) -> Option<T> {
        self
    }
}

/// The deadline passed before the condition held.
#[derive(Debug)]
pub struct TimedOut {
    /// How long was waited.
    pub after: Duration,
}

/// Calls `cond` every [`POLL`] until it is ready, at least once and for at most `within`.
pub fn try_poll<R: Ready>(
    within: Duration,
    mut cond: impl FnMut() -> R,
) -> Result<R::Out, TimedOut> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(out) = cond().ready() {
            return Ok(out);
        }
        if Instant::now() >= deadline {
            return Err(TimedOut { after: within });
        }
        std::thread::sleep(POLL);
    }
}

/// Calls `cond` until it is ready and returns its value; after `within`, panics with
/// "timed out after … waiting for: `what`".
pub fn poll_until<R: Ready>(within: Duration, what: &str, cond: impl FnMut() -> R) -> R::Out {
    match try_poll(within, cond) {
        Ok(out) => out,
        Err(e) => panic!("timed out after {:?} waiting for: {what}", e.after),
    }
}

/// Runs `check` every `every` for the whole `window` (for assertions that nothing happens:
/// there is no event to wait for, so the window itself is the condition under test).
pub fn during(window: Duration, every: Duration, mut check: impl FnMut()) {
    let end = Instant::now() + window;
    while Instant::now() < end {
        check();
        std::thread::sleep(every);
    }
}
