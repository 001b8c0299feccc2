//! Secrets never leak: a random canary for each kind of secret (a secret input sent
//! as a bearer token, the password of the target URL's userinfo, a token in the target
//! URL's query) is echoed back by the target in every place it can put it, quoted by
//! failing checks, and then looked for in every file of every format and in stdout and
//! stderr, in every encoding (`oracle`).

use base64::Engine as _;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::oracle::reveals;
use crate::support::{assert_named_outcomes, Project};

/// Characters a header, a URL and a JSON string all carry without quoting, with the
/// ones that make URL, base64 and JSON encodings differ from the plain text.
const ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/=:@!$*";

fn canary(tag: &str) -> String {
    let random = uuid::Uuid::new_v4();
    let body: String = random
        .as_bytes()
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("{tag}{body}")
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn urlencoded(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A careless target: echoes `X-Echo-Me` (and what else it was sent) everywhere.
struct Echo;

impl Respond for Echo {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let header = |name: &str| {
            req.headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let c = header("x-echo-me");
        let bytes = c.as_bytes();
        if header("x-want") == "binary" {
            let mut body = vec![0xff, 0xfe];
            body.extend_from_slice(bytes);
            body.push(0);
            body.extend(c.encode_utf16().flat_map(u16::to_le_bytes));
            return ResponseTemplate::new(200).set_body_raw(body, "application/octet-stream");
        }
        let jwt = format!(
            "{}.{}.c2ln",
            b64url(br#"{"alg":"HS256"}"#),
            b64url(format!(r#"{{"sub":"{c}","iat":1}}"#).as_bytes())
        );
        let escaped: String = c
            .chars()
            .map(|ch| format!("\\u{:04x}", ch as u32))
            .collect();
        let shifted = |prefix: &[u8]| [prefix, bytes].concat();
        let body = format!(
            r#"{{"resourceType": "Patient", "id": "1", "note": "{c}", "url": "{}", "esc": "{escaped}",
  "b0": "{}", "b1": "{}", "b2": "{}", "u0": "{}", "u1": "{}", "u2": "{}", "hex": "{}", "jwt": "{jwt}",
  "auth": "{}", "requrl": "{}"}}"#,
            urlencoded(&c),
            b64(bytes),
            b64(&shifted(b"x")),
            b64(&shifted(b"xy")),
            b64url(bytes),
            b64url(&shifted(b"x")),
            b64url(&shifted(b"xy")),
            hex(bytes),
            header("authorization").replace('"', "'"),
            req.url,
        );
        ResponseTemplate::new(200)
            .set_body_raw(body, "application/fhir+json")
            .insert_header("X-Echo", c.as_str())
            .insert_header("ETag", format!("W/\"{c}\"").as_str())
            .insert_header(
                "Location",
                format!("http://example.org/Patient/1?next={}", urlencoded(&c)).as_str(),
            )
            .insert_header(
                "Content-Location",
                format!("http://example.org/{c}").as_str(),
            )
            .insert_header("Set-Cookie", format!("session={c}").as_str())
            .insert_header("WWW-Authenticate", format!("Bearer error=\"{c}\"").as_str())
            .insert_header("X-Jwt", jwt.as_str())
            .insert_header(
                "X-Basic",
                format!("Basic {}", b64(&shifted(b"user:"))).as_str(),
            )
            .insert_header("X-Hex", hex(bytes).as_str())
            .insert_header("X-Auth", header("authorization").as_str())
            .insert_header("X-Url", req.url.as_str())
    }
}

const FEATURE: &str = r#"Feature: a target that echoes what it is sent
  Background:
    Given the request header "Authorization" is "Bearer {token}"
    And the request header "X-Echo-Me" is "{token}"

  @req:T-1
  Scenario Outline: fail: the header <name> quoted
    When I send a GET request to "/Patient/1"
    Then the response header "<name>" is "nothing"

    Examples:
      | name             |
      | X-Echo           |
      | ETag             |
      | Location         |
      | Content-Location |
      | Set-Cookie       |
      | WWW-Authenticate |
      | X-Jwt            |
      | X-Basic          |
      | X-Hex            |
      | X-Auth           |
      | X-Url            |

  @req:T-1
  Scenario Outline: fail: the body field <field> quoted
    When I send a GET request to "/Patient/1"
    Then the JSON value at "<field>" is "nothing"

    Examples:
      | field  |
      | note   |
      | url    |
      | esc    |
      | b0     |
      | b1     |
      | b2     |
      | u0     |
      | u1     |
      | u2     |
      | hex    |
      | jwt    |
      | auth   |
      | requrl |

  @req:T-1
  Scenario: fail: a body that is not UTF-8
    Given the request header "X-Want" is "binary"
    When I send a GET request to "/Patient/1"
    Then the JSON value at "id" exists

  @req:T-1
  Scenario: fail: sent in a request body and a request path
    Given the request body is:
      """
      {"resourceType": "Basic", "note": "{token}"}
      """
    When I send a POST request to "/Basic"
    Then I capture the response header "X-Echo" as "echoed"
    When I send a GET request to "/Patient/{echoed}"
    Then the response header "Location" matches "^nothing$"
"#;

/// Every file of the run folder, as (name, bytes).
fn files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn one_run() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Echo)
        .mount(&server)
        .await;
    let token = canary("tk");
    let password = canary("pw");
    let query = canary("qt");
    let address = server.uri().trim_start_matches("http://").to_owned();
    let target = format!(
        "http://operator:{}@{address}/fhir?access_token={}",
        urlencoded(&password),
        urlencoded(&query)
    );
    let project = Project::new(&["T-1"]);
    project.feature("echo.feature", FEATURE);
    let key = project.path().join("key.hex");
    std::fs::write(&key, "11".repeat(32)).unwrap();
    let run = project
        .run_env(
            &[
                "run",
                "--target",
                &target,
                "--format",
                "html,json,junit,md,messages",
                "--sign-key",
                &key.display().to_string(),
            ],
            &[("ASSURE_TEST_TOKEN", token.as_str())],
        )
        .await;
    assert_named_outcomes(&run);
    let dir = run.report_dir.clone().unwrap();
    let files = files(&dir);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "junit.xml",
            "manifest.json",
            "manifest.sig",
            "messages.ndjson",
            "report.html",
            "report.json",
            "summary.md"
        ]
    );
    let mut places: Vec<(String, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.clone(), b.as_slice()))
        .collect();
    places.push(("stdout".into(), run.stdout.as_bytes()));
    places.push(("stderr".into(), run.stderr.as_bytes()));
    let what = [
        "the bearer token",
        "the URL password",
        "the URL query token",
    ];
    let secrets = [token.as_bytes(), password.as_bytes(), query.as_bytes()];
    let mut leaks = Vec::new();
    for (place, bytes) in &places {
        for (which, how) in reveals(bytes, &secrets) {
            leaks.push(format!("{place} holds {} ({how})", what[which]));
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
    assert!(!run.stderr.contains("byte by byte only"), "{}", run.stderr);
    // The target did echo them: masks stand where they were.
    let report = String::from_utf8_lossy(&files[5].1).into_owned();
    assert!(report.matches("[REDACTED]").count() >= 30, "{report}");
    assert!(report.contains("http://[REDACTED]@"), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_random_canary_echoed_everywhere_reaches_no_file_and_no_stream() {
    for _ in 0..2 {
        one_run().await;
    }
}
