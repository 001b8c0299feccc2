//! Mutual TLS end to end: a CA, server and client certificates made at test time, a
//! rustls server on loopback that requires a client certificate signed by that CA, and
//! the real binary connecting to it with the right, a missing and a foreign client
//! certificate, with and without the custom CA. Key material never reaches a report.

use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::{self, pki_types};

use crate::support::{Project, Run};

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).unwrap();
    Ca { cert, key }
}

/// A leaf certificate signed by `ca`, and its key.
fn leaf(ca: &Ca, names: &[&str], usage: ExtendedKeyUsagePurpose) -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "assure test");
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, &ca.cert, &ca.key).unwrap();
    (cert, key)
}

/// An HTTPS server that requires a client certificate signed by `ca`. It answers
/// `/metadata` with a CapabilityStatement that echoes `echo` (the client's key, so
/// that the redaction of key material is put to the test) and `/Patient/p1`.
async fn serve(ca: &Ca, echo: String) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.cert.der().clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let (cert, key) = leaf(
        ca,
        &["localhost", "127.0.0.1"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![cert.der().clone()],
            pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let metadata = serde_json::json!({
        "resourceType": "CapabilityStatement", "status": "active", "kind": "instance",
        "fhirVersion": "4.0.1", "format": ["json"],
        "software": {"name": "mTLS test provider", "version": "1.0"},
        "implementation": {"description": echo},
        "rest": [{"mode": "server", "resource": [{"type": "Patient", "interaction": [{"code": "read"}]}]}]
    })
    .to_string();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let metadata = metadata.clone();
            tokio::spawn(async move {
                // A refused handshake is the point of some tests: just drop it.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&head);
                let path = line.split_whitespace().nth(1).unwrap_or("/");
                let (status, body) = match path {
                    "/metadata" => ("200 OK", metadata),
                    "/Patient/p1" => (
                        "200 OK",
                        r#"{"resourceType":"Patient","id":"p1"}"#.to_owned(),
                    ),
                    _ => (
                        "404 Not Found",
                        r#"{"resourceType":"OperationOutcome"}"#.to_owned(),
                    ),
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

const FEATURE: &str = r#"
@req:T-1
Feature: mutual TLS

  Scenario: pass: reads a patient over mutual TLS
    When I send a GET request to "/Patient/{patient_id}"
    Then the response status is 200
"#;

struct Setup {
    project: Project,
    target: String,
    key_lines: Vec<String>,
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    dir.join(name).display().to_string()
}

async fn setup() -> Setup {
    let project = Project::new(&["T-1"]);
    project.feature("tls.feature", FEATURE);
    let dir = project.path();
    let ca = ca("assure test CA");
    let other = ca_other();
    let (client, client_key) = leaf(&ca, &[], ExtendedKeyUsagePurpose::ClientAuth);
    let (foreign, foreign_key) = leaf(&other, &[], ExtendedKeyUsagePurpose::ClientAuth);
    let key_pem = client_key.serialize_pem();
    write(dir, "ca.pem", &ca.cert.pem());
    write(dir, "client.pem", &client.pem());
    write(dir, "client.key", &key_pem);
    write(dir, "combined.pem", &format!("{}{}", client.pem(), key_pem));
    write(dir, "foreign.pem", &foreign.pem());
    write(dir, "foreign.key", &foreign_key.serialize_pem());
    write(
        dir,
        "garbage.pem",
        "-----BEGIN CERTIFICATE-----\nnot base64!\n",
    );
    let key_lines = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::to_owned)
        .collect();
    let port = serve(&ca, key_pem).await;
    Setup {
        project,
        target: format!("https://127.0.0.1:{port}"),
        key_lines,
    }
}

fn ca_other() -> Ca {
    ca("another CA")
}

impl Setup {
    async fn run(&self, extra: &[&str]) -> Run {
        let mut args = vec!["run", "--target", &self.target];
        args.extend_from_slice(extra);
        self.project.run(&args).await
    }

    fn file(&self, name: &str) -> String {
        self.project.path().join(name).display().to_string()
    }
}

fn report_files_text(run: &Run) -> String {
    let dir = run.report_dir.as_ref().expect("a report was written");
    let mut text = String::new();
    for entry in walk(dir) {
        text.push_str(&String::from_utf8_lossy(&std::fs::read(entry).unwrap()));
    }
    text
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_right_client_certificate_and_ca_pass_and_the_key_never_reaches_a_report() {
    let s = setup().await;
    let (cert, key, ca) = (s.file("client.pem"), s.file("client.key"), s.file("ca.pem"));
    let run = s
        .run(&[
            "--client-cert",
            &cert,
            "--client-key",
            &key,
            "--ca-bundle",
            &ca,
        ])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    assert_eq!(
        report["run"]["target"]["software"],
        "mTLS test provider 1.0"
    );
    // The server echoed the key in /metadata: the evidence must show it masked.
    let text = report_files_text(&run);
    assert!(
        text.contains("CapabilityStatement"),
        "the metadata body is in the evidence"
    );
    for line in &s.key_lines {
        assert!(
            !text.contains(line.as_str()),
            "key material `{line}` in a report"
        );
    }

    // One combined PEM, CA only, from assure.toml (paths relative to it).
    s.project.file(
        "conf/assure.toml",
        "[tls]\nclient_cert = \"../combined.pem\"\nca_bundle = \"../ca.pem\"\nca_only = true\n",
    );
    let config = s.file("conf/assure.toml");
    let run = s.run(&["--config", &config]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn handshake_failures_say_tls_and_why_and_the_report_is_written() {
    let s = setup().await;
    let ca = s.file("ca.pem");
    let (cert, key) = (s.file("client.pem"), s.file("client.key"));
    let (foreign, foreign_key) = (s.file("foreign.pem"), s.file("foreign.key"));
    let cases: [(&str, Vec<&str>, &str); 3] = [
        (
            "no client certificate",
            vec!["--ca-bundle", &ca],
            "TLS handshake failed: the target refused the client certificate",
        ),
        (
            "a client certificate from another CA",
            vec![
                "--client-cert",
                &foreign,
                "--client-key",
                &foreign_key,
                "--ca-bundle",
                &ca,
            ],
            "TLS handshake failed: the target refused the client certificate",
        ),
        (
            "no custom CA",
            vec!["--client-cert", &cert, "--client-key", &key],
            "TLS handshake failed: certificate verification failed",
        ),
    ];
    for (what, args, expected) in cases {
        let run = s.run(&args).await;
        assert_ne!(run.code, 0, "{what}: {}", run.stderr);
        let report = run.report();
        let status = &report["suites"][0]["features"][0]["scenarios"][0]["status"];
        assert_ne!(status, "passed", "{what}");
        let text = report.to_string();
        assert!(text.contains(expected), "{what}: no `{expected}` in {text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unusable_certificate_files_stop_the_run_as_configuration_errors() {
    let s = setup().await;
    let missing = s.file("missing.key");
    let cert = s.file("client.pem");
    let run = s
        .run(&["--client-cert", &cert, "--client-key", &missing])
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("missing.key") && run.stderr.contains("--client-key"),
        "{}",
        run.stderr
    );
    assert!(run.report_dir.is_none(), "nothing runs");

    s.project
        .file("assure.toml", "[tls]\nclient_cert = \"garbage.pem\"\n");
    let config = s.file("assure.toml");
    let run = s.run(&["--config", &config]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("garbage.pem") && run.stderr.contains("[tls] client_cert"),
        "{}",
        run.stderr
    );

    // A certificate file given as the key: names what is missing.
    let run = s
        .run(&["--client-cert", &cert, "--client-key", &cert])
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("no unencrypted PEM private key"),
        "{}",
        run.stderr
    );
}
