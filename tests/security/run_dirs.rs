//! Run folders never clash: ids carry 64 random bits, and a folder that exists is
//! never written into; the run takes a new id instead.

use crate::report_gates::{server, THREE};
use crate::support::Project;

#[tokio::test(flavor = "multi_thread")]
async fn run_ids_carry_64_random_bits_and_differ() {
    let project = Project::new(&["T-1", "T-2", "T-3"]);
    project.feature("three.feature", THREE);
    let supplier = server(200, 200, 200).await;
    let id_shape = regex::Regex::new(r"^\d{8}T\d{6}Z-[0-9a-f]{16}$").unwrap();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let run = project.run(&["run", "--target", &supplier.uri()]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let id = run.report()["run"]["id"].as_str().unwrap().to_owned();
        assert!(id_shape.is_match(&id), "{id}");
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1]);
}

#[test]
fn an_existing_folder_is_never_reused() {
    let base = tempfile::tempdir().unwrap();
    let taken = "20260101T000000Z-0123456789abcdef";
    std::fs::create_dir(base.path().join(taken)).unwrap();
    std::fs::write(base.path().join(taken).join("report.json"), "earlier run").unwrap();
    let mut id = taken.to_owned();
    let dir = assure::report::create_run_dir(base.path(), &mut id).unwrap();
    assert_ne!(id, taken);
    assert!(id.starts_with("20260101T000000Z-"), "{id}");
    assert_eq!(dir, base.path().join(&id));
    assert_eq!(
        std::fs::read_to_string(base.path().join(taken).join("report.json")).unwrap(),
        "earlier run"
    );
}
