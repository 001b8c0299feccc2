//! Snapshots of what a stub author sees for each kind of bad mapping.

use super::write_set;
use crate::counterpart::StubSet;

/// Loads a set made of `files` and renders its diagnostics with the temp path hidden.
fn diagnose(files: &[(&str, &str)]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_set(tmp.path(), "set", files);
    let err = StubSet::load(&dir).expect_err("the set should not load");
    err.to_string()
        .replace(&tmp.path().display().to_string(), "[tmp]")
}

#[test]
fn unknown_fields_suggest_the_right_one() {
    let out = diagnose(&[(
        "mappings/a.json",
        r#"{
  "request": {"method": "GET", "urlPth": "/x"},
  "respons": {"status": 200}
}"#,
    )]);
    insta::assert_snapshot!(out, @r#"
        error: unknown field `urlPth` in request
         --> [tmp]/set/mappings/a.json:2:32
          |
        2 |   "request": {"method": "GET", "urlPth": "/x"},
          |                                ^^^^^^^^ unknown field
          = help: did you mean `urlPath`?

        error: unknown field `respons` in mapping
         --> [tmp]/set/mappings/a.json:3:3
          |
        3 |   "respons": {"status": 200}
          |   ^^^^^^^^^ unknown field
          = help: did you mean `response`?
        "#);
}

#[test]
fn wrong_types_bad_regexes_and_unsupported_jsonpath() {
    let out = diagnose(&[(
        "mappings/a.json",
        r#"{
  "priority": "high",
  "request": {
    "urlPattern": "/Patient/(unclosed",
    "headers": {"Accept": {"equals": "x"}},
    "bodyPatterns": [{"matchesJsonPath": "$.name[?(@.a ==]"}]
  },
  "response": {"status": 200, "fault": "CONNECTION_RESET", "bodyFileName": "missing.json"}
}"#,
    )]);
    insta::assert_snapshot!(out, @r#"
        error: `priority` must be a whole number from -2147483648 to 2147483647
         --> [tmp]/set/mappings/a.json:2:15
          |
        2 |   "priority": "high",
          |               ^^^^^^ found a string

        error: invalid regular expression in `urlPattern`
         --> [tmp]/set/mappings/a.json:4:19
          |
        4 |     "urlPattern": "/Patient/(unclosed",
          |                   ^^^^^^^^^^^^^^^^^^^^ Parsing error at position 18: Opening parenthesis without closing parenthesis

        error: unknown field `equals` in headers matcher
         --> [tmp]/set/mappings/a.json:5:28
          |
        5 |     "headers": {"Accept": {"equals": "x"}},
          |                            ^^^^^^^^ unknown field
          = help: did you mean `equalTo`?

        error: invalid JSONPath
         --> [tmp]/set/mappings/a.json:6:42
          |
        6 |     "bodyPatterns": [{"matchesJsonPath": "$.name[?(@.a ==]"}]
          |                                          ^^^^^^^^^^^^^^^^^^ unclosed `[` (at character 7 of the expression)

        error: unknown fault `CONNECTION_RESET`
         --> [tmp]/set/mappings/a.json:8:40
          |
        8 |   "response": {"status": 200, "fault": "CONNECTION_RESET", "bodyFileName": "missing.json"}
          |                                        ^^^^^^^^^^^^^^^^^^ not a WireMock fault
          = help: did you mean `CONNECTION_RESET_BY_PEER`?

        error: body file cannot be read
         --> [tmp]/set/mappings/a.json:8:76
          |
        8 |   "response": {"status": 200, "fault": "CONNECTION_RESET", "bodyFileName": "missing.json"}
          |                                                                            ^^^^^^^^^^^^^^ `missing.json` under __files/: no such file in the stub set
          = help: a body file is a regular file inside the stub set's __files/ folder
        "#);
}

#[test]
fn templates_transformers_and_unsupported_features() {
    let out = diagnose(&[(
        "mappings/a.json",
        r#"{
  "request": {"urlPath": "/x", "customMatcher": {}},
  "response": {"body": "{{#if}}", "transformers": ["response-template", "other"]}
}"#,
    )]);
    insta::assert_snapshot!(out, @r#"
        error: `customMatcher` is not supported by assure counterparts
         --> [tmp]/set/mappings/a.json:2:32
          |
        2 |   "request": {"urlPath": "/x", "customMatcher": {}},
          |                                ^^^^^^^^^^^^^^^ WireMock feature not implemented
          = help: it needs a WireMock extension; see mocks/README.md

        error: bad response template in `body`
         --> [tmp]/set/mappings/a.json:3:24
          |
        3 |   "response": {"body": "{{#if}}", "transformers": ["response-template", "other"]}
          |                        ^^^^^^^^^ invalid Handlebars syntax at the end of the template

        error: unsupported transformer
         --> [tmp]/set/mappings/a.json:3:73
          |
        3 |   "response": {"body": "{{#if}}", "transformers": ["response-template", "other"]}
          |                                                                         ^^^^^^^ only "response-template" is built into WireMock
        "#);
}

#[test]
fn broken_json_missing_parts_and_bad_manifests() {
    let out = diagnose(&[
        ("mock.toml", "extends = \"nowhere\"\n"),
        ("mappings/a.json", "{\"request\": {}, }"),
        ("mappings/b.json", "{\"response\": {\"status\": 200}}"),
    ]);
    insta::assert_snapshot!(out, @r#"
        error: no stub set `nowhere`
         --> [tmp]/set/mock.toml:1:11
          |
        1 | extends = "nowhere"
          |           ^^^^^^^^^ expected a folder [tmp]/nowhere
          = help: available: set

        error: mapping file is not valid JSON
         --> [tmp]/set/mappings/a.json:1:17
          |
        1 | {"request": {}, }
          |                 ^ expected a member name in double quotes

        error: mapping has no `request`
         --> [tmp]/set/mappings/b.json:1:1
          |
        1 | {"response": {"status": 200}}
          | ^ this mapping
        "#);
    let out = diagnose(&[("mock.toml", "descripton = \"x\"\n")]);
    insta::assert_snapshot!(out, @r#"
        error: invalid mock.toml
         --> [tmp]/set/mock.toml:1:1
          |
        1 | descripton = "x"
          | ^^^^^^^^^^ unknown field `descripton`, expected one of `description`, `extends`, `global_response_templating`
        "#);
}

#[test]
fn every_error_of_a_set_is_reported_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_set(
        tmp.path(),
        "set",
        &[
            (
                "mappings/a.json",
                r#"{"request": {"urlPth": "/"}, "response": {}}"#,
            ),
            (
                "mappings/b.json",
                r#"{"request": {"method": 1}, "response": {"status": 999}}"#,
            ),
        ],
    );
    let errs = StubSet::load(&dir).err().unwrap();
    assert_eq!(errs.0.len(), 3);
    let files: Vec<_> = errs
        .0
        .iter()
        .map(|d| d.file.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(files, ["a.json", "b.json", "b.json"]);
}

#[test]
fn conflicting_fields_and_extends_cycles() {
    let out = diagnose(&[(
        "mappings/a.json",
        r#"{
  "request": {"url": "/a", "urlPath": "/a", "headers": {"X": {"equalTo": "1", "contains": "1"}}},
  "response": {"body": "x", "jsonBody": {}, "headers": {"Bad Name": "x"}},
  "requiredScenarioState": "Started"
}"#,
    )]);
    insta::assert_snapshot!(out, @r#"
        error: scenario states need a `scenarioName`
         --> [tmp]/set/mappings/a.json:1:1
          |
        1 | {
          | ^ this mapping

        error: `urlPath` and `url` both given
         --> [tmp]/set/mappings/a.json:2:28
          |
        2 |   "request": {"url": "/a", "urlPath": "/a", "headers": {"X": {"equalTo": "1", "contains": "1"}}},
          |                            ^^^^^^^^^ second URL matcher
          = help: a request has at most one of url, urlPath, urlPattern, urlPathPattern, urlPathTemplate

        error: more than one operator in this headers matcher
         --> [tmp]/set/mappings/a.json:2:79
          |
        2 |   "request": {"url": "/a", "urlPath": "/a", "headers": {"X": {"equalTo": "1", "contains": "1"}}},
          |                                                                               ^^^^^^^^^^ second operator

        error: `jsonBody` and `body` both given
         --> [tmp]/set/mappings/a.json:3:29
          |
        3 |   "response": {"body": "x", "jsonBody": {}, "headers": {"Bad Name": "x"}},
          |                             ^^^^^^^^^^ second body
          = help: a response has at most one of body, jsonBody, base64Body, bodyFileName

        error: invalid header name `Bad Name`
         --> [tmp]/set/mappings/a.json:3:57
          |
        3 |   "response": {"body": "x", "jsonBody": {}, "headers": {"Bad Name": "x"}},
          |                                                         ^^^^^^^^^^ not an HTTP header name
        "#);

    let tmp = tempfile::tempdir().unwrap();
    write_set(tmp.path(), "a", &[("mock.toml", "extends = \"b\"\n")]);
    let dir = write_set(tmp.path(), "b", &[("mock.toml", "extends = \"a\"\n")]);
    let err = StubSet::load(&dir).expect_err("a cycle");
    let out = err
        .to_string()
        .replace(&tmp.path().display().to_string(), "[tmp]");
    insta::assert_snapshot!(out, @r"
        error: `extends` forms a cycle
         --> [tmp]/b/mock.toml
          = cycle: b -> a -> b
        ");
}

#[test]
fn path_templates_and_their_parameters() {
    let out = diagnose(&[
        (
            "mappings/a.json",
            r#"{"request": {"urlPathTemplate": "/Patient/{id}", "pathParameters": {"ident": {"equalTo": "1"}}}, "response": {}}"#,
        ),
        (
            "mappings/b.json",
            r#"{"request": {"urlPathTemplate": "/Patient/x{id}"}, "response": {}}"#,
        ),
        (
            "mappings/c.json",
            r#"{"request": {"urlPath": "/Patient", "pathParameters": {}}, "response": {}}"#,
        ),
    ]);
    insta::assert_snapshot!(out, @r#"
        error: `ident` is not a parameter of the path template
         --> [tmp]/set/mappings/a.json:1:69
          |
        1 | {"request": {"urlPathTemplate": "/Patient/{id}", "pathParameters": {"ident": {"equalTo": "1"}}}, "response": {}}
          |                                                                     ^^^^^^^ not in urlPathTemplate
          = help: the template has: id

        error: bad `urlPathTemplate`
         --> [tmp]/set/mappings/b.json:1:33
          |
        1 | {"request": {"urlPathTemplate": "/Patient/x{id}"}, "response": {}}
          |                                 ^^^^^^^^^^^^^^^^ `x{id}`: a parameter must be a whole segment, like `{id}`

        error: `pathParameters` needs a `urlPathTemplate`
         --> [tmp]/set/mappings/c.json:1:55
          |
        1 | {"request": {"urlPath": "/Patient", "pathParameters": {}}, "response": {}}
          |                                                       ^ no path template names these parameters
        "#);
}
