//! The process's stdout and stderr, redacted and made terminal-safe at the file
//! descriptor: descriptors 1 and 2 become pipes that a thread drains through the
//! process's redactor into the real streams. Every byte printed reaches them this way
//! (ours, a library's, a panic message, a child process's), so no print can bypass it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

static STDERR_TERMINAL: AtomicBool = AtomicBool::new(false);

/// Whether the real stderr (before redirection) is a terminal.
pub fn stderr_is_terminal() -> bool {
    STDERR_TERMINAL.load(Ordering::Relaxed)
}

#[cfg(unix)]
mod imp {
    use std::io::Write as _;
    use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd, RawFd};
    use std::sync::mpsc;
    use std::time::Duration;

    use crate::redact::sink::Stream;
    use crate::redact::terminal::Filter;

    /// Held bytes are let go after this long without new output: a secret split
    /// between two prints arrives within microseconds, a person reads in tenths.
    const IDLE_MS: i32 = 20;

    pub struct Pump {
        done: mpsc::Receiver<()>,
        threads: usize,
    }

    fn check(r: libc::c_int) -> std::io::Result<libc::c_int> {
        if r < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(r)
        }
    }

    /// Points `fd` at a new pipe and starts the thread that drains it into the
    /// stream `fd` was.
    fn redirect(fd: RawFd, done: mpsc::Sender<()>) -> std::io::Result<bool> {
        // SAFETY: plain descriptor calls; every descriptor made is owned below.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            // Closed by whoever started us: keep it from being reused by a pipe.
            let null = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
            unsafe { check(libc::dup2(null.as_raw_fd(), fd))? };
            return Ok(false);
        }
        let original = unsafe { check(libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3))? };
        let original = unsafe { OwnedFd::from_raw_fd(original) };
        let mut ends = [0; 2];
        unsafe { check(libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC))? };
        let (read, write) =
            unsafe { (OwnedFd::from_raw_fd(ends[0]), OwnedFd::from_raw_fd(ends[1])) };
        // dup2 clears close-on-exec: child processes print through the pipe too.
        unsafe { check(libc::dup2(write.as_raw_fd(), fd))? };
        drop(write);
        std::thread::Builder::new()
            .name(format!("assure-stdio-{fd}"))
            .spawn(move || {
                drain(&read, std::fs::File::from(original));
                let _ = done.send(());
            })?;
        Ok(true)
    }

    fn drain(read: &OwnedFd, mut out: std::fs::File) {
        let mut stream = Stream::default();
        let mut filter = Filter::default();
        let mut buf = vec![0u8; 64 * 1024];
        let mut ready = Vec::new();
        loop {
            let holding = stream.is_holding() || filter.is_holding();
            let mut poll = libc::pollfd {
                fd: read.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let n = unsafe { libc::poll(&mut poll, 1, if holding { IDLE_MS } else { -1 }) };
            let redactor = crate::redact::global();
            if n == 0 {
                stream.settle(&redactor, true, &mut |p| filter.push(p, &mut ready));
                filter.flush(&mut ready);
            } else if n > 0 {
                // SAFETY: reads into a buffer of the length given.
                let got =
                    unsafe { libc::read(read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if got == 0 {
                    break;
                }
                if got > 0 {
                    let data = &buf[..got as usize];
                    stream.push(&redactor, data, &mut |p| filter.push(p, &mut ready));
                } else if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
                {
                    break;
                }
            } else if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                break;
            }
            if !ready.is_empty() {
                let _ = out.write_all(&ready);
                ready.clear();
            }
        }
        stream.settle(&crate::redact::global(), true, &mut |p| {
            filter.push(p, &mut ready)
        });
        filter.flush(&mut ready);
        let _ = out.write_all(&ready);
    }

    pub fn install() -> std::io::Result<Pump> {
        // SAFETY: isatty only reads.
        let terminal = unsafe { libc::isatty(2) } == 1;
        super::STDERR_TERMINAL.store(terminal, std::sync::atomic::Ordering::Relaxed);
        let (done, wait) = mpsc::channel();
        let threads = usize::from(redirect(1, done.clone())?) + usize::from(redirect(2, done)?);
        Ok(Pump {
            done: wait,
            threads,
        })
    }

    impl Pump {
        /// Lets the threads write what they hold and end. Descriptors 1 and 2 then
        /// point at /dev/null, so nothing printed later goes out unredacted.
        pub fn finish(self) {
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
            if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
                // SAFETY: replaces our ends of the pipes; the pipe closes when the
                // last writer (a child still running, perhaps) lets go of it.
                unsafe {
                    libc::dup2(null.as_raw_fd(), 1);
                    libc::dup2(null.as_raw_fd(), 2);
                }
            }
            for _ in 0..self.threads {
                // A child that still holds the pipe must not keep us from exiting.
                if self.done.recv_timeout(Duration::from_secs(2)).is_err() {
                    break;
                }
            }
        }
    }
}

#[cfg(not(unix))]
mod imp {
    pub struct Pump;

    pub fn install() -> std::io::Result<Pump> {
        use std::io::IsTerminal as _;
        super::STDERR_TERMINAL.store(
            std::io::stderr().is_terminal(),
            std::sync::atomic::Ordering::Relaxed,
        );
        Ok(Pump)
    }

    impl Pump {
        pub fn finish(self) {}
    }
}

fn pump() -> &'static Mutex<Option<imp::Pump>> {
    static PUMP: OnceLock<Mutex<Option<imp::Pump>>> = OnceLock::new();
    PUMP.get_or_init(Default::default)
}

/// Redirects stdout and stderr through the redactor, once per process. Call it
/// first thing in `main`; without it (in tests), output goes out as printed. An
/// error means output could not be made safe: the caller must not go on.
pub fn install() -> std::io::Result<()> {
    let mut slot = pump().lock().unwrap_or_else(|p| p.into_inner());
    if slot.is_none() {
        *slot = Some(imp::install()?);
    }
    Ok(())
}

/// Writes out what is held and ends the redirection; call before the process exits.
pub fn finish() {
    let taken = pump().lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(p) = taken {
        p.finish();
    }
}
