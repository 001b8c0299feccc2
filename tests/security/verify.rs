//! `assure report verify` against a hostile folder: it reads nothing but regular files,
//! tells another run's folder from this one's, and never calls a folder authentic
//! without a public key to prove it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::report_gates::{server, THREE};
use crate::support::Project;

const SEED_HEX: &str = "0707070707070707070707070707070707070707070707070707070707070707";

struct Verified {
    code: Option<i32>,
    stdout: String,
}

/// `assure report verify DIR ARGS...`, killed after 20 s (a hang is a failure).
async fn verify(dir: &Path, args: &[&str]) -> Verified {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_assure"));
    cmd.args(["report", "verify"]).arg(dir).args(args);
    let child = cmd.stdout(std::process::Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let out = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::task::spawn_blocking(move || {
            let out = child.wait_with_output().unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )
        }),
    )
    .await;
    match out {
        Ok(done) => {
            let (code, stdout) = done.unwrap();
            Verified { code, stdout }
        }
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("verify {} hung", dir.display());
        }
    }
}

/// Two signed runs, each in a folder named by its run id: (project, older, newer).
async fn two_signed_runs() -> (Project, PathBuf, PathBuf) {
    let project = Project::new(&["T-1", "T-2", "T-3"]);
    project.feature("three.feature", THREE);
    let supplier = server(200, 200, 200).await;
    let key = project.path().join("key.hex");
    std::fs::write(&key, SEED_HEX).unwrap();
    let public = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
    project.file("pub.hex", &assure::evidence::hex(public.as_bytes()));
    let sealed = project.path().join("sealed");
    std::fs::create_dir_all(&sealed).unwrap();
    let mut dirs = Vec::new();
    for _ in 0..2 {
        let run = project
            .run(&[
                "run",
                "--target",
                &supplier.uri(),
                "--sign-key",
                &key.display().to_string(),
            ])
            .await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let id = run.report()["run"]["id"].as_str().unwrap().to_owned();
        let named = sealed.join(&id);
        std::fs::rename(run.report_dir.unwrap(), &named).unwrap();
        dirs.push(named);
    }
    let newer = dirs.pop().unwrap();
    (project, dirs.pop().unwrap(), newer)
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_proves_authenticity_only_with_a_pinned_key() {
    let (project, older, newer) = two_signed_runs().await;
    let public = project.path().join("pub.hex");
    let public = public.to_str().unwrap();
    let ok = verify(&newer, &["--public-key", public]).await;
    assert_eq!(ok.code, Some(0), "{}", ok.stdout);

    // Without a key: intact, but it says that is integrity only, in words and code.
    let unpinned = verify(&newer, &[]).await;
    assert_eq!(unpinned.code, Some(4), "{}", unpinned.stdout);
    assert!(
        unpinned.stdout.contains("integrity only"),
        "{}",
        unpinned.stdout
    );

    // Tampered, re-hashed, signature deleted: never intact-and-authentic.
    let report = newer.join("report.json");
    let text = std::fs::read_to_string(&report).unwrap();
    std::fs::write(&report, text.replacen("\"passed\"", "\"failed\"", 1)).unwrap();
    std::fs::remove_file(newer.join("manifest.sig")).unwrap();
    let id = newer.file_name().unwrap().to_str().unwrap().to_owned();
    assure::report::manifest::write(&newer, &id, None).unwrap();
    let forged = verify(&newer, &[]).await;
    assert_eq!(forged.code, Some(4), "{}", forged.stdout);
    assert!(forged.stdout.contains("not signed"), "{}", forged.stdout);
    let pinned = verify(&newer, &["--public-key", public]).await;
    assert_eq!(pinned.code, Some(1), "{}", pinned.stdout);

    // The newer run's folder holding the older run's signed files.
    for entry in std::fs::read_dir(&newer).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    for entry in std::fs::read_dir(&older).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, newer.join(p.file_name().unwrap())).unwrap();
    }
    let replaced = verify(&newer, &["--public-key", public]).await;
    assert_eq!(replaced.code, Some(1), "{}", replaced.stdout);
    assert!(
        replaced.stdout.contains("replaced by another run"),
        "{}",
        replaced.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_never_opens_fifos_links_or_folders() {
    let (project, older, _) = two_signed_runs().await;
    let public = project.path().join("pub.hex");
    let public = public.to_str().unwrap();
    let fifo = std::ffi::CString::new(older.join("pipe").to_str().unwrap()).unwrap();
    // SAFETY: a path made above.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    std::os::unix::fs::symlink("/dev/zero", older.join("zero")).unwrap();
    std::fs::create_dir(older.join("folder")).unwrap();
    let v = verify(&older, &["--public-key", public]).await;
    assert_eq!(v.code, Some(1), "{}", v.stdout);
    for added in [
        "added: pipe (a FIFO, not read)",
        "added: zero (a symbolic link, not read)",
        "added: folder (a folder, not read)",
    ] {
        assert!(v.stdout.contains(added), "{added}: {}", v.stdout);
    }
    // A listed file swapped for a link to an endless device.
    std::fs::remove_file(older.join("junit.xml")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", older.join("junit.xml")).unwrap();
    let v = verify(&older, &["--public-key", public]).await;
    assert!(
        v.stdout
            .contains("changed: junit.xml (now a symbolic link, not read)"),
        "{}",
        v.stdout
    );
}
