//! The HTML report in a real headless Chromium: it loads with no console message,
//! its filters work (set through the address, as a reader's link would), and a
//! screenshot of a failing run is saved to `target/report-failing.png`.
//!
//! Needs a headless Chromium (`cargo xtask test` installs Debian's `chromium` where it
//! may; `ASSURE_CHROMIUM=/path` names another); without one the test does not run, and
//! says so.

use std::path::Path;
use std::process::Command;

use crate::steps::supplier;
use crate::support::Project;

const FEATURE: &str = r#"Feature: Browsing
  @req:T-1 @read
  Scenario: Read a patient
    When I send a GET request to "/Patient/p1"
    Then the response status is 200

  @req:T-2 @read
  Scenario: Wrong family name
    When I send a GET request to "/Patient/p1"
    Then the JSON value at "name[0].family" is "Jones"

  @req:T-3
  Scenario: Wrong status
    When I send a GET request to "/Patient/p2"
    Then the response status is 404

  @req:T-3 @capability:Patient.delete
  Scenario: Delete a patient
    When I send a DELETE request to "/Patient/p1"
    Then the response status is 204
"#;

/// Loads `url` headless; returns the DOM after scripts ran, and Chromium's stderr.
fn load(browser: &Path, url: &str, extra: &[String]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("start chromium");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn attr(dom: &str, name: &str) -> String {
    let key = format!("{name}=\"");
    let start = dom
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in the DOM"))
        + key.len();
    dom[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn visible_scenarios(dom: &str) -> Vec<String> {
    dom.split("<div class=\"scenario ")
        .skip(1)
        .filter(|d| !d.split('>').next().unwrap_or_default().contains("hidden"))
        .filter_map(|d| d.split("<strong>").nth(1))
        .filter_map(|d| d.split("</strong>").next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_html_report_filters_and_shows_failures_in_a_real_browser() {
    let browser = assure_testdata::chromium();
    let server = supplier().await;
    let project = Project::new(&["T-1", "T-2", "T-3"]);
    project.feature("browse.feature", FEATURE);
    let run = project.run(&["run", "--target", &server.uri()]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let html = run.report_dir.clone().unwrap().join("report.html");
    let url = format!("file://{}", html.display());

    let (dom, log) = load(&browser, &url, &["--dump-dom".into()]);
    assert_eq!(
        attr(&dom, "data-ready"),
        "yes",
        "the script did not finish:\n{log}"
    );
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(
        console.is_empty(),
        "console messages:\n{}",
        console.join("\n")
    );
    assert_eq!(attr(&dom, "data-shown-scenarios"), "4");
    // The failing JSON check's element is highlighted in the captured body.
    assert!(
        dom.contains("<mark class=\"hl\">"),
        "no highlighted element"
    );
    assert!(
        dom.contains("\"family\": \"Smith\""),
        "the body is not shown"
    );

    let cases: [(&str, &[&str]); 5] = [
        ("status=failing", &["Wrong family name", "Wrong status"]),
        ("status=passed", &["Read a patient"]),
        ("status=not_applicable", &["Delete a patient"]),
        ("tag=read", &["Read a patient", "Wrong family name"]),
        ("q=FAMILY", &["Wrong family name"]),
    ];
    for (filter, want) in cases {
        let (dom, log) = load(&browser, &format!("{url}#{filter}"), &["--dump-dom".into()]);
        assert_eq!(visible_scenarios(&dom), want, "#{filter}\n{log}");
        assert_eq!(attr(&dom, "data-shown-scenarios"), want.len().to_string());
    }
    // The controls themselves: a reader picking a status, then typing in the search box.
    let page = std::fs::read_to_string(&html).unwrap();
    let clicks = r#"<script>
(function () {
  var select = document.querySelector('select[name=status]');
  select.value = 'failing';
  select.dispatchEvent(new Event('change', {bubbles: true}));
  var search = document.querySelector('input[name=q]');
  search.value = 'STATUS';
  search.dispatchEvent(new Event('input', {bubbles: true}));
})();
</script></body>"#;
    let clicked = html.with_file_name("clicked.html");
    std::fs::write(&clicked, page.replace("</body>", clicks)).unwrap();
    let (dom, log) = load(
        &browser,
        &format!("file://{}", clicked.display()),
        &["--dump-dom".into()],
    );
    assert_eq!(visible_scenarios(&dom), ["Wrong status"], "{log}");
    assert!(!log.contains(":CONSOLE"), "{log}");
    assert!(dom.contains("1 of 4 scenarios"), "the count is not shown");

    // Requirement rows follow the status filter: only T-2 and T-3 failed.
    let (dom, _) = load(
        &browser,
        &format!("{url}#status=failing"),
        &["--dump-dom".into()],
    );
    assert_eq!(attr(&dom, "data-shown-requirements"), "2");

    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).unwrap();
    let png = target.join("report-failing.png");
    let _ = std::fs::remove_file(&png);
    load(
        &browser,
        &url,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,1500".into(),
            "--hide-scrollbars".into(),
        ],
    );
    let bytes = std::fs::read(&png).expect("a screenshot was written");
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000);

    // --format pdf prints the same page; without Chromium it says how to get one.
    let browser_s = browser.display().to_string();
    let args = ["run", "--target", &server.uri(), "--format", "json,pdf"];
    let run = project
        .run_env(&args, &[("ASSURE_CHROMIUM", &browser_s)])
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let pdf = std::fs::read(run.report_dir.unwrap().join("report.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF") && pdf.len() > 5_000);
    // Printed as a page (its <title>), not as the HTML source shown as text.
    let title = b"/Title (assure report: t 0.1.0)";
    assert!(
        pdf.windows(title.len()).any(|w| w == title),
        "the PDF is not the rendered page"
    );
    let run = project
        .run_env(&args, &[("ASSURE_CHROMIUM", "/nonexistent/chromium")])
        .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("cannot start"), "{}", run.stderr);
    let run = project.run_env(&args, &[("PATH", "")]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("needs headless Chromium")
            && run.stderr.contains("apt-get install chromium"),
        "{}",
        run.stderr
    );
    // The other formats are still written, and no half PDF is left behind.
    let dir = run.report_dir.unwrap();
    assert!(dir.join("report.json").exists());
    assert!(!dir.join("report.pdf").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
