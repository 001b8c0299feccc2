//! Live progress on stderr while scenarios run: one redrawn line on a terminal,
//! plain lines (one per finished scenario) in CI logs and pipes. Scenario names come
//! from feature files: they are printed escaped.

use std::io::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use crate::report::model::{ScenarioResult, Status};

/// Told about a run as it goes. Called from the run loop; must not block long.
pub trait Progress: Send + Sync {
    fn started(&self, total: usize);
    fn finished(&self, scenario: &ScenarioResult);
    fn done(&self);
}

struct State {
    total: usize,
    done: usize,
    failed: usize,
    /// Whether a redrawn line is on screen and needs clearing.
    drawn: bool,
}

/// Progress on stderr; redraws one line when stderr is a terminal.
pub struct Stderr {
    terminal: bool,
    clock: Instant,
    state: Mutex<State>,
}

impl Stderr {
    pub fn new() -> Stderr {
        // Stderr itself is a pipe to the redactor: ask what it was before.
        Stderr::with_terminal(crate::redact::stdio::stderr_is_terminal())
    }

    pub fn with_terminal(terminal: bool) -> Stderr {
        Stderr {
            terminal,
            clock: Instant::now(),
            state: Mutex::new(State {
                total: 0,
                done: 0,
                failed: 0,
                drawn: false,
            }),
        }
    }

    fn line(&self, s: &State) -> String {
        let failed = if s.failed == 1 {
            "1 failure".to_owned()
        } else {
            format!("{} failures", s.failed)
        };
        format!(
            "[{}/{}] {failed}, {:.1} s",
            s.done,
            s.total,
            self.clock.elapsed().as_secs_f64()
        )
    }
}

impl Default for Stderr {
    fn default() -> Self {
        Stderr::new()
    }
}

impl Progress for Stderr {
    fn started(&self, total: usize) {
        if let Ok(mut s) = self.state.lock() {
            s.total = total;
        }
    }

    fn finished(&self, scenario: &ScenarioResult) {
        let Ok(mut s) = self.state.lock() else { return };
        s.done += 1;
        if matches!(scenario.status, Status::Failed | Status::Error) {
            s.failed += 1;
        }
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{}", self.line(&s));
            s.drawn = true;
        } else {
            let _ = writeln!(
                err,
                "{}  {:<14} {} {}",
                self.line(&s),
                scenario.status.label(),
                crate::diagnostic::safe(&scenario.id),
                crate::diagnostic::safe(&scenario.name)
            );
        }
        let _ = err.flush();
    }

    fn done(&self) {
        let Ok(mut s) = self.state.lock() else { return };
        if s.drawn {
            let _ = writeln!(std::io::stderr(), "\r\x1b[2K{}", self.line(&s));
            s.drawn = false;
        }
    }
}
