//! Tamper evidence (`manifest.json`, `assure report verify`) and sharded runs merged
//! back with `assure report merge`.

use std::path::{Path, PathBuf};

use assure::report::model::{Report, WaiverState};

use crate::report_gates::{server, THREE};
use crate::support::Project;

const SEED_HEX: &str = "0707070707070707070707070707070707070707070707070707070707070707";

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn any_changed_byte_added_or_removed_file_or_wrong_key_fails_verify() {
    let project = Project::new(&["T-1", "T-2", "T-3"]);
    project.feature("three.feature", THREE);
    let supplier = server(200, 500, 200).await;
    let key_file = project.path().join("key.hex");
    std::fs::write(&key_file, SEED_HEX).unwrap();
    let public = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
    project.file("pub.hex", &assure::evidence::hex(public.as_bytes()));
    project.file(
        "other.hex",
        &assure::evidence::hex(
            ed25519_dalek::SigningKey::from_bytes(&[8u8; 32])
                .verifying_key()
                .as_bytes(),
        ),
    );
    let run = project
        .run(&[
            "run",
            "--target",
            &supplier.uri(),
            "--sign-key",
            &key_file.display().to_string(),
        ])
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let dir = run.report_dir.clone().unwrap();
    let d = dir.display().to_string();
    // The key itself is written nowhere.
    for f in files(&dir) {
        assert!(!std::fs::read_to_string(&f).unwrap().contains(SEED_HEX));
    }
    // The run folder was renamed (`done-<id>`): say which run it holds.
    let id = run.report()["run"]["id"].as_str().unwrap().to_owned();
    let verify = |extra: &'static [&'static str]| {
        let d = d.clone();
        let id = id.clone();
        let project = &project;
        async move {
            let mut args = vec!["report", "verify", d.as_str(), "--run-id", id.as_str()];
            args.extend_from_slice(extra);
            project.run(&args).await
        }
    };
    let ok = verify(&["--public-key", "pub.hex"]).await;
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(ok.stdout.contains("intact"));
    let wrong = verify(&["--public-key", "other.hex"]).await;
    assert_eq!(wrong.code, 1, "{}", wrong.stdout);
    assert!(wrong.stdout.contains("bad signature"), "{}", wrong.stdout);

    let all = files(&dir);
    assert!(all.len() >= 6, "{all:?}");
    for f in &all {
        let original = std::fs::read(f).unwrap();
        for at in [0, original.len() / 2, original.len() - 1] {
            let mut changed = original.clone();
            changed[at] ^= 0x01;
            std::fs::write(f, &changed).unwrap();
            let v = verify(&["--public-key", "pub.hex"]).await;
            assert_eq!(
                v.code,
                1,
                "{} byte {at}: {}{}",
                f.display(),
                v.stdout,
                v.stderr
            );
            // Without the public key, the manifest's own key still catches it.
            let v = verify(&[]).await;
            assert_eq!(
                v.code,
                1,
                "{} byte {at}: {}{}",
                f.display(),
                v.stdout,
                v.stderr
            );
        }
        std::fs::write(f, &original).unwrap();
    }
    assert_eq!(verify(&["--public-key", "pub.hex"]).await.code, 0);
    std::fs::write(dir.join("extra.txt"), "x").unwrap();
    let v = verify(&[]).await;
    assert_eq!(v.code, 1);
    assert!(v.stdout.contains("added: extra.txt"), "{}", v.stdout);
    std::fs::remove_file(dir.join("extra.txt")).unwrap();
    std::fs::remove_file(dir.join("junit.xml")).unwrap();
    let v = verify(&[]).await;
    assert_eq!(v.code, 1);
    assert!(v.stdout.contains("removed: junit.xml"), "{}", v.stdout);

    // Removing the manifest of a signed folder is tampering too.
    let manifest = std::fs::read(dir.join("manifest.json")).unwrap();
    std::fs::remove_file(dir.join("manifest.json")).unwrap();
    let v = verify(&["--public-key", "pub.hex"]).await;
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert_eq!(verify(&[]).await.code, 1);
    std::fs::write(dir.join("manifest.json"), manifest).unwrap();

    // Unreadable input: exit 2.
    let missing = project.run(&["report", "verify", "no-such-dir"]).await;
    assert_eq!(missing.code, 2);
    let bad_key = project
        .run(&["report", "verify", &d, "--public-key", "three.feature"])
        .await;
    assert_eq!(bad_key.code, 2);
}

/// Fixes what differs between two runs of the same thing.
fn normalise(mut r: Report) -> serde_json::Value {
    assure::report::merge::renumber_exchanges(&mut r);
    r.run.id = String::new();
    r.run.started = String::new();
    r.run.finished = String::new();
    r.run.duration_ms = 0.0;
    r.run.command_line.clear();
    r.run.rerun = String::new();
    for sc in r
        .suites
        .iter_mut()
        .flat_map(|s| s.features.iter_mut())
        .flat_map(|f| f.scenarios.iter_mut())
    {
        sc.duration_ms = 0.0;
        for st in &mut sc.steps {
            st.duration_ms = 0.0;
        }
    }
    for ex in &mut r.exchanges {
        ex.started = String::new();
        ex.duration_ms = 0.0;
        ex.overhead_us = 0;
        if let Some(resp) = &mut ex.response {
            resp.headers.retain(|(k, _)| k != "date");
        }
    }
    serde_json::to_value(r).unwrap()
}

const MANY: &str = r#"Feature: many
  Background:
    Given the request accepts "application/fhir+json"

  @req:T-1
  Scenario Outline: read <p>
    When I send a GET request to "/<p>"
    Then the response status is 200

    Examples:
      | p |
      | a |
      | b |
      | c |

  @req:T-2
  Scenario Outline: read <p> again
    When I send a GET request to "/<p>"
    Then the response status is 200

    Examples:
      | p |
      | a |
      | b |
      | c |

  @req:T-3 @capability:Patient.delete
  Scenario: capability without a CapabilityStatement
    When I send a DELETE request to "/a"
    Then the response status is 204

  @req:T-3
  Scenario: two requests
    When I send a GET request to "/a"
    And I send a GET request to "/c"
    Then the response status is 200
"#;

#[tokio::test(flavor = "multi_thread")]
async fn three_shards_merged_equal_the_unsharded_run() {
    let project = Project::new(&["T-1", "T-2", "T-3"]);
    project.feature("many.feature", MANY);
    let supplier = server(200, 500, 200).await;
    let whole = project.run(&["run", "--target", &supplier.uri()]).await;
    assert_eq!(whole.code, 1, "{}", whole.stderr);
    let mut shard_dirs = Vec::new();
    let mut seen = 0;
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let run = project
            .run(&["run", "--target", &supplier.uri(), "--shard", &shard])
            .await;
        assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
        let report = run.report();
        assert_eq!(report["run"]["shard"], shard.as_str());
        seen += report["summary"]["scenarios"]["total"].as_u64().unwrap();
        shard_dirs.push(run.report_dir.clone().unwrap().display().to_string());
    }
    // Unselected scenarios are absent, not "not run".
    assert_eq!(seen, 8);
    let out = project.path().join("merged");
    let out_s = out.display().to_string();
    let mut args = vec!["report", "merge"];
    args.extend(shard_dirs.iter().map(String::as_str));
    args.extend(["--out", &out_s]);
    let merged = project.run(&args).await;
    assert_eq!(merged.code, 1, "{}", merged.stderr);
    let merged_report = assure::report::read_json(&out.join("report.json")).unwrap();
    let merged_id = merged_report.run.id.clone();
    assert!(merged_report.run.shard.is_none());
    assert!(
        !merged_report.run.rerun.contains("--shard"),
        "{}",
        merged_report.run.rerun
    );
    let whole_report =
        assure::report::read_json(&whole.report_dir.unwrap().join("report.json")).unwrap();
    let (a, b) = (normalise(merged_report), normalise(whole_report));
    assert_eq!(
        a,
        b,
        "merged:\n{}\nwhole:\n{}",
        serde_json::to_string_pretty(&a).unwrap(),
        serde_json::to_string_pretty(&b).unwrap()
    );
    // Unsigned: intact, integrity only.
    let v = project
        .run(&["report", "verify", &out_s, "--run-id", &merged_id])
        .await;
    assert_eq!(v.code, 4, "{}", v.stdout);

    // Refusals: nothing overwritten, exit 2.
    let again = project.run(&args).await;
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    let two = project
        .run(&[
            "report",
            "merge",
            &shard_dirs[0],
            &shard_dirs[1],
            "--out",
            "m2",
        ])
        .await;
    assert_eq!(two.code, 2);
    assert!(
        two.stderr.contains("expected shards 1 to 3"),
        "{}",
        two.stderr
    );
    assert!(!project.path().join("m2/report.json").exists());
    // A shard from another suite version: refused as changed since written while its
    // manifest is there, and for what it is once the manifest is gone.
    let other = project.path().join("other");
    copy_dir(Path::new(&shard_dirs[2]), &other);
    let path = other.join("report.json");
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut changed = original.clone();
    changed["suites"][0]["version"] = "0.2.0".into();
    std::fs::write(&path, changed.to_string()).unwrap();
    let other_s = other.display().to_string();
    let tampered = project
        .run(&[
            "report",
            "merge",
            &shard_dirs[0],
            &shard_dirs[1],
            &other_s,
            "--out",
            "m3",
        ])
        .await;
    assert_eq!(tampered.code, 2, "{}", tampered.stderr);
    assert!(
        tampered
            .stderr
            .contains("does not match its manifest (changed report.json)"),
        "{}",
        tampered.stderr
    );
    std::fs::remove_file(other.join("manifest.json")).unwrap();
    let mixed = project
        .run(&[
            "report",
            "merge",
            &shard_dirs[0],
            &shard_dirs[1],
            &other.display().to_string(),
            "--out",
            "m3",
        ])
        .await;
    assert_eq!(mixed.code, 2, "{}", mixed.stderr);
    assert!(
        mixed.stderr.contains("different suites"),
        "{}",
        mixed.stderr
    );
    // A shard of another tool build.
    let mut changed = original.clone();
    changed["run"]["tool"]["version"] = "9.9.9".into();
    std::fs::write(&path, changed.to_string()).unwrap();
    let mixed = project
        .run(&[
            "report",
            "merge",
            &shard_dirs[0],
            &shard_dirs[1],
            &other.display().to_string(),
            "--out",
            "m3",
        ])
        .await;
    assert_eq!(mixed.code, 2, "{}", mixed.stderr);
    assert!(mixed.stderr.contains("one build"), "{}", mixed.stderr);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in files(from) {
        std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn waivers_survive_sharding_and_merging() {
    let project = Project::new(&["T-1", "T-2", "T-3"]);
    project.feature("many.feature", MANY);
    // T-2's `/b` fails; the waiver covers it in whichever shard it lands.
    project.file(
        "waivers.toml",
        "[[waiver]]\nmessage = \"status\"\njustification = \"known\"\naccepted_by = \"QA\"\nexpires = 2099-01-01\n\n[[waiver]]\nrequirement = \"T-9\"\njustification = \"stale\"\naccepted_by = \"QA\"\nexpires = 2099-01-01\n",
    );
    let supplier = server(200, 500, 200).await;
    let base = [
        "run",
        "--target",
        &supplier.uri(),
        "--waivers",
        "waivers.toml",
    ];
    let whole = project.run(&base).await;
    let mut dirs = Vec::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let run = project
            .run(&[&base[..], &["--shard", &shard]].concat())
            .await;
        dirs.push(run.report_dir.unwrap().display().to_string());
    }
    let out = project.path().join("merged").display().to_string();
    let mut args = vec!["report", "merge"];
    args.extend(dirs.iter().map(String::as_str));
    args.extend(["--out", &out]);
    let merged = project.run(&args).await;
    assert_eq!(merged.code, whole.code, "{}", merged.stderr);
    let merged = assure::report::read_json(&Path::new(&out).join("report.json")).unwrap();
    let whole = assure::report::read_json(&whole.report_dir.unwrap().join("report.json")).unwrap();
    assert_eq!(whole.waivers[0].state, WaiverState::Applied);
    assert_eq!(whole.waivers[1].state, WaiverState::Unused);
    assert!(whole.summary.scenarios.waived >= 2, "{:?}", whole.summary);
    assert_eq!(normalise(merged), normalise(whole));
    // A shard run with other waivers is not merged with these.
    project.file("waivers.toml", "");
    let other = project
        .run(&[&base[..], &["--shard", "3/3"]].concat())
        .await;
    let other = other.report_dir.unwrap().display().to_string();
    let mixed = project
        .run(&["report", "merge", &dirs[0], &dirs[1], &other, "--out", "m"])
        .await;
    assert_eq!(mixed.code, 2, "{}", mixed.stderr);
    assert!(mixed.stderr.contains("waivers"), "{}", mixed.stderr);
}
