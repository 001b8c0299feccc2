//! Hostile stub sets: files that lead outside the set, devices, FIFOs, `extends` out
//! of the mocks root, and templates that try to exhaust the machine. Each is refused
//! or answered 500 with a reason; nothing hangs, aborts, or tells what lies outside.

use std::path::Path;
use std::time::Duration;

use assure::counterpart::{Counterpart, StubSet};

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn body_file_mapping(name: &str) -> String {
    format!(
        r#"{{"request": {{"urlPath": "/f"}}, "response": {{"status": 200, "bodyFileName": "{name}"}}}}"#
    )
}

/// The load errors of a set whose only mapping names `file` as its body.
fn load_error(dir: &Path, file: &str) -> String {
    let _ = std::fs::remove_dir_all(dir.join("mappings"));
    write(dir, "mappings/m.json", &body_file_mapping(file));
    let loaded = std::thread::scope(|s| {
        let h = s.spawn(|| StubSet::load(dir));
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !h.is_finished() {
            assert!(
                std::time::Instant::now() < deadline,
                "loading `{file}` hangs"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        h.join().unwrap()
    });
    match loaded {
        Ok(_) => panic!("`{file}` was served"),
        Err(d) => {
            d.0.iter()
                .map(|d| format!("{}: {}", d.message, d.label))
                .collect()
        }
    }
}

#[test]
fn body_files_outside_the_set_devices_and_fifos_are_refused_alike() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("set");
    std::fs::create_dir_all(dir.join("__files")).unwrap();
    std::fs::write(tmp.path().join("secret.txt"), "outside").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("__files/passwd")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("__files/zero")).unwrap();
    std::os::unix::fs::symlink("../../secret.txt", dir.join("__files/up")).unwrap();

    let missing = load_error(&dir, "nothing-here.json");
    // Outside the set, whether or not the file exists: the same message as missing.
    for name in [
        "passwd",
        "zero",
        "up",
        "/etc/passwd",
        "/dev/zero",
        "../../secret.txt",
        "../../no-such-file.txt",
    ] {
        let error = load_error(&dir, name);
        assert_eq!(
            error.replace(name, "NAME"),
            missing.replace("nothing-here.json", "NAME"),
            "{name}"
        );
        assert!(
            !error.contains("outside") && !error.contains("root:"),
            "{error}"
        );
    }

    let fifo = dir.join("__files/fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    assert!(load_error(&dir, "fifo").contains("not a regular file"));
    assert!(load_error(&dir, ".").contains("not a regular file"));
}

#[test]
fn mapping_files_that_are_fifos_or_links_out_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("set");
    write(
        &dir,
        "mappings/ok.json",
        r#"{"request": {"urlPath": "/ok"}, "response": {"status": 200}}"#,
    );
    std::os::unix::fs::symlink("/dev/zero", dir.join("mappings/zero.json")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join("mappings/fifo.json"))
        .status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let errors = std::thread::scope(|s| {
        let h = s.spawn(|| StubSet::load(&dir));
        std::thread::sleep(Duration::from_millis(50));
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !h.is_finished() {
            assert!(std::time::Instant::now() < deadline, "loading hangs");
            std::thread::sleep(Duration::from_millis(20));
        }
        h.join().unwrap().expect_err("refused").0
    });
    let text: Vec<String> = errors
        .iter()
        .map(|d| format!("{} {}", d.file.display(), d.label))
        .collect();
    assert_eq!(errors.len(), 2, "{text:?}");
    assert!(
        text.iter()
            .any(|t| t.contains("fifo.json") && t.contains("not a regular file")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("zero.json") && t.contains("no such file")),
        "{text:?}"
    );
}

#[test]
fn extends_stays_inside_the_mocks_root() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("mocks");
    write(
        &root,
        "base/mappings/a.json",
        r#"{"request": {"urlPath": "/a"}, "response": {"status": 200}}"#,
    );
    let message = |extends: &str| {
        let dir = root.join("overlay");
        let _ = std::fs::remove_dir_all(&dir);
        write(
            &dir,
            "mappings/b.json",
            r#"{"request": {"urlPath": "/b"}, "response": {"status": 200}}"#,
        );
        write(&dir, "mock.toml", &format!("extends = \"{extends}\"\n"));
        let d = StubSet::load(&dir).expect_err("refused");
        d.0.iter()
            .map(|d| format!("{}: {}", d.message, d.label))
            .collect::<String>()
    };
    let etc = message("../../../etc");
    assert!(
        etc.contains("`extends` must name a sibling stub set"),
        "{etc}"
    );
    assert_eq!(etc, message("../../../no-such-folder-anywhere"));
    assert_eq!(etc, message("/etc"));
    assert!(StubSet::load(&root.join("base")).is_ok());
}

#[tokio::test]
async fn runaway_templates_answer_500_and_the_counterpart_keeps_serving() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("set");
    write(
        &dir,
        "mappings/m.json",
        r#"{"mappings": [
          {"request": {"urlPath": "/huge"}, "response": {"status": 200,
             "body": "{{randomValue length=100000000000}}", "transformers": ["response-template"]}},
          {"request": {"urlPath": "/loop"}, "response": {"status": 200,
             "body": "{{#each (range 0 90000)}}{{#each (range 0 90000)}}x{{/each}}{{/each}}", "transformers": ["response-template"]}},
          {"request": {"urlPathPattern": "/file/.*"}, "response": {"status": 200,
             "bodyFileName": "{{request.pathSegments.[1]}}", "transformers": ["response-template"]}},
          {"request": {"urlPath": "/ok"}, "response": {"status": 200, "body": "still here"}}
        ]}"#,
    );
    write(&dir, "__files/inside.txt", "inside");
    let set = StubSet::load(&dir).unwrap_or_else(|d| panic!("{d}"));
    let server = Counterpart::start(&set, None).await.unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |path: &str| {
        let url = format!("{}{path}", server.base_url());
        let client = client.clone();
        async move {
            let res = client.get(url).send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let (status, body) = get("/huge").await;
    assert_eq!(status, 500);
    assert!(
        body.contains("randomValue length 100000000000 exceeds the cap"),
        "{body}"
    );
    let (status, body) = get("/loop").await;
    assert_eq!(status, 500);
    assert!(body.contains("template stopped"), "{body}");
    assert_eq!(get("/file/inside.txt").await, (200, "inside".to_owned()));
    let (status, outside) = get("/file/..%2F..%2F..%2Fetc%2Fpasswd").await;
    assert_eq!(status, 500);
    assert!(!outside.contains("root:"), "{outside}");
    let (_, missing) = get("/file/nothing.txt").await;
    assert_eq!(
        outside.replace("../../../etc/passwd", "NAME"),
        missing.replace("nothing.txt", "NAME")
    );
    assert_eq!(get("/ok").await, (200, "still here".to_owned()));
}
