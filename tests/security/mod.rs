//! The security review's findings (issue 15), each reproduced as a test: secrets in
//! every encoding, bounded evidence, signals, verify against hostile folders,
//! terminal safety, run folders, and a hostile target's transport faults.

mod bounded;
mod canary;
mod chaos;
mod hostile;
mod oracle;
mod run_dirs;
mod signals;
mod terminal;
mod verify;
