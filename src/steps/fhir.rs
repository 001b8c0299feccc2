//! FHIR RESTful steps: resource types, versions, Bundles and OperationOutcomes.

use assure_fhir::model::Node;
use cucumber::step::Context;

use super::data::scalar_text;
use super::{arg, StepDef, THEN, WHEN};
use crate::outcome::{fail, Finding, FindingKind, StepResult, Stop};
use crate::step_fn;
use crate::world::AssureWorld;

pub fn steps() -> Vec<StepDef> {
    vec![
        StepDef {
            kinds: THEN,
            pattern: r"the response body is an? ([A-Z][A-Za-z]+) resource",
            usage: "the response body is a <ResourceType> resource",
            help: "Checks the body is JSON with that `resourceType`.",
            example: "Then the response body is a Patient resource",
            func: step_fn!(resource_type),
        },
        StepDef {
            kinds: THEN,
            pattern: r"every item of every List in the Bundle is an entry of the Bundle",
            usage: "every item of every List in the Bundle is an entry of the Bundle",
            help: "Checks each `List.entry.item` reference (`Type/id`, a fullUrl, or `#id` of a resource contained in the List) of the Lists in the response Bundle names a resource the Bundle holds, as GP Connect structured records must; there must be at least one List.",
            example: "Then every item of every List in the Bundle is an entry of the Bundle",
            func: step_fn!(list_items_in_bundle),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the ETag matches the resource version",
            usage: "the ETag matches the resource version",
            help: "Checks the ETag header carries `meta.versionId`: W/\"<versionId>\" (or the strong \"<versionId>\"). Not applicable when the resource has no `meta.versionId` (a server without versioning).",
            example: "Then the ETag matches the resource version",
            func: step_fn!(etag_matches_version),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the Bundle type is {Q}",
            usage: r#"the Bundle type is "<type>""#,
            help: "Checks the body is a Bundle of that type (searchset, history, collection...).",
            example: r#"Then the Bundle type is "searchset""#,
            func: step_fn!(bundle_type),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the Bundle total is (\d+)",
            usage: "the Bundle total is <n>",
            help: "Checks `Bundle.total`.",
            example: "Then the Bundle total is 1",
            func: step_fn!(bundle_total),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the Bundle has (exactly|at least|at most) (\d+) entr(?:y|ies)",
            usage: "the Bundle has exactly|at least|at most <n> entries",
            help: "Checks the number of `Bundle.entry` elements.",
            example: "Then the Bundle has exactly 1 entry",
            func: step_fn!(bundle_entries),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the Bundle has an? {Q} link",
            usage: r#"the Bundle has a "<relation>" link"#,
            help: "Checks `Bundle.link` has that relation (self, next, previous...) with a URL.",
            example: r#"Then the Bundle has a "self" link"#,
            func: step_fn!(bundle_has_link),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the Bundle has no {Q} link",
            usage: r#"the Bundle has no "<relation>" link"#,
            help: "Checks `Bundle.link` has no such relation.",
            example: r#"Then the Bundle has no "next" link"#,
            func: step_fn!(bundle_has_no_link),
        },
        StepDef {
            kinds: THEN,
            pattern: r"every Bundle entry is an? ([A-Z][A-Za-z]+) resource",
            usage: "every Bundle entry is a <ResourceType> resource",
            help: "Checks each entry whose search mode is `match` (or has none) holds that resource type.",
            example: "Then every Bundle entry is a Patient resource",
            func: step_fn!(entries_are),
        },
        StepDef {
            kinds: THEN,
            pattern: r"every Bundle entry has the search mode {Q}",
            usage: r#"every Bundle entry has the search mode "<mode>""#,
            help: "Checks `entry.search.mode` of every entry.",
            example: r#"Then every Bundle entry has the search mode "match""#,
            func: step_fn!(entries_search_mode),
        },
        StepDef {
            kinds: THEN,
            pattern: r"every Bundle entry has an absolute fullUrl",
            usage: "every Bundle entry has an absolute fullUrl",
            help: "Checks `entry.fullUrl` is an absolute URL (or urn:uuid/urn:oid) on every entry.",
            example: "Then every Bundle entry has an absolute fullUrl",
            func: step_fn!(entries_full_url),
        },
        StepDef {
            kinds: WHEN,
            pattern: r"I follow the Bundle link {Q}",
            usage: r#"I follow the Bundle link "<relation>""#,
            help: "Sends a GET to the URL of the last Bundle's link with that relation (e.g. `next`).",
            example: r#"When I follow the Bundle link "next""#,
            func: step_fn!(follow_link),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response is an OperationOutcome",
            usage: "the response is an OperationOutcome",
            help: "Checks the body is an OperationOutcome with at least one issue.",
            example: "Then the response is an OperationOutcome",
            func: step_fn!(is_outcome),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the OperationOutcome has an issue with (severity|code) {Q}",
            usage: r#"the OperationOutcome has an issue with severity|code "<value>""#,
            help: "Checks some `OperationOutcome.issue` has that severity (fatal, error...) or code (not-found...).",
            example: r#"Then the OperationOutcome has an issue with code "not-found""#,
            func: step_fn!(outcome_issue),
        },
    ]
}

fn resource_of<'a>(w: &'a AssureWorld, expected: &str) -> Result<&'a Node, Stop> {
    let json = w.json()?;
    match json.resource_type() {
        Some(t) if t == expected => Ok(json),
        Some(t) => fail(
            Finding::new(
                FindingKind::Body,
                format!("the response body is not a {expected}"),
            )
            .expected(expected, t),
        ),
        None => fail(
            Finding::new(FindingKind::Body, "the response body has no resourceType")
                .expected(expected, "no resourceType"),
        ),
    }
}

async fn resource_type(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    resource_of(w, &arg(ctx, 1)).map(|_| ())
}

async fn etag_matches_version(w: &mut AssureWorld, _: &Context) -> StepResult {
    let json = w.json()?;
    let Some(version) = json
        .get("meta")
        .and_then(|m| m.get("versionId"))
        .map(scalar_text)
    else {
        // "(if versioning is supported)": a server without it has no version to send.
        return Err(Stop::not_applicable(
            "the resource has no meta.versionId (the server does not version it), so there is no version for the ETag to carry",
        ));
    };
    let weak = format!("W/\"{version}\"");
    let strong = format!("\"{version}\"");
    match w.response()?.received.header("ETag") {
        Some(etag) if etag == weak || etag == strong => Ok(()),
        Some(etag) => fail(
            Finding::new(
                FindingKind::Header,
                "the ETag does not match meta.versionId",
            )
            .expected(weak, etag),
        ),
        None => fail(
            Finding::new(FindingKind::Header, "the response has no ETag header")
                .expected(weak, "no ETag"),
        ),
    }
}

fn bundle(w: &AssureWorld) -> Result<&Node, Stop> {
    resource_of(w, "Bundle")
}

async fn bundle_type(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let expected = arg(ctx, 1);
    let actual = bundle(w)?
        .get("type")
        .map(scalar_text)
        .unwrap_or_else(|| "no type".into());
    if actual == expected {
        Ok(())
    } else {
        fail(Finding::new(FindingKind::Body, "unexpected Bundle type").expected(expected, actual))
    }
}

async fn bundle_total(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let expected = arg(ctx, 1);
    let actual = bundle(w)?
        .get("total")
        .map(scalar_text)
        .unwrap_or_else(|| "no total".into());
    if actual == expected {
        Ok(())
    } else {
        fail(Finding::new(FindingKind::Body, "unexpected Bundle total").expected(expected, actual))
    }
}

async fn bundle_entries(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let how = arg(ctx, 1);
    let n: usize = arg(ctx, 2).parse().unwrap_or_default();
    let count = bundle(w)?.get("entry").map_or(0, |e| e.items().len());
    let ok = match how.as_str() {
        "exactly" => count == n,
        "at least" => count >= n,
        _ => count <= n,
    };
    if ok {
        Ok(())
    } else {
        fail(
            Finding::new(FindingKind::Body, "unexpected number of Bundle entries")
                .expected(format!("{how} {n}"), count.to_string()),
        )
    }
}

fn link<'a>(bundle: &'a Node, relation: &str) -> Option<&'a str> {
    bundle
        .get("link")?
        .items()
        .iter()
        .find(|l| l.get("relation").and_then(Node::as_str) == Some(relation))
        .and_then(|l| l.get("url"))
        .and_then(Node::as_str)
}

fn relations(bundle: &Node) -> String {
    let rels: Vec<String> = bundle
        .get("link")
        .map(|l| {
            l.items()
                .iter()
                .filter_map(|l| l.get("relation").map(scalar_text))
                .collect()
        })
        .unwrap_or_default();
    if rels.is_empty() {
        "no links".into()
    } else {
        rels.join(", ")
    }
}

async fn bundle_has_link(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let relation = arg(ctx, 1);
    let b = bundle(w)?;
    match link(b, &relation) {
        Some(url) if !url.is_empty() => Ok(()),
        _ => fail(
            Finding::new(
                FindingKind::Body,
                format!("the Bundle has no `{relation}` link"),
            )
            .expected(relation, relations(b)),
        ),
    }
}

async fn bundle_has_no_link(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let relation = arg(ctx, 1);
    let b = bundle(w)?;
    match link(b, &relation) {
        None => Ok(()),
        Some(url) => fail(
            Finding::new(
                FindingKind::Body,
                format!("the Bundle has a `{relation}` link"),
            )
            .expected("no link", url),
        ),
    }
}

/// The `List.entry.item` references of a Bundle that name no entry of it, as
/// (list index, reference); `None` when the Bundle holds no List.
fn dangling_list_items(bundle: &Node) -> Option<Vec<(usize, String)>> {
    let mut held = std::collections::BTreeSet::new();
    let mut lists = Vec::new();
    for entry in entries(bundle) {
        if let Some(url) = entry.get("fullUrl").and_then(Node::as_str) {
            held.insert(url.to_owned());
        }
        let Some(resource) = entry.get("resource") else {
            continue;
        };
        if let (Some(kind), Some(id)) = (
            resource.resource_type(),
            resource.get("id").and_then(Node::as_str),
        ) {
            held.insert(format!("{kind}/{id}"));
        }
        if resource.resource_type() == Some("List") {
            lists.push(resource);
        }
    }
    if lists.is_empty() {
        return None;
    }
    let mut dangling = Vec::new();
    for (i, list) in lists.iter().enumerate() {
        for item in list.get("entry").map_or(&[][..], Node::items) {
            let Some(reference) = item
                .get("item")
                .and_then(|r| r.get("reference"))
                .and_then(Node::as_str)
            else {
                continue;
            };
            // `#id` names a resource contained in the List (GP Connect's ended
            // allergies); a relative reference matches `Type/id`; an absolute one its
            // fullUrl or its last two segments.
            if let Some(local) = reference.strip_prefix('#') {
                let contained = list.get("contained").map_or(&[][..], Node::items);
                if !contained
                    .iter()
                    .any(|c| c.get("id").and_then(Node::as_str) == Some(local))
                {
                    dangling.push((i, reference.to_owned()));
                }
                continue;
            }
            let tail: Vec<&str> = reference.rsplitn(3, '/').collect();
            let short = match tail.as_slice() {
                [id, kind, ..] => format!("{kind}/{id}"),
                _ => reference.to_owned(),
            };
            if !held.contains(reference) && !held.contains(&short) {
                dangling.push((i, reference.to_owned()));
            }
        }
    }
    Some(dangling)
}

async fn list_items_in_bundle(w: &mut AssureWorld, _: &Context) -> StepResult {
    match dangling_list_items(bundle(w)?) {
        None => fail(
            Finding::new(FindingKind::Body, "the Bundle holds no List")
                .expected("at least one List", "none"),
        ),
        Some(d) if d.is_empty() => Ok(()),
        Some(d) => {
            let names: Vec<String> = d
                .iter()
                .take(5)
                .map(|(i, r)| format!("{r} (List {})", i + 1))
                .collect();
            fail(
                Finding::new(
                    FindingKind::Body,
                    format!("{} List item(s) name no resource of the Bundle", d.len()),
                )
                .expected("every item in the Bundle", names.join(", ")),
            )
        }
    }
}

fn entries(b: &Node) -> &[Node] {
    b.get("entry").map_or(&[], Node::items)
}

/// The entries of the response Bundle; none is "not applicable" for a check over them.
fn some_entries<'a>(w: &'a AssureWorld, what: &str) -> Result<&'a [Node], Stop> {
    let all = entries(bundle(w)?);
    if all.is_empty() {
        return Err(Stop::not_applicable(format!(
            "the Bundle has no entries, so there is nothing to check {what} on"
        )));
    }
    Ok(all)
}

async fn entries_are(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let expected = arg(ctx, 1);
    let mut checked = 0;
    for (i, entry) in some_entries(w, "the resource type of")?.iter().enumerate() {
        let mode = entry
            .get("search")
            .and_then(|s| s.get("mode"))
            .and_then(Node::as_str);
        if mode.is_some_and(|m| m != "match") {
            continue;
        }
        checked += 1;
        let actual = entry
            .get("resource")
            .and_then(Node::resource_type)
            .unwrap_or("no resource");
        if actual != expected {
            return fail(
                Finding::new(
                    FindingKind::Body,
                    format!("entry[{i}] holds another resource type"),
                )
                .expected(expected, actual)
                .at(format!("entry[{i}].resource.resourceType")),
            );
        }
    }
    if checked == 0 {
        return Err(Stop::not_applicable(
            "the Bundle has no match entries (only includes or outcomes), so there is nothing to check the resource type of",
        ));
    }
    Ok(())
}

async fn entries_search_mode(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let expected = arg(ctx, 1);
    for (i, entry) in some_entries(w, "the search mode of")?.iter().enumerate() {
        let actual = entry
            .get("search")
            .and_then(|s| s.get("mode"))
            .map(scalar_text)
            .unwrap_or_else(|| "none".into());
        if actual != expected {
            return fail(
                Finding::new(
                    FindingKind::Body,
                    format!("entry[{i}] has another search mode"),
                )
                .expected(expected, actual)
                .at(format!("entry[{i}]")),
            );
        }
    }
    Ok(())
}

async fn entries_full_url(w: &mut AssureWorld, _: &Context) -> StepResult {
    for (i, entry) in some_entries(w, "the fullUrl of")?.iter().enumerate() {
        let url = entry
            .get("fullUrl")
            .and_then(Node::as_str)
            .unwrap_or_default();
        let absolute = ["http://", "https://", "urn:uuid:", "urn:oid:"]
            .iter()
            .any(|p| url.starts_with(p));
        if !absolute {
            return fail(
                Finding::new(
                    FindingKind::Body,
                    format!("entry[{i}] has no absolute fullUrl"),
                )
                .expected("an absolute URL", url)
                .at(format!("entry[{i}]")),
            );
        }
    }
    Ok(())
}

async fn follow_link(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let relation = arg(ctx, 1);
    let url = {
        let b = bundle(w)?;
        link(b, &relation)
            .ok_or_else(|| {
                Finding::new(
                    FindingKind::Body,
                    format!("the Bundle has no `{relation}` link to follow"),
                )
                .expected(relation.clone(), relations(b))
            })?
            .to_owned()
    };
    w.send("GET", &url).await
}

async fn is_outcome(w: &mut AssureWorld, _: &Context) -> StepResult {
    let oo = resource_of(w, "OperationOutcome")?;
    if oo.get("issue").is_some_and(|i| !i.items().is_empty()) {
        Ok(())
    } else {
        fail(
            Finding::new(FindingKind::Body, "the OperationOutcome has no issue")
                .expected("at least one issue", "none"),
        )
    }
}

async fn outcome_issue(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let field = arg(ctx, 1);
    let expected = arg(ctx, 2);
    let oo = resource_of(w, "OperationOutcome")?;
    let values: Vec<String> = oo
        .get("issue")
        .map_or(&[][..], Node::items)
        .iter()
        .filter_map(|i| i.get(&field).map(scalar_text))
        .collect();
    if values.contains(&expected) {
        Ok(())
    } else {
        fail(
            Finding::new(
                FindingKind::Body,
                format!("no issue has {field} `{expected}`"),
            )
            .expected(expected, values.join(", ")),
        )
    }
}

#[cfg(test)]
mod list_item_tests {
    use super::dangling_list_items;

    #[test]
    fn list_items_must_name_entries_of_the_bundle() {
        let bundle = assure_fhir::model::parse_json(
            r##"{"resourceType": "Bundle", "entry": [
                {"resource": {"resourceType": "List", "id": "l",
                    "contained": [{"resourceType": "AllergyIntolerance", "id": "ended"}], "entry": [
                    {"item": {"reference": "#ended"}},
                    {"item": {"reference": "#not-contained"}},
                    {"item": {"reference": "AllergyIntolerance/a"}},
                    {"item": {"reference": "https://x.org/fhir/Observation/o"}},
                    {"item": {"reference": "Condition/missing"}},
                    {"item": {"display": "no reference"}}]}},
                {"resource": {"resourceType": "AllergyIntolerance", "id": "a"}},
                {"fullUrl": "https://x.org/fhir/Observation/o", "resource": {"resourceType": "Observation", "id": "o"}}]}"##,
        )
        .unwrap();
        assert_eq!(
            dangling_list_items(&bundle),
            Some(vec![
                (0, "#not-contained".to_owned()),
                (0, "Condition/missing".to_owned())
            ])
        );
        let none = assure_fhir::model::parse_json(r#"{"resourceType": "Bundle"}"#).unwrap();
        assert_eq!(dangling_list_items(&none), None);
    }
}
