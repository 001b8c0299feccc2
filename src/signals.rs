//! SIGINT and SIGTERM, handled from the first instruction on. `assure run` turns
//! either into an interrupted run that still writes and seals its report (exit 130 or
//! 143); other commands exit with that code at once, output flushed.

use std::sync::atomic::{AtomicI32, AtomicU8, Ordering};
use std::sync::OnceLock;

pub const SIGINT: i32 = 2;
pub const SIGTERM: i32 = 15;

/// What a signal does, set once the command is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// The command line is still being read: remember the signal.
    Undecided = 0,
    /// Exit with 128 + the signal's number.
    Exit = 1,
    /// `assure run`: stop the run, keep what it gathered, write the report.
    Run = 2,
    /// `assure mock`: SIGINT stops serving (its own handler); SIGTERM exits.
    Mock = 3,
}

static RECEIVED: AtomicI32 = AtomicI32::new(0);
static MODE: AtomicU8 = AtomicU8::new(Mode::Undecided as u8);

fn channel() -> &'static tokio::sync::watch::Sender<i32> {
    static TX: OnceLock<tokio::sync::watch::Sender<i32>> = OnceLock::new();
    TX.get_or_init(|| tokio::sync::watch::channel(0).0)
}

/// Remembers SIGINT and SIGTERM from now on; call first thing in `main`, before the
/// async runtime exists. [`install`] then makes them act.
pub fn remember() {
    #[cfg(unix)]
    // SAFETY: signal masks of this (so far the only) thread, and an action that only
    // does an atomic compare-and-swap, which is async-signal-safe.
    unsafe {
        // Installing a handler leaves an instant in which a signal reaches none:
        // hold both signals until the handler is in place, then take them.
        let mut held: libc::sigset_t = std::mem::zeroed();
        let mut before: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut held);
        libc::sigaddset(&mut held, SIGINT);
        libc::sigaddset(&mut held, SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &held, &mut before);
        for n in [SIGINT, SIGTERM] {
            let _ = signal_hook_registry::register(n, move || {
                let _ = RECEIVED.compare_exchange(0, n, Ordering::SeqCst, Ordering::SeqCst);
            });
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &before, std::ptr::null_mut());
    }
}

/// Installs the handlers that act on signals; call first thing inside the runtime.
pub fn install() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            eprintln!(
                "warning: cannot handle SIGINT and SIGTERM: an interrupted run writes no report"
            );
            return;
        };
        tokio::spawn(async move {
            loop {
                let n = tokio::select! {
                    Some(()) = int.recv() => SIGINT,
                    Some(()) = term.recv() => SIGTERM,
                    else => break,
                };
                on_signal(n);
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async {
        while tokio::signal::ctrl_c().await.is_ok() {
            on_signal(SIGINT);
        }
    });
}

fn on_signal(n: i32) {
    let _ = RECEIVED.compare_exchange(0, n, Ordering::SeqCst, Ordering::SeqCst);
    channel().send_replace(RECEIVED.load(Ordering::SeqCst));
    act(MODE.load(Ordering::SeqCst), n);
}

fn act(mode: u8, n: i32) {
    let exit = mode == Mode::Exit as u8 || (mode == Mode::Mock as u8 && n == SIGTERM);
    if exit {
        exit_now(n);
    }
}

/// Says what signals do from now on; a signal received before acts now.
pub fn set_mode(mode: Mode) {
    MODE.store(mode as u8, Ordering::SeqCst);
    if let Some(n) = received() {
        // A Ctrl-C before `mock` installed its own handler stops it too.
        if mode == Mode::Mock {
            exit_now(n);
        }
        act(mode as u8, n);
    }
}

/// The first signal received, if any.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        n => Some(n),
    }
}

/// Resolves when a signal has been received (at once if one already was).
pub async fn interrupted() -> i32 {
    let mut rx = channel().subscribe();
    // One that came before the runtime's handler was installed notified nobody.
    if let Some(n) = received() {
        return n;
    }
    let got = rx.wait_for(|n| *n != 0).await.map(|n| *n);
    match got {
        Ok(n) => n,
        // The sender lives in a static: never dropped.
        Err(_) => std::future::pending().await,
    }
}

/// The exit code a shell gives a process ended by signal `n`.
pub fn exit_code(n: i32) -> i32 {
    match n {
        SIGINT => crate::exit_codes::INTERRUPTED,
        SIGTERM => crate::exit_codes::TERMINATED,
        _ => 128 + n,
    }
}

pub fn name(n: i32) -> &'static str {
    match n {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

fn exit_now(n: i32) -> ! {
    // Output held up by a reader that stopped reading (a full pipe) must not keep the
    // process alive after it was told to stop: flush for a moment, then exit anyway.
    let (done, wait) = std::sync::mpsc::channel();
    let flushing = std::thread::Builder::new().spawn(move || {
        crate::redact::stdio::finish();
        let _ = done.send(());
    });
    if flushing.is_ok() {
        let _ = wait.recv_timeout(std::time::Duration::from_secs(3));
    }
    std::process::exit(exit_code(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_shell_convention() {
        assert_eq!(exit_code(SIGINT), 130);
        assert_eq!(exit_code(SIGTERM), 143);
        assert_eq!(name(SIGTERM), "SIGTERM");
    }
}
