//! The terminology client against the terminology counterpart in
//! `mocks/terminology-server` (WireMock mappings served by the counterpart module):
//! verdicts, expansions, lookups, the disk cache, and a server that is down, slow or
//! refuses the credentials (never a pass, never a crash).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use assure_fhir::terminology::{Membership, Terminology};

use super::settings::{OAuth, Secret};
use super::*;
use crate::counterpart::{Counterpart, StubSet};

const FINDINGS: &str = "https://example.org/fhir/ValueSet/clinical-findings";
const COLOURS: &str = "https://example.org/fhir/ValueSet/alert-colours";
const COLOUR: &str = "https://example.org/fhir/CodeSystem/alert-colour";
const SCT: &str = "http://snomed.info/sct";

async fn server() -> Counterpart {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("mocks/terminology-server");
    let set = StubSet::load(&dir).unwrap_or_else(|d| panic!("{d}"));
    Counterpart::start(&set, None).await.unwrap()
}

fn settings(server: &Counterpart, path: &str, secret: &str, cache: Option<&Path>) -> TxSettings {
    TxSettings {
        base: format!("{}{path}", server.base_url()),
        auth: Some(OAuth {
            token_url: format!("{}/authorisation/token", server.base_url()),
            client_id: "assure-test".into(),
            client_secret: Secret::new(secret.into()),
            scope: None,
        }),
        timeout: Duration::from_secs(1),
        cache_dir: cache.map(Path::to_path_buf),
        cache_ttl: Duration::from_secs(3600),
    }
}

/// Runs the synchronous client off the async runtime, as the validator's threads do.
async fn off<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

fn paths(server: &Counterpart) -> Vec<String> {
    server
        .journal()
        .iter()
        .map(|e| e.path().to_string())
        .collect()
}

#[tokio::test]
async fn verdicts_expansions_and_lookups_name_the_server_and_are_cached() {
    let s = server().await;
    let cache = tempfile::tempdir().unwrap();
    let tx = RemoteTerminology::start(settings(&s, "/fhir", "tx-test-secret", Some(cache.path())))
        .unwrap();
    let base = tx.base().to_string();
    let t = tx.clone();
    let (yes, no, red, green, displays, known, unknown, foreign) = off(move || {
        (
            t.validate_code(FINDINGS, Some(SCT), "22298006"),
            t.validate_code(FINDINGS, Some(SCT), "276885007"),
            t.validate_code(COLOURS, Some(COLOUR), "red"),
            t.validate_code(COLOURS, Some(COLOUR), "green"),
            t.displays(SCT, "22298006").map(|d| d.into_owned()),
            t.code_in_system(SCT, "276885007"),
            t.code_in_system(SCT, "123456"),
            t.code_in_system("https://example.org/fhir/CodeSystem/local", "x"),
        )
    })
    .await;
    assert_eq!(
        yes,
        Membership::Decided {
            member: true,
            by: base.clone(),
            message: None
        }
    );
    match no {
        Membership::Decided {
            member: false,
            by,
            message: Some(m),
        } => {
            assert_eq!(by, base);
            assert!(m.contains("276885007 is not in the value set"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(red, Membership::Decided { member: true, .. }),
        "{red:?}"
    );
    assert!(
        matches!(green, Membership::Decided { member: false, .. }),
        "{green:?}"
    );
    assert_eq!(
        displays,
        Some(vec![
            "Myocardial infarction".to_string(),
            "Heart attack".to_string()
        ])
    );
    assert_eq!((known, unknown, foreign), (Some(true), Some(false), None));
    let journal = paths(&s);
    // One token for every question; the small value set expanded once, then
    // checked here; the SNOMED CT one refused as too costly, then asked per code.
    let count = |p: &str| journal.iter().filter(|j| j.as_str() == p).count();
    assert_eq!(count("/authorisation/token"), 1, "{journal:?}");
    assert_eq!(count("/fhir/ValueSet/$expand"), 2, "{journal:?}");
    assert_eq!(count("/fhir/ValueSet/$validate-code"), 2, "{journal:?}");
    let token_sent = s
        .journal()
        .iter()
        .filter(|e| e.path().starts_with("/fhir/"))
        .all(|e| e.header("authorization") == Some("Bearer tx-token-1"));
    assert!(token_sent);

    // A second run answers the same questions from the disk cache alone.
    s.clear_journal();
    let again =
        RemoteTerminology::start(settings(&s, "/fhir", "tx-test-secret", Some(cache.path())))
            .unwrap();
    let t = again.clone();
    let (yes2, no2, red2, disp2) = off(move || {
        (
            t.validate_code(FINDINGS, Some(SCT), "22298006"),
            t.validate_code(FINDINGS, Some(SCT), "276885007"),
            t.validate_code(COLOURS, Some(COLOUR), "red"),
            t.displays(SCT, "22298006").map(|d| d.into_owned()),
        )
    })
    .await;
    assert_eq!(yes2, yes);
    assert!(matches!(no2, Membership::Decided { member: false, .. }));
    assert_eq!(red2, red);
    assert_eq!(disp2, displays);
    assert_eq!(again.asked(), 0);
    assert!(s.journal().is_empty(), "{:?}", paths(&s));
    s.shutdown().await;
}

#[tokio::test]
async fn refused_credentials_are_not_checked_and_asked_once() {
    let s = server().await;
    let tx = RemoteTerminology::start(settings(&s, "/fhir", "wrong-secret", None)).unwrap();
    let t = tx.clone();
    let (first, second, lookup) = off(move || {
        (
            t.validate_code(FINDINGS, Some(SCT), "22298006"),
            t.validate_code(FINDINGS, Some(SCT), "276885007"),
            t.code_in_system(SCT, "22298006"),
        )
    })
    .await;
    for answer in [&first, &second] {
        match answer {
            Membership::Unknown(why) => {
                assert!(why.contains("refused the credentials"), "{why}");
                assert!(why.contains("answered 401"), "{why}");
                assert!(!why.contains("wrong-secret"), "the secret was shown: {why}");
            }
            other => panic!("a refused server decided: {other:?}"),
        }
    }
    assert_eq!(lookup, None);
    assert_eq!(
        paths(&s),
        ["/authorisation/token"],
        "asked again after a refusal"
    );
    assert!(tx.down().is_some());
    s.shutdown().await;
}

/// A terminology client pointed at a port nothing listens on.
fn down_server() -> Arc<RemoteTerminology> {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    RemoteTerminology::start(TxSettings {
        base: format!("http://127.0.0.1:{port}/fhir"),
        auth: None,
        timeout: Duration::from_secs(2),
        cache_dir: None,
        cache_ttl: Duration::from_secs(60),
    })
    .unwrap()
}

#[tokio::test]
async fn a_server_that_is_down_is_not_checked_never_a_pass() {
    let tx = down_server();
    let t = tx.clone();
    let (first, second, displays) = off(move || {
        let first = t.validate_code(FINDINGS, Some(SCT), "22298006");
        let started = std::time::Instant::now();
        let second = t.validate_code(COLOURS, Some(COLOUR), "red");
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "asked a down server again"
        );
        (
            first,
            second,
            t.displays(SCT, "22298006").map(|d| d.into_owned()),
        )
    })
    .await;
    for answer in [first, second] {
        match answer {
            Membership::Unknown(why) => {
                assert!(why.starts_with("terminology server unreachable"), "{why}")
            }
            other => panic!("a server that is down decided: {other:?}"),
        }
    }
    assert_eq!(displays, None);
    let host = tx
        .base()
        .trim_start_matches("http://")
        .trim_end_matches("/fhir");
    assert!(tx.down().unwrap().contains(host), "{host}");
}

#[tokio::test]
async fn a_slow_server_times_out_as_unreachable() {
    let s = server().await;
    let mut slow = settings(&s, "/slow/fhir", "tx-test-secret", None);
    slow.auth = None;
    let tx = RemoteTerminology::start(slow).unwrap();
    let t = tx.clone();
    let started = std::time::Instant::now();
    let answer = off(move || t.validate_code(FINDINGS, Some(SCT), "22298006")).await;
    match answer {
        Membership::Unknown(why) => {
            assert!(why.contains("terminology server unreachable"), "{why}");
            assert!(why.contains("within 1 s"), "{why}");
        }
        other => panic!("a server that did not answer decided: {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_millis(2_900),
        "waited for the answer"
    );
    s.shutdown().await;
}

#[test]
fn settings_name_what_is_wrong_and_keep_the_secret_out_of_files() {
    let path = Path::new("assure.toml");
    let config: TerminologyConfig = toml::from_str(
        "url = \"https://tx.example/fhir/\"\ntoken_url = \"https://tx.example/token\"\nclient_id = \"c\"\nclient_secret_env = \"ASSURE_TEST_TX_SECRET_UNSET\"\n",
    )
    .unwrap();
    let err = TxSettings::resolve(&config, path, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ASSURE_TEST_TX_SECRET_UNSET"), "{err}");
    let err = toml::from_str::<TerminologyConfig>("client_secret = \"s3cret\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("client_secret"), "{err}");
    for bad in [
        "ftp://tx.example",
        "https://u:p@tx.example/fhir",
        "not a url",
    ] {
        let err = TxSettings::resolve(&TerminologyConfig::default(), path, Some(bad)).unwrap_err();
        assert!(err.to_string().contains("--tx"), "{err}");
        assert!(!err.to_string().contains(":p@"), "{err}");
    }
    let none = TxSettings::resolve(&TerminologyConfig::default(), path, None).unwrap();
    assert!(none.is_none());
    let open = TxSettings::resolve(&config_without_auth(), path, Some("https://tx.example/r4/"))
        .unwrap()
        .unwrap();
    assert_eq!(open.base, "https://tx.example/r4");
    assert!(open.auth.is_none());
    assert_eq!(
        format!("{:?}", Secret::new("s3cret".into())),
        crate::evidence::MASK
    );
}

fn config_without_auth() -> TerminologyConfig {
    TerminologyConfig {
        timeout: Some(3),
        cache_days: Some(0),
        ..TerminologyConfig::default()
    }
}

/// R4 core and a profile binding `Observation.code` (required) to a SNOMED CT value
/// set the package defines by a filter: only a server can decide.
fn validator_packages(dir: &Path) -> Arc<assure_fhir::PackageSet> {
    let core = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fhir-packages/hl7.fhir.r4.core-4.0.1.tgz");
    let folder = dir.join("findings");
    let package = folder.join("package");
    std::fs::create_dir_all(&package).unwrap();
    let files = [
        (
            "package.json",
            r#"{"name":"example.findings","version":"1.0.0","fhirVersions":["4.0.1"],"dependencies":{"hl7.fhir.r4.core":"4.0.1"}}"#,
        ),
        (
            "ValueSet-clinical-findings.json",
            r#"{"resourceType":"ValueSet","url":"https://example.org/fhir/ValueSet/clinical-findings","status":"active","compose":{"include":[{"system":"http://snomed.info/sct","filter":[{"property":"concept","op":"is-a","value":"404684003"}]}]}}"#,
        ),
        (
            "StructureDefinition-finding.json",
            r#"{"resourceType":"StructureDefinition","url":"https://example.org/fhir/StructureDefinition/finding","name":"Finding","status":"active","fhirVersion":"4.0.1","kind":"resource","abstract":false,"type":"Observation","baseDefinition":"http://hl7.org/fhir/StructureDefinition/Observation","derivation":"constraint","differential":{"element":[{"id":"Observation.code","path":"Observation.code","binding":{"strength":"required","valueSet":"https://example.org/fhir/ValueSet/clinical-findings"}}]}}"#,
        ),
    ];
    for (name, text) in files {
        std::fs::write(package.join(name), text).unwrap();
    }
    let set = assure_fhir::PackageSet::load(&[core, folder], &Default::default()).unwrap();
    Arc::new(set)
}

fn observation(code: &str) -> assure_fhir::Node {
    assure_fhir::parse_json(&format!(
        r#"{{"resourceType":"Observation","status":"final","code":{{"coding":[{{"system":"http://snomed.info/sct","code":"{code}"}}]}},"valueString":"x"}}"#
    ))
    .unwrap()
}

#[tokio::test]
async fn the_validator_asks_the_server_and_says_who_decided_or_that_it_could_not() {
    use assure_fhir::validate::{Validator, ValidatorOptions};
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let set = validator_packages(dir.path());
    let tx = RemoteTerminology::start(settings(&s, "/fhir", "tx-test-secret", None)).unwrap();
    let base = tx.base().to_string();
    let down = down_server();
    let texts = off(move || {
        let profile = ["https://example.org/fhir/StructureDefinition/finding"];
        let messages = |v: &Validator, code: &str| -> Vec<String> {
            v.validate(&observation(code), &profile)
                .iter()
                .map(|i| format!("{:?} {}", i.severity, i.message))
                .filter(|m| m.contains("clinical-findings"))
                .collect()
        };
        let with = Validator::new(set.clone(), ValidatorOptions::default())
            .with_terminology_server(tx.clone());
        let unreachable = Validator::new(set.clone(), ValidatorOptions::default())
            .with_terminology_server(down.clone());
        let alone = Validator::new(set, ValidatorOptions::default());
        [
            messages(&with, "22298006"),
            messages(&with, "276885007"),
            messages(&unreachable, "22298006"),
            messages(&alone, "276885007"),
        ]
    })
    .await;
    let [member, not_member, down_msgs, alone_msgs] = texts;
    assert!(member.is_empty(), "{member:?}");
    assert_eq!(not_member.len(), 1, "{not_member:?}");
    assert!(not_member[0].starts_with("Error"), "{not_member:?}");
    assert!(
        not_member[0].contains(&format!("decided by {base}")),
        "{not_member:?}"
    );
    assert_eq!(down_msgs.len(), 1, "{down_msgs:?}");
    assert!(
        down_msgs[0].contains("not checked")
            && down_msgs[0].contains("terminology server unreachable"),
        "{down_msgs:?}"
    );
    assert!(!down_msgs[0].starts_with("Error"), "{down_msgs:?}");
    // Without a server the code is not checked either, and no server is named.
    assert_eq!(alone_msgs.len(), 1, "{alone_msgs:?}");
    assert!(alone_msgs[0].contains("not checked"), "{alone_msgs:?}");
    s.shutdown().await;
}
