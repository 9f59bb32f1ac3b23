//! Taking over the terminal and always giving it back: raw mode and the alternate screen are
//! entered through a guard whose `Drop` restores them, and a panic hook restores them before
//! the panic message is printed (otherwise the message would land on the alternate screen
//! and vanish, leaving the shell in raw mode).

use anyhow::{Context, Result};
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::Terminal;
use std::io::{Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Once, OnceLock};
use std::thread::ThreadId;

/// The terminal while the dashboard owns it.
pub type Screen = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped (normal exit, `?` error, or unwinding panic).
pub struct TerminalGuard {
    screen: Screen,
}

impl TerminalGuard {
    /// Installs the panic hook, then enters raw mode and the alternate screen.
    pub fn enter() -> Result<TerminalGuard> {
        install_panic_hook();
        install_stop_handlers();
        enable_raw_mode().context("cannot put the terminal in raw mode")?;
        // From here on a failure must undo what was done: build the guard first.
        let mut stdout = std::io::stdout();
        if let Err(e) = execute!(stdout, EnterAlternateScreen) {
            restore();
            return Err(e).context("cannot switch to the alternate screen");
        }
        match Terminal::new(CrosstermBackend::new(stdout)) {
            Ok(screen) => Ok(TerminalGuard { screen }),
            Err(e) => {
                restore();
                Err(e).context("cannot set up the terminal")
            }
        }
    }

    /// The terminal to draw on.
    pub fn screen(&mut self) -> &mut Screen {
        &mut self.screen
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves the alternate screen, shows the cursor and turns raw mode off; every step is tried
/// even when an earlier one fails, and calling it twice is harmless.
pub fn restore() {
    let mut stdout = std::io::stdout();
    let _ = execute!(stdout, LeaveAlternateScreen, Show);
    let _ = stdout.flush();
    let _ = disable_raw_mode();
}

/// The thread that draws: a panic there unwinds through the guard; a panic elsewhere leaves
/// the dashboard without its data, so the process ends once the terminal is back.
static UI_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// Chains a hook that restores the terminal in front of the current one (once per process).
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    let _ = UI_THREAD.set(std::thread::current().id());
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
            if UI_THREAD.get() != Some(&std::thread::current().id()) {
                std::process::exit(101);
            }
        }));
    });
}

/// Set by SIGTERM or SIGHUP: the dashboard quits at its next frame, through the guard.
static STOP: AtomicBool = AtomicBool::new(false);

/// Whether a termination signal asked the dashboard to quit.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// SIGTERM and SIGHUP would otherwise end the process with the terminal still raw. (SIGINT
/// cannot come from the keyboard in raw mode: Ctrl-C arrives as a key.)
fn install_stop_handlers() {
    extern "C" fn on_signal(_: libc::c_int) {
        STOP.store(true, Ordering::SeqCst);
    }
    for signal in [libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
        }
    }
}
