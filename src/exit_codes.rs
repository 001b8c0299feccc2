//! Exit codes: a contract with CI pipelines, documented in the README.

/// Every required scenario passed.
pub const OK: i32 = 0;
/// The run completed and found conformance failures.
pub const CONFORMANCE_FAILURE: i32 = 1;
/// Bad usage or bad input files (features, suites, mappings, configuration).
pub const BAD_INPUT: i32 = 2;
/// The run could not complete (target unreachable, a port that won't bind, I/O).
pub const INCOMPLETE: i32 = 3;
/// `assure report verify` without a pinned public key: the folder matches its
/// manifest, but who wrote it was not checked.
pub const INTEGRITY_ONLY: i32 = 4;
/// Stopped by SIGINT (Ctrl-C) or SIGTERM: 128 + the signal's number, as shells report.
pub const INTERRUPTED: i32 = 130;
pub const TERMINATED: i32 = 143;
