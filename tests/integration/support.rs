//! A throwaway project (suites + features) and a way to run the binary on it.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Project {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub report_dir: Option<PathBuf>,
}

impl Run {
    pub fn report(&self) -> serde_json::Value {
        let dir = self
            .report_dir
            .as_ref()
            .unwrap_or_else(|| panic!("no report written; stderr:\n{}", self.stderr));
        let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
        serde_json::from_str(&text).expect("report.json parses")
    }

    /// Scenario name → status, over every suite and feature.
    pub fn statuses(&self) -> Vec<(String, String)> {
        let report = self.report();
        crate::view::View::new(&report)
            .scenarios()
            .into_iter()
            .map(|sc| (sc.name, sc.status))
            .collect()
    }
}

impl Project {
    /// A project with one suite `t` whose requirements are `reqs` (all MUST).
    pub fn new(reqs: &[&str]) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let suite = dir.path().join("suites/t");
        std::fs::create_dir_all(&suite).unwrap();
        std::fs::create_dir_all(dir.path().join("features")).unwrap();
        let mut manifest = String::from(
            "[suite]\nid = \"t\"\nversion = \"0.1.0\"\ntitle = \"Test suite\"\nfeatures = [\"../../features/*.feature\"]\ndefault = true\n\n[inputs.patient_id]\ndefault = \"p1\"\n\n[inputs.token]\nsecret = true\n\n",
        );
        for r in reqs {
            manifest.push_str(&format!("[[requirements]]\nid = \"{r}\"\nlevel = \"MUST\"\ntext = \"requirement {r}\"\nsource = \"test\"\n\n"));
        }
        std::fs::write(suite.join("suite.toml"), manifest).unwrap();
        Project { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn feature(&self, name: &str, text: &str) -> &Self {
        std::fs::write(self.path().join("features").join(name), text).unwrap();
        self
    }

    pub fn file(&self, rel: &str, text: &str) -> &Self {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// Runs `assure` with `args` in the project; the secret input is always given.
    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[]).await
    }

    /// As [`Project::run`], with extra environment variables.
    pub async fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut full: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if args.first() == Some(&"run") {
            full.extend(["--input".into(), "token=env:ASSURE_TEST_TOKEN".into()]);
            full.extend([
                "--report-dir".into(),
                self.path().join("reports").display().to_string(),
            ]);
        }
        let dir = self.path().to_path_buf();
        let output = tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_assure"))
                .args(&full)
                .arg("--project")
                .arg(&dir)
                .current_dir(&dir)
                .env("ASSURE_TEST_TOKEN", "tok-CANARY-5ecret")
                // The browser the test command found is for the tests that ask for it.
                .env_remove("ASSURE_CHROMIUM")
                .envs(env)
                .output()
                .expect("run assure")
        })
        .await
        .unwrap();
        let reports = self.path().join("reports");
        let report_dir = std::fs::read_dir(&reports)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(Result::ok)
            .map(|e| e.path());
        if let Some(d) = &report_dir {
            // Each run reads its own report: move it out of the way for the next run.
            let _ = std::fs::rename(
                d,
                self.path()
                    .join(format!("done-{}", d.file_name().unwrap().to_string_lossy())),
            );
        }
        let report_dir = report_dir.map(|d| {
            self.path()
                .join(format!("done-{}", d.file_name().unwrap().to_string_lossy()))
        });
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            report_dir,
        }
    }
}

/// Asserts each scenario named `pass: ...` passed and each `fail: ...` failed.
pub fn assert_named_outcomes(run: &Run) {
    let statuses = run.statuses();
    assert!(!statuses.is_empty(), "no scenarios ran: {}", run.stderr);
    let mut wrong = Vec::new();
    for (name, status) in &statuses {
        let expected = name.split(':').next().unwrap_or_default();
        let expected = match expected {
            "pass" => "passed",
            "fail" => "failed",
            "error" => "error",
            "n/a" => "not_applicable",
            other => panic!("scenario `{name}` does not say its expected outcome ({other})"),
        };
        if status != expected {
            wrong.push(format!("{name}: expected {expected}, got {status}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{}\nstderr:\n{}",
        wrong.join("\n"),
        run.stderr
    );
}

/// A FHIR package cache with R4 core, UK Core, STU3 core and the STU3 CareConnect and
/// GP Connect assets (folders of resources, installed with `--as`), installed once with
/// assure's own installer from the test data's packages (as `.ci/run` seeds CI's).
pub fn package_cache() -> &'static std::path::Path {
    static CACHE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| {
        let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fhir-package-cache");
        let package = |file: &str| assure_testdata::path(&format!("fhir-packages/{file}"));
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
            .args(["packages", "install"])
            .arg(package("hl7.fhir.r4.core-4.0.1.tgz"))
            .arg(package("UK.Core.r4-1.2.0.tgz"))
            .arg(package("hl7.fhir.core-3.0.1.tgz"))
            .env("FHIR_PACKAGE_CACHE", &cache)
            .status()
            .unwrap();
        assert!(status.success(), "seeding the package cache failed");
        for (folder, spec) in STU3_FOLDER_PACKAGES {
            let status = std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
                .args(["packages", "install"])
                .arg(package(folder))
                .args(["--as", spec])
                .env("FHIR_PACKAGE_CACHE", &cache)
                .status()
                .unwrap();
            assert!(status.success(), "installing {folder} as {spec} failed");
        }
        cache
    })
}

/// The STU3 profile folders (no package.json) and the names the GP Connect suite
/// declares them by.
pub const STU3_FOLDER_PACKAGES: [(&str, &str); 2] = [
    (
        "nhsconnect-stu3-fhir-assets-develop-4543c050.tgz",
        "nhsconnect.stu3.fhir-assets#4543c050",
    ),
    (
        "hl7uk-careconnect-stu3-CareConnectAPI-9c11168a.tgz",
        "hl7uk.careconnect.stu3#9c11168a",
    ),
];
