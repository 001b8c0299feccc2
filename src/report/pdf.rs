//! `--format pdf`: the HTML report printed by headless Chromium, when one is
//! installed (Debian: `apt-get install chromium`; elsewhere set `ASSURE_CHROMIUM`).
//! Without it, the PDF is not written and the error says how to get one.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long Chromium may take to print before it is stopped.
const LIMIT: Duration = Duration::from_secs(90);

/// The Chromium to print with: `ASSURE_CHROMIUM`, else the first on `PATH`.
pub fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ASSURE_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let paths = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .find_map(|name| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// Prints `html` to `pdf`.
pub fn print(html: &Path, pdf: &Path) -> io::Result<()> {
    let Some(browser) = chromium() else {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "the PDF report needs headless Chromium, which was not found: install it (Debian: apt-get install chromium) or set ASSURE_CHROMIUM=/path/to/chrome; report.html has the same content",
        ));
    };
    let profile = fresh_profile()?;
    let html = std::path::absolute(html)?;
    let mut child = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            io::Error::new(e.kind(), format!("cannot start {}: {e}", browser.display()))
        })?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&profile);
            return Err(io::Error::other(format!(
                "{} did not print the PDF within {} s",
                browser.display(),
                LIMIT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = std::fs::remove_dir_all(&profile);
    match std::fs::metadata(pdf) {
        Ok(m) if status.success() && m.len() > 0 => Ok(()),
        _ => Err(io::Error::other(format!(
            "{} failed to print the PDF ({status})",
            browser.display()
        ))),
    }
}

/// A fresh, empty Chromium profile (outside the run folder), removed after printing.
fn fresh_profile() -> io::Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("assure-chromium-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
