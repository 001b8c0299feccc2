//! The `assure` binary: parse the command line, run, exit with a documented code.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let code = assure::cli::main(std::env::args().collect()).await;
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(3))
}
