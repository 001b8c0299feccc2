//! End-to-end tests: the real `assure` binary against real servers on loopback.

mod diagnostics;
mod evidence;
mod reports;
mod steps;
mod support;
