//! `assure validate` on bad input: each case gives a clear finding or error naming the
//! file and line:col, and the documented exit code; nothing panics or overflows.

use std::path::Path;
use std::process::Command;

fn core() -> String {
    assure_testdata::path("fhir-packages/hl7.fhir.r4.core-4.0.1.tgz")
        .display()
        .to_string()
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn validate(dir: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_assure"))
        .arg("validate")
        .args(args)
        .current_dir(dir)
        // An empty cache: packages come only from the command line.
        .env("FHIR_PACKAGE_CACHE", dir.join("no-cache"))
        .output()
        .unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

#[test]
fn unreadable_instances_are_fatal_findings_at_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "bad.json",
        b"{\"resourceType\": \"Patient\",\n \"active\": tru}\n",
    );
    write(
        d,
        "bad.xml",
        b"<Patient xmlns=\"http://hl7.org/fhir\">\n <active value=\"true\">\n</Patient>\n",
    );
    write(
        d,
        "latin1.json",
        b"{\"resourceType\": \"Patient\",\n \"name\": [{\"family\": \"M\xfcller\"}]}",
    );
    let deep = format!(
        "{{\"resourceType\": \"Patient\", \"a\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    write(d, "deep.json", deep.as_bytes());
    write(d, "unknown.json", b"{\"resourceType\": \"Patiant\"}");
    write(d, "empty.xml", b"");

    let cases = [
        (
            "bad.json",
            "fatal[structure]: expected a JSON value",
            "bad.json:2:12",
        ),
        (
            "bad.xml",
            "fatal[structure]: not well-formed XML",
            "bad.xml:3:1",
        ),
        (
            "latin1.json",
            "error[structure]: the text is not valid UTF-8 (byte 0xFC",
            "latin1.json:2:24",
        ),
        (
            "deep.json",
            "fatal[structure]: JSON nested deeper than 512 levels",
            "deep.json:1:546",
        ),
        (
            "unknown.json",
            "error[structure]: unknown resource type `Patiant`",
            "unknown.json:1:1",
        ),
        (
            "empty.xml",
            "fatal[structure]: unexpected end of input",
            "empty.xml:1:1",
        ),
    ];
    for (file, message, at) in cases {
        let out = validate(d, &[file, "--package", &core()]);
        assert_eq!(out.code, 1, "{file}: {}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains(message), "{file}: {}", out.stdout);
        assert!(
            out.stdout.contains(&format!("--> {at}\n")),
            "{file}: {}",
            out.stdout
        );
        assert!(out.stderr.is_empty(), "{file}: {}", out.stderr);
    }
    // The caret line of a 200 kB one-line file is clipped around the column.
    let out = validate(d, &["deep.json", "--package", &core()]);
    let longest = out.stdout.lines().map(|l| l.chars().count()).max();
    assert!(longest < Some(200), "{}", out.stdout);
}

#[test]
fn ndjson_lines_are_reported_at_their_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "all.ndjson",
        b"{\"resourceType\": \"Patient\", \"active\": true}\n\n{\"resourceType\": \"Patient\", \"active\": 1}\n{\"resourceType\": \n",
    );
    let out = validate(d, &["all.ndjson", "--package", &core()]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("--> all.ndjson:3:39\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("--> all.ndjson:4:18\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .ends_with("1 file(s): 2 error(s), 2 warning(s), 0 not checked\n"),
        "{}",
        out.stdout
    );

    let out = validate(d, &["all.ndjson", "--package", &core(), "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let issues = report["files"][0]["issues"].as_array().unwrap();
    let lines: Vec<u64> = issues.iter().map(|i| i["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [1, 3, 3, 4], "{}", out.stdout);

    let out = validate(
        d,
        &["all.ndjson", "--package", &core(), "--format", "outcome"],
    );
    let outcome: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"].as_array().unwrap().len(), 4);
}

#[test]
fn usage_problems_exit_2_before_anything_is_validated() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "ok.json",
        b"{\"resourceType\": \"Patient\", \"active\": true}",
    );

    let out = validate(
        d,
        &[
            "ok.json",
            "--package",
            &core(),
            "--profile",
            "http://hl7.org/fhir/StructureDefinition/Patiant",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("--profile http://hl7.org/fhir/StructureDefinition/Patiant: no StructureDefinition with this URL is loaded")
            && out.stderr.contains("did you mean http://hl7.org/fhir/StructureDefinition/Patient?"),
        "{}",
        out.stderr
    );

    let out = validate(d, &["ok.json"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("no FHIR core definitions are loaded"),
        "{}",
        out.stderr
    );

    let out = validate(d, &["missing.json", "--package", &core()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("failed to read missing.json"),
        "{}",
        out.stderr
    );

    let out = validate(d, &["ok.json", "--package", &core()]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let out = validate(d, &["ok.json", "--package", &core(), "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["files"][0]["file"], "ok.json");
}

#[test]
fn definitions_not_loaded_are_counted_and_reference_targets_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "p.json",
        br#"{"resourceType": "Patient", "extension": [{"url": "https://fhir.example.nhs.uk/x", "valueString": "x"}],
  "generalPractitioner": [{"reference": "Observation/1"}], "managingOrganization": {"reference": "Organization/2"}}"#,
    );
    let out = validate(d, &["p.json", "--package", &core()]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("Observation is not a valid target")
            && out.stdout.contains("Patient.generalPractitioner[0]")
            && !out.stdout.contains("Patient.managingOrganization\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .ends_with("1 error(s), 2 warning(s), 1 not checked\n"),
        "{}",
        out.stdout
    );
}
