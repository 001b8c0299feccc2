use base64::Engine as _;

use super::*;

fn b64(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[test]
fn masks_secrets_in_every_encoding() {
    let r = Redactor::new(["s3cr3t/value"]);
    assert_eq!(r.text("x s3cr3t/value y"), format!("x {MASK} y"));
    assert_eq!(r.text("czNjcjN0L3ZhbHVl"), MASK);
    assert_eq!(r.text("a=s3cr3t%2Fvalue"), format!("a={MASK}"));
    assert_eq!(r.text("a=s3cr3t%2fvalue"), format!("a={MASK}"));
    assert_eq!(r.text("s3cr3t\\/value"), MASK);
    let hex: String = "s3cr3t/value".bytes().map(|b| format!("{b:02X}")).collect();
    assert_eq!(r.text(&hex), MASK);
    assert_eq!(r.text("nothing here"), "nothing here");
    // Inside Basic credentials and a JWT claim: base64 at an offset.
    let basic = base64::engine::general_purpose::STANDARD.encode("user:s3cr3t/value");
    assert!(
        !r.text(&basic).contains(&basic[8..16]),
        "{}",
        r.text(&basic)
    );
    let claims = b64(r#"{"sub":"s3cr3t/value","iat":1}"#);
    assert!(r.text(&claims).contains(MASK));
    // Bytes that are not UTF-8.
    let mut raw = vec![0xff];
    raw.extend_from_slice(b"s3cr3t/value");
    assert_eq!(
        &*r.bytes(&raw),
        [&[0xff], MASK.as_bytes()].concat().as_slice()
    );
}

#[test]
fn masks_secret_headers_and_params() {
    let r = Redactor::default();
    // An unsigned token stays readable; a signed one does not.
    let unsigned = format!(
        "Bearer {}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(r#"{"sub":"1"}"#)
    );
    assert_eq!(r.header("Authorization", &unsigned), unsigned);
    let signed = format!(
        "Bearer {}.{}.c2ln",
        b64(r#"{"alg":"RS256"}"#),
        b64(r#"{"sub":"1"}"#)
    );
    assert_eq!(r.header("Authorization", &signed), format!("Bearer {MASK}"));
    let forged = format!(
        "Bearer {}.{}.",
        b64(r#"{"alg":"HS256"}"#),
        b64(r#"{"sub":"1"}"#)
    );
    assert_eq!(r.header("Authorization", &forged), format!("Bearer {MASK}"));
    let with_secret = Redactor::new(["hunter22"]);
    let leaky = format!(
        "Bearer {}.{}.",
        b64(r#"{"alg":"none"}"#),
        b64(r#"{"pw":"hunter22"}"#)
    );
    assert_eq!(
        with_secret.header("Authorization", &leaky),
        format!("Bearer {MASK}")
    );
    assert_eq!(
        r.header("Authorization", "Bearer abc.def"),
        format!("Bearer {MASK}")
    );
    assert_eq!(r.header("Cookie", "sid=1"), MASK);
    assert_eq!(
        r.header("Accept", "application/fhir+json"),
        "application/fhir+json"
    );
    assert_eq!(
        r.url("http://h/p?a=1&access_token=xyz"),
        format!("http://h/p?a=1&access_token={MASK}")
    );
    // FHIR search parameters are not credentials.
    assert_eq!(
        r.url("http://h/Observation?code=1234&_count=2"),
        "http://h/Observation?code=1234&_count=2"
    );
}

#[test]
fn urls_lose_their_userinfo_and_credential_parameters_anywhere_in_text() {
    let r = Redactor::default();
    assert_eq!(
        r.text("GET http://user:pw@host:8080/x failed"),
        format!("GET http://{MASK}@host:8080/x failed")
    );
    assert_eq!(
        r.text("see https://h/cb?state=1&client_secret=abc#f"),
        format!("see https://h/cb?state=1&client_secret={MASK}#f")
    );
    let secrets = url_secrets("http://alice:p%40ss-word@h/?api_key=k3y-v4lue&x=1");
    assert!(secrets.contains(&"p@ss-word".to_owned()), "{secrets:?}");
    assert!(secrets.contains(&"alice:p@ss-word".to_owned()));
    assert!(secrets.contains(&"k3y-v4lue".to_owned()));
    assert!(!secrets.contains(&"1".to_owned()));
}

#[test]
fn short_values_are_never_secrets_and_more_can_be_learned() {
    let r = Redactor::new(["abc", ""]);
    assert!(r.is_empty());
    let r = r.with(["longer-secret"]);
    assert_eq!(r.text("a longer-secret"), format!("a {MASK}"));
    assert!(format!("{r:?}").contains("1 secrets"));
    assert!(!format!("{r:?}").contains("longer"));
}

#[test]
fn writer_escapes_of_a_secret_are_masked_too() {
    let r = Redactor::new(["a<b&c\"d|e"]);
    for shown in [
        "a&lt;b&amp;c&quot;d|e",
        "a<b&c\\\"d|e",
        "a<b&c\"d\\|e",
        "a&lt;b&amp;c\\&quot;d|e",
    ] {
        assert_eq!(
            r.text(&format!("[{shown}]")),
            format!("[{MASK}]"),
            "{shown}"
        );
    }
}

#[test]
fn any_mix_of_escapes_is_seen_through() {
    let r = Redactor::new(["s3cr3t/value-1"]);
    for shown in [
        "s%33cr3t%2Fvalue%2D1",
        "%73%33%63%72%33%74%2f%76%61%6c%75%65%2d%31",
        "s3cr3t\\/value\\u002d1",
        "s3cr3t&#x2F;value&#45;1",
        // JSON inside JSON, and percent-encoding inside a JSON string.
        "s3cr3t\\\\u002fvalue-1",
        "s3cr3t\\u00252Fvalue-1",
    ] {
        assert_eq!(
            r.text(&format!("<{shown}>")),
            format!("<{MASK}>"),
            "{shown}"
        );
    }
    assert_eq!(r.text("s3cr3t%2Fother"), "s3cr3t%2Fother");
    // Through the sink, split anywhere, past a window edge.
    let mut text = "x".repeat(WINDOW - 5).into_bytes();
    text.extend_from_slice(b"s%33cr3t%2Fvalue%2D1 end");
    for cut in [WINDOW - 3, WINDOW, WINDOW + 4] {
        let mut sink = sink::Sink::new(Vec::new(), r.clone());
        std::io::Write::write_all(&mut sink, &text[..cut]).unwrap();
        std::io::Write::write_all(&mut sink, &text[cut..]).unwrap();
        let out = sink.finish().unwrap();
        assert!(out.ends_with(b"x[REDACTED] end"), "cut {cut}");
    }
}
