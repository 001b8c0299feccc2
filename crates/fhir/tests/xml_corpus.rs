//! FHIR XML against JSON on real files: the FHIRPath corpus inputs read from XML must
//! equal their JSON twins, and R4 examples must survive JSON -> XML -> JSON.

use std::path::PathBuf;

use assure_fhir::package::{FhirRelease, LoadOptions, PackageSet};
use assure_fhir::{parse_json, xml, Node};

fn data(rel: &str) -> PathBuf {
    assure_testdata::path(rel)
}

fn r4() -> PackageSet {
    let core = data("fhir-packages/hl7.fhir.r4.core-4.0.1.tgz");
    PackageSet::load(&[core], &LoadOptions::default()).expect("R4 core loads")
}

/// JSON values compared without positions or member order; narrative compared with
/// whitespace collapsed, since the two files were pretty-printed separately.
fn normalise(node: &Node) -> serde_json::Value {
    let mut value = node.to_value();
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                // `fhir_comments` is JSON's old carrier of XML comments, not content.
                map.shift_remove("fhir_comments");
                map.retain(|k, v| {
                    !(k.starts_with('_')
                        && v.as_object()
                            .is_some_and(|o| o.len() == 1 && o.contains_key("fhir_comments")))
                });
                for (k, item) in map.iter_mut() {
                    if k == "div" {
                        if let Some(s) = item.as_str() {
                            let s = xml::normalise_xhtml(s);
                            let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
                            *item = collapsed
                                .replace("> <", "><")
                                .replace(" <", "<")
                                .replace("> ", ">")
                                .into();
                        }
                    }
                    walk(item);
                }
            }
            // Separately pretty-printed twins differ in runs of spaces in text.
            serde_json::Value::String(s) if s.contains("  ") => {
                *s = s
                    .split(' ')
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    value
}

fn first_difference(a: &serde_json::Value, b: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    None => return Some(format!("{path}.{k} only in XML")),
                    Some(w) => {
                        if let Some(d) = first_difference(v, w, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{path}.{k} only in JSON"))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, &format!("{path}[{i}]"))),
        _ if a == b => None,
        (Value::String(x), Value::String(y)) => {
            let at = x.chars().zip(y.chars()).take_while(|(p, q)| p == q).count();
            let around = |s: &str| {
                s.chars()
                    .skip(at.saturating_sub(30))
                    .take(70)
                    .collect::<String>()
            };
            Some(format!(
                "{path} at char {at}: {:?} vs {:?}",
                around(x),
                around(y)
            ))
        }
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}

#[test]
fn xml_and_json_inputs_agree() {
    let set = r4();
    let types = set.types(FhirRelease::R4);
    let dir = data("corpora/fhirpath/input");
    let (mut compared, mut agreeing, mut differences) = (0, 0, Vec::new());
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "xml") {
            continue;
        }
        let twin = dir
            .join("json")
            .join(path.file_name().unwrap())
            .with_extension("json");
        if !twin.is_file() {
            continue;
        }
        let from_xml = xml::parse_resource(&std::fs::read_to_string(&path).unwrap(), &types)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let from_json = parse_json(&std::fs::read_to_string(&twin).unwrap()).unwrap();
        let (a, b) = (normalise(&from_xml), normalise(&from_json));
        match first_difference(&a, &b, "") {
            None => agreeing += 1,
            Some(d) => differences.push(format!("{}: {d}", path.display())),
        }
        // And back: XML written from the tree reads the same.
        let written = xml::write_resource(&from_xml, &types).unwrap();
        let again = xml::parse_resource(&written, &types).unwrap();
        assert_eq!(normalise(&again), a, "{} round trip", path.display());
        compared += 1;
    }
    for d in &differences {
        println!("  {d}");
    }
    println!("xml/json agreement: {agreeing} of {compared} files");
    assert!(compared >= 7, "{compared}");
    assert!(agreeing >= 6, "{agreeing} of {compared}");
}

#[test]
fn r4_examples_round_trip_through_xml() {
    let set = r4();
    let types = set.types(FhirRelease::R4);
    let archive = std::fs::read(data("fhir-packages/hl7.fhir.r4.examples-4.0.1.tgz")).unwrap();
    let files = assure_fhir::package::unpack(&archive, "examples").unwrap();
    let (mut total, mut same, mut failures) = (0, 0, Vec::new());
    // Every 7th file: a spread of resource types without reading all 5,000 twice.
    for (name, bytes) in files
        .iter()
        .filter(|(n, _)| n.ends_with(".json"))
        .step_by(7)
    {
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        let Ok(node) = parse_json(text) else { continue };
        if node.resource_type().is_none() {
            continue;
        }
        total += 1;
        let result =
            xml::write_resource(&node, &types).and_then(|x| xml::parse_resource(&x, &types));
        match result {
            Ok(back) => {
                let (a, b) = (normalise(&back), normalise(&node));
                match first_difference(&a, &b, "") {
                    None => same += 1,
                    Some(d) => failures.push(format!("{name}: {d}")),
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    println!("r4 examples json->xml->json: {same} of {total} identical");
    for f in failures.iter().take(15) {
        println!("  {f}");
    }
    assert!(total > 600, "{total}");
    assert!(same * 100 >= total * 99, "{same} of {total}");
}

#[test]
fn xml_that_is_not_fhir_is_an_error() {
    let set = r4();
    let types = set.types(FhirRelease::R4);
    let err =
        xml::parse_resource("<html xmlns=\"http://www.w3.org/1999/xhtml\"/>", &types).unwrap_err();
    assert!(err.message.contains("not FHIR"), "{err}");
    let err = xml::parse_resource("<Bogus xmlns=\"http://hl7.org/fhir\"/>", &types).unwrap_err();
    assert!(err.message.contains("not a known resource type"), "{err}");
    let err = xml::parse_resource(
        "<Patient xmlns=\"http://hl7.org/fhir\">\n  <active value=\"true\">\n</Patient>",
        &types,
    )
    .unwrap_err();
    assert_eq!(err.pos.line, 3, "{err}");
    let err = xml::parse_resource(
        "<Patient xmlns=\"http://hl7.org/fhir\"><gender value=\"male\"/><gender value=\"female\"/></Patient>",
        &types,
    )
    .unwrap_err();
    assert!(err.message.contains("at most once"), "{err}");
}

#[test]
fn primitives_types_and_extensions() {
    let set = r4();
    let types = set.types(FhirRelease::R4);
    let text = r#"<Patient xmlns="http://hl7.org/fhir">
  <active value="true"/>
  <name><given value="A"/><given id="g2" value="B"><extension url="http://e"><valueInteger value="3"/></extension></given></name>
  <multipleBirthInteger value="2"/>
</Patient>"#;
    let node = xml::parse_resource(text, &types).unwrap();
    let expected = serde_json::json!({
        "resourceType": "Patient",
        "active": true,
        "name": [{"given": ["A", "B"], "_given": [null, {"id": "g2", "extension": [{"url": "http://e", "valueInteger": 3}]}]}],
        "multipleBirthInteger": 2
    });
    assert_eq!(node.to_value(), expected);
    assert_eq!(node.get("active").unwrap().pos.line, 2);
}

#[test]
fn gp_connect_stu3_xml_examples_read_and_round_trip() {
    let core = data("fhir-packages/hl7.fhir.core-3.0.1.tgz");
    let set = PackageSet::load(&[core], &LoadOptions::default()).expect("STU3 core loads");
    let types = set.types(FhirRelease::Stu3);
    let archive = std::fs::read(data(
        "fhir-packages/nhsconnect-stu3-fhir-assets-develop-4543c050.tgz",
    ))
    .unwrap();
    let files = assure_fhir::package::unpack(&archive, "assets").unwrap();
    let (mut total, mut read, mut same, mut failures) = (0, 0, 0, Vec::new());
    for (name, bytes) in files
        .iter()
        .filter(|(n, _)| n.contains("/Examples/") && n.ends_with(".xml"))
    {
        total += 1;
        let text = String::from_utf8_lossy(bytes);
        let node = match xml::parse_resource(&text, &types) {
            Ok(node) => node,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        read += 1;
        match xml::write_resource(&node, &types).and_then(|x| xml::parse_resource(&x, &types)) {
            Ok(back) if normalise(&back) == normalise(&node) => same += 1,
            Ok(back) => failures.push(format!(
                "{name}: {:?}",
                first_difference(&normalise(&back), &normalise(&node), "")
            )),
            Err(e) => failures.push(format!("{name}: round trip: {e}")),
        }
    }
    // Examples published in both forms must say the same thing.
    let (mut twins, mut agreeing) = (0, 0);
    for (name, bytes) in files
        .iter()
        .filter(|(n, _)| n.contains("/Examples/") && n.ends_with(".xml"))
    {
        let twin_name = name.replace(".xml", ".json");
        let Some((_, json)) = files.iter().find(|(n, _)| *n == twin_name) else {
            continue;
        };
        let (Ok(from_xml), Ok(from_json)) = (
            xml::parse_resource(&String::from_utf8_lossy(bytes), &types),
            parse_json(&String::from_utf8_lossy(json)),
        ) else {
            continue;
        };
        twins += 1;
        match first_difference(&normalise(&from_xml), &normalise(&from_json), "") {
            None => agreeing += 1,
            Some(d) => failures.push(format!("{name} vs JSON: {d}")),
        }
    }
    println!("GP Connect STU3 XML examples: {read} of {total} read, {same} round-trip identical; {agreeing} of {twins} agree with their JSON twin");
    for f in failures.iter().take(20) {
        println!("  {f}");
    }
    assert!(total >= 120, "{total}");
    assert!(read * 100 >= total * 95, "{read} of {total}");
    assert_eq!(same, read);
    // The others differ in content as published (ids only in one form, different
    // displays, a number written as a string in JSON).
    assert!(agreeing >= 26, "{agreeing} of {twins}");
}
