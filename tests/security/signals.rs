//! SIGINT and SIGTERM at any moment (during the first `/metadata` read, or while
//! scenarios run) leave a complete, sealed report marked interrupted: exit 130 / 143.

use std::path::{Path, PathBuf};
use std::time::Duration;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::hostile::{self, Fault};
use crate::support::Project;

const FEATURE: &str = r#"@req:T-1
Feature: slow
  Scenario: one
    When I send a GET request to "/one"
    Then the response status is 200
  Scenario: two
    When I send a GET request to "/two"
    Then the response status is 200
  Scenario: three
    When I send a GET request to "/three"
    Then the response status is 200
"#;

/// Starts a run against `target`; once its stderr shows `cue`, waits `then` and sends
/// `signal`. Returns the exit code, stderr and the run folder.
async fn interrupt(
    project: &Project,
    target: &str,
    cue: &str,
    then: Duration,
    signal: &str,
) -> (Option<i32>, String, PathBuf) {
    use std::io::BufRead as _;
    let dir = project.path().to_path_buf();
    let reports = dir.join("reports");
    let (target, cue, signal) = (target.to_owned(), cue.to_owned(), signal.to_owned());
    let (code, stderr) = tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
            .args(["run", "--target", &target, "--concurrency", "1"])
            .args(["--input", "token=abcd1234", "--report-dir"])
            .arg(&reports)
            .arg("--project")
            .arg(&dir)
            .current_dir(&dir)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(&cue) {
                break;
            }
        }
        std::thread::sleep(then);
        std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        for line in lines {
            seen.push_str(&line.unwrap());
            seen.push('\n');
        }
        (child.wait().unwrap().code(), seen)
    })
    .await
    .unwrap();
    let run_dir = std::fs::read_dir(project.path().join("reports"))
        .unwrap_or_else(|e| panic!("no reports folder ({e}): {stderr}"))
        .next()
        .unwrap_or_else(|| panic!("no run folder: {stderr}"))
        .unwrap()
        .path();
    (code, stderr, run_dir)
}

fn sealed_report(dir: &Path) -> serde_json::Value {
    for f in ["report.html", "junit.xml", "summary.md", "manifest.json"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
        .args(["report", "verify"])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(4), "{verify:?}");
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signal_during_the_first_metadata_read_still_writes_the_report() {
    let target = hostile::start(Fault::Hang).await;
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let project = Project::new(&["T-1"]);
        project.feature("slow.feature", FEATURE);
        // The first read starts right after this line and never ends.
        let (got, stderr, dir) = interrupt(
            &project,
            &target.url,
            "running 3 scenarios",
            Duration::from_millis(300),
            signal,
        )
        .await;
        assert_eq!(got, Some(code), "SIG{signal}: {stderr}");
        let report = sealed_report(&dir);
        assert_eq!(report["run"]["interrupted"], true);
        assert_eq!(report["verdict"], "incomplete");
        assert_eq!(report["summary"]["scenarios"]["not_run"], 3);
        assert!(
            stderr.contains(&format!("stopped by SIG{signal}")),
            "{stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_while_scenarios_run_keeps_what_finished() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/metadata"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/one"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(20)))
        .mount(&server)
        .await;
    let project = Project::new(&["T-1"]);
    project.feature("slow.feature", FEATURE);
    // Once the first scenario has finished, while the second waits for its answer.
    let (got, stderr, dir) = interrupt(
        &project,
        &server.uri(),
        "[1/3]",
        Duration::from_millis(300),
        "TERM",
    )
    .await;
    assert_eq!(got, Some(143), "{stderr}");
    let report = sealed_report(&dir);
    assert_eq!(report["run"]["interrupted"], true);
    let counts = &report["summary"]["scenarios"];
    assert_eq!(counts["passed"], 1, "{counts}");
    assert_eq!(counts["not_run"], 2, "{counts}");
}

/// `assure mock` whose stdout nobody reads any more (a pipe full of its request log)
/// still exits on SIGTERM, within its bounded flush, instead of hanging.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_ends_a_mock_whose_output_nobody_reads() {
    use std::io::{BufRead as _, Read as _, Write as _};
    let outcome = tokio::task::spawn_blocking(|| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
            .args([
                "mock",
                "reference-provider",
                "--project",
                env!("CARGO_MANIFEST_DIR"),
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let addr = first
            .split("http://")
            .nth(1)
            .map(|a| a.trim().to_owned())
            .unwrap_or_else(|| panic!("no address: {first}"));
        // Requests until the log has long filled the pipe (64 KiB), and `out` is held
        // unread so it stays full.
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_secs(3) {
            let Ok(mut s) = std::net::TcpStream::connect(&addr) else {
                break;
            };
            let _ = write!(
                s,
                "GET /Patient/9000000009 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
            );
            let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
            let mut sink = Vec::new();
            if s.read_to_end(&mut sink).is_err() {
                break;
            }
        }
        std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let stopped = std::time::Instant::now();
        let code = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code();
            }
            if stopped.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        drop(out);
        code
    })
    .await
    .unwrap();
    assert_eq!(outcome, Some(143), "the mock did not exit on SIGTERM");
}
