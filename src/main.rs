//! The `assure` binary: make output safe, handle signals, parse the command line,
//! run, exit with a documented code.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    assure::signals::remember();
    // Before anything can print: every byte of stdout and stderr is redacted.
    if let Err(e) = assure::redact::stdio::install() {
        eprintln!("error: cannot redirect output through the redactor: {e}");
        return std::process::ExitCode::from(3);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            assure::redact::stdio::finish();
            return std::process::ExitCode::from(3);
        }
    };
    let code = runtime.block_on(async {
        assure::signals::install();
        assure::cli::main(std::env::args().collect()).await
    });
    drop(runtime);
    assure::redact::stdio::finish();
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(3))
}
