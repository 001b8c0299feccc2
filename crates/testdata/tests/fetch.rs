//! The fetch path, against local counterparts of the public sources and of a mirror
//! (these machines reach neither): every catalogued item arrives once and checked;
//! a wrong checksum, an unreachable host and an error answer are each refused with
//! the source named, the next source is tried, and nothing unchecked is kept.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use assure_testdata::{digest, Cache, Catalogue, Item, Origin, Sources, TestData};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

/// Serves fixed bodies by path; 404 for anything else.
struct Files(Arc<BTreeMap<String, Vec<u8>>>);

impl Respond for Files {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        match self.0.get(req.url.path()) {
            Some(body) => ResponseTemplate::new(200).set_body_bytes(body.clone()),
            None => ResponseTemplate::new(404),
        }
    }
}

async fn serve(files: BTreeMap<String, Vec<u8>>) -> MockServer {
    let server = MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(Files(Arc::new(files)))
        .mount(&server)
        .await;
    server
}

/// A URL on loopback where nothing listens.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

fn data(cache: &Path, sources: Sources, items: Vec<Item>) -> TestData {
    TestData {
        catalogue: Catalogue { items },
        roots: Vec::new(),
        cache: Cache::new(cache),
        sources,
    }
}

fn file_item(path: &str, bytes: &[u8], urls: Vec<String>) -> Item {
    Item {
        path: path.into(),
        tree: false,
        sha256: digest::sha256_bytes(bytes),
        origin: "test".into(),
        urls,
        test: true,
    }
}

fn packed(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    digest::pack_tree(dir, &mut bytes).unwrap();
    bytes
}

/// Nothing but checked items (and their stamps) in the cache.
fn leftovers(cache: &Path) -> Vec<String> {
    digest::files(cache)
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f.starts_with(".partial/"))
        .collect()
}

#[tokio::test]
async fn every_catalogued_item_is_fetched_once_from_its_sources_and_checked() {
    let catalogue = Catalogue::builtin();
    // The same files the public sources serve: the test data found on this machine.
    let mut public = BTreeMap::new();
    let mut mirror = BTreeMap::new();
    for item in &catalogue.items {
        let local = assure_testdata::path(&item.path);
        let bytes = if item.tree {
            packed(&local)
        } else {
            std::fs::read(&local).unwrap()
        };
        match item.urls.first() {
            Some(url) => {
                let path = url.split_once("://").unwrap().1;
                let path = &path[path.find('/').unwrap()..];
                public.insert(format!("/public{path}"), bytes);
            }
            None => {
                let suffix = if item.tree { ".tar.gz" } else { "" };
                mirror.insert(format!("/mirror/{}{suffix}", item.path), bytes);
            }
        }
    }
    let expected_requests = public.len() + mirror.len();
    let server = serve(public.into_iter().chain(mirror).collect()).await;
    let mut rewrites = Vec::new();
    for item in &catalogue.items {
        if let Some(url) = item.urls.first() {
            let (scheme, rest) = url.split_once("://").unwrap();
            let origin = format!("{scheme}://{}", &rest[..rest.find('/').unwrap()]);
            rewrites.push((origin, format!("{}/public", server.uri())));
        }
    }
    rewrites.dedup();
    let sources = Sources {
        rewrites,
        mirror: Some(format!("{}/mirror", server.uri())),
        ..Sources::default()
    };
    let cache = tempfile::tempdir().unwrap();
    let fetched = data(cache.path(), sources, catalogue.items.clone());
    for item in &catalogue.items {
        let found = fetched.get(item).unwrap_or_else(|e| panic!("{e}"));
        let Origin::Fetched(url) = &found.origin else {
            panic!("{} was not fetched: {:?}", item.path, found.origin)
        };
        let expected_source = if item.urls.is_empty() {
            "/mirror/"
        } else {
            "/public/"
        };
        assert!(url.contains(expected_source), "{}: from {url}", item.path);
        let digest = if item.tree {
            digest::tree_digest(&found.path).unwrap()
        } else {
            digest::sha256_file(&found.path).unwrap()
        };
        assert_eq!(digest, item.sha256, "{}", item.path);
    }
    // Once: a second look finds them all in the cache, and asks the network nothing.
    for item in &catalogue.items {
        assert_eq!(fetched.get(item).unwrap().origin, Origin::Cache);
    }
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), expected_requests);
    assert!(leftovers(cache.path()).is_empty());
}

#[tokio::test]
async fn a_wrong_checksum_is_refused_named_and_kept_nowhere_then_the_mirror_serves() {
    let good = b"the real package".to_vec();
    let server = serve(BTreeMap::from([
        (
            "/registry/p/1.0.0".to_owned(),
            b"a changed package".to_vec(),
        ),
        ("/mirror/fhir-packages/p-1.0.0.tgz".to_owned(), good.clone()),
    ]))
    .await;
    let item = file_item(
        "fhir-packages/p-1.0.0.tgz",
        &good,
        vec![format!("{}/registry/p/1.0.0", server.uri())],
    );
    let cache = tempfile::tempdir().unwrap();

    let only_public = data(cache.path(), Sources::default(), vec![item.clone()]);
    let err = only_public.get(&item).unwrap_err();
    let line = err.to_string();
    let wrong = digest::sha256_bytes(b"a changed package");
    assert!(
        line.contains("fhir-packages/p-1.0.0.tgz")
            && line.contains("/registry/p/1.0.0")
            && line.contains(&format!(
                "sha256 {wrong} is not the recorded {}",
                item.sha256
            ))
            && line.contains("ASSURE_TEST_DATA"),
        "{line}"
    );
    assert!(!line.contains('\n'), "one line: {line}");
    assert!(only_public.find(&item).is_none());
    assert!(!cache.path().join(&item.path).exists());
    assert!(leftovers(cache.path()).is_empty());

    let sources = Sources {
        mirror: Some(format!("{}/mirror/", server.uri())),
        ..Sources::default()
    };
    let with_mirror = data(cache.path(), sources, vec![item.clone()]);
    let found = with_mirror.get(&item).unwrap();
    assert_eq!(
        found.origin,
        Origin::Fetched(format!("{}/mirror/fhir-packages/p-1.0.0.tgz", server.uri()))
    );
    assert_eq!(std::fs::read(&found.path).unwrap(), good);
}

#[tokio::test]
async fn an_unreachable_host_and_an_error_answer_are_named_and_the_next_source_is_tried() {
    let good = b"corpus".to_vec();
    let server = serve(BTreeMap::from([(
        "/mirror/corpora/x.json".to_owned(),
        good.clone(),
    )]))
    .await;
    let down = closed_port();
    let item = file_item(
        "corpora/x.json",
        &good,
        vec![
            format!("{down}/x.json"),
            format!("{}/gone/x.json", server.uri()),
        ],
    );
    let cache = tempfile::tempdir().unwrap();
    let err = data(cache.path(), Sources::default(), vec![item.clone()])
        .get(&item)
        .unwrap_err();
    assert_eq!(err.attempts.len(), 2, "{err}");
    assert!(
        err.attempts[0].starts_with(&format!("{down}/x.json: unreachable")),
        "{err}"
    );
    assert!(err.attempts[1].ends_with("answered HTTP 404"), "{err}");

    // A host that does not resolve at all.
    let nowhere = file_item(
        "corpora/y.json",
        &good,
        vec!["http://test-data.invalid/y.json".into()],
    );
    let err = data(cache.path(), Sources::default(), vec![nowhere.clone()])
        .get(&nowhere)
        .unwrap_err();
    assert!(
        err.attempts[0].starts_with("http://test-data.invalid/y.json: unreachable"),
        "{err}"
    );

    let sources = Sources {
        mirror: Some(format!("{}/mirror", server.uri())),
        ..Sources::default()
    };
    let found = data(cache.path(), sources, vec![item.clone()])
        .get(&item)
        .unwrap();
    assert!(matches!(found.origin, Origin::Fetched(u) if u.ends_with("/mirror/corpora/x.json")));
}

#[tokio::test]
async fn a_folder_arrives_as_tar_gz_checked_file_by_file_and_a_changed_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("input/json")).unwrap();
    std::fs::write(dir.path().join("tests.json"), r#"{"tests": []}"#).unwrap();
    std::fs::write(dir.path().join("input/json/a.json"), "{}").unwrap();
    let good = packed(dir.path());
    std::fs::write(dir.path().join("input/json/a.json"), "{ }").unwrap();
    let changed = packed(dir.path());
    std::fs::write(dir.path().join("input/json/a.json"), "{}").unwrap();
    let item = Item {
        path: "corpora/cases".into(),
        tree: true,
        sha256: digest::tree_digest(dir.path()).unwrap(),
        origin: "test".into(),
        urls: Vec::new(),
        test: true,
    };
    let server = serve(BTreeMap::from([
        ("/bad/corpora/cases.tar.gz".to_owned(), changed),
        ("/good/corpora/cases.tar.gz".to_owned(), good),
        (
            "/junk/corpora/cases.tar.gz".to_owned(),
            b"not gzip".to_vec(),
        ),
    ]))
    .await;
    let cache = tempfile::tempdir().unwrap();
    let from = |mirror: &str| {
        let sources = Sources {
            mirror: Some(format!("{}/{mirror}", server.uri())),
            ..Sources::default()
        };
        data(cache.path(), sources, vec![item.clone()])
    };
    let err = from("bad").get(&item).unwrap_err();
    assert!(err.to_string().contains("is not the recorded"), "{err}");
    let err = from("junk").get(&item).unwrap_err();
    assert!(err.to_string().contains("not a usable tar.gz"), "{err}");
    assert!(!cache.path().join("corpora/cases").exists());
    assert!(leftovers(cache.path()).is_empty());

    let good = from("good");
    let file = good.path("corpora/cases/input/json/a.json").unwrap();
    assert_eq!(std::fs::read_to_string(file).unwrap(), "{}");
    // A cached copy checked against another sha256 is not trusted.
    let mut newer = item.clone();
    newer.sha256 = "0".repeat(64);
    assert!(good.cache.lookup(&newer).is_none());
    assert!(good.cache.lookup(&item).is_some());
}

#[test]
fn local_copies_come_first_in_order_and_unknown_paths_are_refused() {
    let env = tempfile::tempdir().unwrap();
    let beside = tempfile::tempdir().unwrap();
    let item = file_item("fhir-packages/p.tgz", b"x", Vec::new());
    std::fs::create_dir_all(beside.path().join("fhir-packages")).unwrap();
    std::fs::write(beside.path().join("fhir-packages/p.tgz"), b"x").unwrap();
    let mut data = data(env.path(), Sources::default(), vec![item.clone()]);
    data.roots = vec![
        (env.path().to_path_buf(), Origin::Env),
        (beside.path().to_path_buf(), Origin::Beside),
    ];
    assert_eq!(data.get(&item).unwrap().origin, Origin::Beside);
    std::fs::create_dir_all(env.path().join("fhir-packages")).unwrap();
    std::fs::write(env.path().join("fhir-packages/p.tgz"), b"x").unwrap();
    assert_eq!(data.get(&item).unwrap().origin, Origin::Env);
    let err = data.path("fhir-packages/q.tgz").unwrap_err();
    assert!(err
        .to_string()
        .contains("no item of the test-data catalogue"));
}

#[test]
fn a_test_that_cannot_run_is_recorded_by_name_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("not-run.tsv");
    let log2 = log.clone();
    std::thread::Builder::new()
        .name("corpus::needs_data".into())
        .spawn(move || assure_testdata::record_not_run(&log2, "no data\there").unwrap())
        .unwrap()
        .join()
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text, "fetch\tcorpus::needs_data\tno data here\n");
}
