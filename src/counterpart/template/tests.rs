//! Template rendering against a request, helper by helper, with caps.

use super::*;
use crate::counterpart::request::Incoming;

fn req() -> Incoming {
    Incoming {
        id: "rid".into(),
        received_at: chrono::Utc::now(),
        method: "POST".into(),
        url: "/tpl/seg1?a=1&a=2&q=a%20b".into(),
        headers: vec![
            ("Host".into(), "localhost:18080".into()),
            ("X-A".into(), "H<&>".into()),
            ("Cookie".into(), "s=c1".into()),
        ],
        body: br#"{"a":"<b>\"q\"</b>","n":[1,2],"o":{"k":"v"}}"#.to_vec(),
        client_ip: "127.0.0.1".into(),
        local_port: 18080,
    }
}

fn render(t: &str) -> String {
    let data = model(
        &req(),
        &[("id".into(), "42".into())],
        &serde_json::json!({"p": "param"}),
    );
    Template::parse(t).unwrap().render(&data).unwrap()
}

#[test]
fn request_model_as_wiremock_shows_it() {
    assert_eq!(render("{{request.path}} {{request.path.[0]}} {{request.pathSegments.[1]}} {{request.path.id}}"), "/tpl/seg1 tpl seg1 42");
    assert_eq!(render("{{request.url}} {{request.method}} {{request.baseUrl}} {{request.host}} {{request.port}}"), "/tpl/seg1?a=1&a=2&q=a%20b POST http://localhost:18080 localhost 18080");
    assert_eq!(render("{{request.query.a}} {{request.query.a.[1]}} {{request.query.a.last}} {{request.query.q}}"), "1 2 2 a b");
    assert_eq!(render("{{request.headers.x-a}} {{request.headers.X-A}} {{request.cookies.s}} {{parameters.p}}"), "H<&> H<&> c1 param");
    assert_eq!(
        render("{{request.body}}"),
        r#"{"a":"<b>\"q\"</b>","n":[1,2],"o":{"k":"v"}}"#
    );
    assert_eq!(
        render("{{size request.query.a}} {{#each request.query.a}}[{{this}}]{{/each}}"),
        "2 [1][2]"
    );
}

#[test]
fn helpers_render_as_wiremock_does() {
    assert_eq!(
        render("{{math 1 '+' 2}} {{math 7 '/' 2}} {{math 10 '%' 3}}"),
        "3 4 1"
    );
    assert_eq!(
        render("{{range 1 3}} {{array 1 'two' true}} {{size 'abc'}}"),
        "[1, 2, 3] [1, two, true] 3"
    );
    assert_eq!(
        render("{{base64 'hi'}} {{base64 'aGk=' decode=true}} {{urlEncode 'a b&c'}}"),
        "aGk= hi a+b%26c"
    );
    assert_eq!(render("[{{trim '  x '}}] {{#trim}}  y  {{/trim}}"), "[x] y");
    assert_eq!(
        render("{{jsonPath request.body '$.a'}}|{{jsonPath request.body '$.o'}}"),
        "<b>\"q\"</b>|{\n  \"k\" : \"v\"\n}"
    );
    assert_eq!(render("{{#eq 'a' 'a'}}Y{{else}}N{{/eq}} {{#neq 1 1}}Y{{else}}N{{/neq}} {{#if (gt 3 2)}}G{{/if}}"), "Y N G");
    assert_eq!(
        render("{{capitalize 'hello world'}} {{upper 'x'}} {{lower 'Y'}}"),
        "Hello World X y"
    );
    assert_eq!(render("{{regexExtract 'abc-DEF-123' '([a-z]+)-([A-Z]+)-([0-9]+)' 'parts'}}{{parts.0}},{{parts.2}}"), "abc,123");
    assert_eq!(render("{{#assign 'v'}}val{{/assign}}{{v}}"), "val");
    assert_eq!(
        render("{{#jsonMerge request.body}}{\"n\": 3}{{/jsonMerge}}"),
        r#"{"a":"<b>\"q\"</b>","n":3,"o":{"k":"v"}}"#
    );
    assert_eq!(
        render("{{formatJson '{\"a\":1}' format='compact'}}"),
        r#"{"a":1}"#
    );
    assert_eq!(render("{{#contains 'abcde' 'bcd'}}YES{{/contains}} {{#matches '123' '[0-9]+'}}NUM{{/matches}}"), "YES NUM");
    assert_eq!(render("{{now format='yyyy'}}").len(), 4);
    assert_eq!(render("{{randomValue length=7 type='NUMERIC'}}").len(), 7);
    assert_eq!(render("{{randomValue type='UUID'}}").len(), 36);
    assert_eq!(
        render("{{date (parseDate '2021-06-15T15:16:17Z') format='dd/MM/yyyy'}}"),
        "15/06/2021"
    );
    assert_eq!(
        render("{{systemValue key='PATH'}}"),
        "[ERROR: Access to PATH is denied]"
    );
}

#[test]
fn caps_stop_runaway_templates_with_a_reason() {
    let data = model(&req(), &[], &serde_json::Value::Null);
    let t = Template::parse("{{randomValue length=100000000000}}").unwrap();
    match t.render(&data) {
        Err(RenderFailure::Limit(m)) => {
            assert!(m.contains("randomValue length 100000000000"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    let t = Template::parse("{{#each (range 0 90000)}}{{#each (range 0 90000)}}{{/each}}{{/each}}")
        .unwrap();
    assert!(matches!(t.render(&data), Err(RenderFailure::Limit(_))));
    let t =
        Template::parse("{{#each (range 0 99999)}}{{randomValue length=1000}}{{/each}}").unwrap();
    assert!(matches!(t.render(&data), Err(RenderFailure::Limit(_))));
    let bad = Template::parse("{{now format='rfc1123'}}").unwrap();
    match bad.render(&data) {
        Err(RenderFailure::Error(m)) => assert!(m.contains("Illegal pattern character 'r'"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(Template::parse("{{#if}}unclosed").is_err());
}
