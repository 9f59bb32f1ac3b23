//! Turns between the tests of the one e2e binary: every [`Pm2`](super::pm2::Pm2) world
//! holds a shared turn, and a test that measures a CPU share (which the other tests' apps
//! would eat into) takes an exclusive one, so it runs while no other world exists, as it
//! did in a test binary of its own.

use std::cell::Cell;
use std::sync::{Condvar, Mutex};

#[derive(Default)]
struct State {
    /// Tests holding a shared turn.
    shared: usize,
    /// A test holds the exclusive turn.
    exclusive: bool,
    /// A test waits for the exclusive turn: no new shared turn starts meanwhile.
    waiting: bool,
}

static STATE: Mutex<State> = Mutex::new(State {
    shared: 0,
    exclusive: false,
    waiting: false,
});
static CHANGED: Condvar = Condvar::new();

thread_local! {
    /// How many worlds of this test (libtest runs each on its own thread) hold its turn,
    /// and whether that turn is exclusive: a second world in the same test shares the
    /// test's turn instead of waiting for itself.
    static HELD: Cell<(usize, bool)> = const { Cell::new((0, false)) };
}

/// A held turn, given back when the test's last one is dropped.
pub struct Turn(());

fn state() -> std::sync::MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

fn wait(s: std::sync::MutexGuard<'static, State>) -> std::sync::MutexGuard<'static, State> {
    CHANGED.wait(s).unwrap_or_else(|p| p.into_inner())
}

/// A turn alongside other shared turns; waits while an exclusive one is held or wanted.
pub fn shared() -> Turn {
    let (held, exclusive) = HELD.get();
    if held == 0 {
        let mut s = state();
        while s.exclusive || s.waiting {
            s = wait(s);
        }
        s.shared += 1;
    }
    HELD.set((held + 1, exclusive));
    Turn(())
}

/// The only turn: waits until no other test holds one.
pub fn exclusive() -> Turn {
    assert_eq!(
        HELD.get().0,
        0,
        "take the exclusive turn before any other world"
    );
    let mut s = state();
    while s.exclusive || s.waiting {
        s = wait(s);
    }
    s.waiting = true;
    while s.shared > 0 {
        s = wait(s);
    }
    s.waiting = false;
    s.exclusive = true;
    HELD.set((1, true));
    Turn(())
}

impl Drop for Turn {
    fn drop(&mut self) {
        let (held, exclusive) = HELD.get();
        HELD.set((held - 1, exclusive));
        if held > 1 {
            return;
        }
        let mut s = state();
        if exclusive {
            s.exclusive = false;
        } else {
            s.shared -= 1;
        }
        CHANGED.notify_all();
    }
}
