//! Steps about what the target stored, across exchanges: how many resources a search
//! finds before and after a request, whether what a create returned can be read back
//! where the server said it put it, and what became of what a create was sent.

use assure_fhir::model::Node;
use cucumber::step::Context;

use super::{arg, StepDef, THEN, WHEN};
use crate::outcome::{fail, Finding, FindingKind, StepResult, Stop};
use crate::step_fn;
use crate::world::AssureWorld;

/// Pages of a search followed when counting; a larger result is counted from `total`.
const MAX_PAGES: usize = 10;

pub fn steps() -> Vec<StepDef> {
    vec![
        StepDef {
            kinds: WHEN,
            pattern: r"I count the ([A-Z][A-Za-z]+) resources matching {Q} as {Q}",
            usage: r#"I count the <Type> resources matching "<query>" as "<variable>""#,
            help: "Searches `<Type>?<query>` (values percent-encoded) and stores how many match (`Bundle.total`, else the match entries of every page). A target that cannot be searched makes the checks that rely on the count inconclusive.",
            example: r#"When I count the Patient resources matching "identifier=https://fhir.nhs.uk/Id/nhs-number|{patient_nhs_number}" as "before""#,
            func: step_fn!(count),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the number of ([A-Z][A-Za-z]+) resources matching {Q} is still {Q}",
            usage: r#"the number of <Type> resources matching "<query>" is still "<count>""#,
            help: "Counts again (as `I count the ...`) and checks the count has not changed: nothing was created or removed.",
            example: r#"Then the number of Patient resources matching "identifier=https://fhir.nhs.uk/Id/nhs-number|{patient_nhs_number}" is still "{before}""#,
            func: step_fn!(count_unchanged),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the created resource can be read back where the server put it",
            usage: "the created resource can be read back where the server put it",
            help: "Reads the resource the last create made at the id the server returned (its `Location` header, else the id in the body) and checks the read answers 200 with that type and id.",
            example: "Then the created resource can be read back where the server put it",
            func: step_fn!(read_back),
        },
        StepDef {
            kinds: THEN,
            pattern: r"I capture the id of the created resource as {Q}",
            usage: r#"I capture the id of the created resource as "<variable>""#,
            help: "Stores the id the last create gave the new resource: from its `Location` header (resolved against the create URL as RFC 3986 says, and within the target's base), else from the id in the body.",
            example: r#"Then I capture the id of the created resource as "created""#,
            func: step_fn!(capture_created_id),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the conditional create answered as {Q} existing matches require",
            usage: r#"the conditional create answered as "<count>" existing matches require"#,
            help: "Checks a create with `If-None-Exist` against the number of resources its criteria matched before it: none → 201 Created, one → 200 OK, several → 412 Precondition Failed.",
            example: r#"Then the conditional create answered as "{before}" existing matches require"#,
            func: step_fn!(conditional_create_status),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the create was refused with one of ((?:\d{3})(?:(?:, | or )\d{3})*), or the resource it created does not keep the element {Q}",
            usage: r#"the create was refused with one of <code> or <code>, or the resource it created does not keep the element "<name>""#,
            help: "For a create whose body carries an element the resource type does not define: passes when it was refused with one of the codes, or when it was accepted and the resource read back where the server put it has no such element (the server ignored it).",
            example: r#"Then the create was refused with one of 400 or 422, or the resource it created does not keep the element "assureUnknownElement""#,
            func: step_fn!(refused_or_ignored),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the value {Q} differs from {Q}",
            usage: r#"the value "<text>" differs from "<text>""#,
            help: "Checks two texts differ after `{variable}` expansion (e.g. a version captured before and after an update).",
            example: r#"Then the value "{version_after}" differs from "{version_before}""#,
            func: step_fn!(values_differ),
        },
    ]
}

/// Searches and counts the matches, or says why it could not.
async fn search_count(w: &mut AssureWorld, resource: &str, query: &str) -> Result<u64, Stop> {
    let query = w.expand(query)?;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        w.add_query(name.to_owned(), value.to_owned());
    }
    w.set_header("Accept", "application/fhir+json".into());
    w.send("GET", &format!("/{resource}")).await?;
    let mut counted = 0u64;
    for page in 0..MAX_PAGES {
        let status = w.response()?.received.status;
        if status != 200 {
            return Err(Stop::inconclusive(format!(
                "cannot count {resource} resources matching `{query}`: the search answered {status}"
            )));
        }
        let bundle = w.json().map_err(|_| {
            Stop::inconclusive(format!(
                "cannot count {resource} resources matching `{query}`: the search did not answer a FHIR Bundle"
            ))
        })?;
        if page == 0 {
            if let Some(total) = bundle
                .get("total")
                .and_then(|t| super::data::scalar_text(t).parse::<u64>().ok())
            {
                return Ok(total);
            }
        }
        counted += matches(bundle);
        let Some(next) = next_link(bundle) else {
            return Ok(counted);
        };
        w.set_header("Accept", "application/fhir+json".into());
        w.send("GET", &next).await?;
    }
    Err(Stop::inconclusive(format!(
        "cannot count {resource} resources matching `{query}`: more than {MAX_PAGES} pages and no total"
    )))
}

fn matches(bundle: &Node) -> u64 {
    bundle
        .get("entry")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter(|e| {
            e.get("search")
                .and_then(|s| s.get("mode"))
                .and_then(Node::as_str)
                .is_none_or(|m| m == "match")
        })
        .count() as u64
}

fn next_link(bundle: &Node) -> Option<String> {
    bundle
        .get("link")?
        .items()
        .iter()
        .find(|l| l.get("relation").and_then(Node::as_str) == Some("next"))?
        .get("url")?
        .as_str()
        .map(str::to_owned)
}

async fn count(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let n = search_count(w, &arg(ctx, 1), &arg(ctx, 2)).await?;
    w.vars.insert(arg(ctx, 3), n.to_string());
    Ok(())
}

async fn count_unchanged(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let resource = arg(ctx, 1);
    let before = w.expand(&arg(ctx, 3))?;
    let before: u64 = before
        .parse()
        .map_err(|_| Stop::error(format!("`{before}` is not a count")))?;
    let after = search_count(w, &resource, &arg(ctx, 2)).await?;
    if after == before {
        return Ok(());
    }
    let what = if after > before {
        format!("{} new {resource} resource(s) appeared", after - before)
    } else {
        format!("{} {resource} resource(s) disappeared", before - after)
    };
    fail(
        Finding::new(FindingKind::Behaviour, what)
            .expected(format!("{before} matching"), format!("{after} matching")),
    )
}

/// Where a Location header puts the new resource: its type and id, once the value is
/// resolved against the create URL (`[base]/[type]`) as RFC 3986 says; `Err` says where
/// it points instead when that is not `[base]/[type]/[id]` (`/_history/[vid]` allowed).
fn located(base: &str, location: &str) -> Result<(String, String), String> {
    let (resource_type, _) = crate::test_data::type_and_id(location)
        .ok_or_else(|| format!("`{location}` names no [type]/[id]"))?;
    let create = reqwest::Url::parse(&format!("{}/{resource_type}", base.trim_end_matches('/')))
        .map_err(|e| format!("the target's base URL is not a URL: {e}"))?;
    let resolved = create
        .join(location)
        .map_err(|e| format!("`{location}` is not a URL reference: {e}"))?;
    let prefix = format!("{}/", create.as_str());
    let rest = resolved
        .as_str()
        .strip_prefix(&prefix)
        .ok_or_else(|| format!("`{location}` resolves to {resolved}, outside {create}"))?;
    let segments: Vec<&str> = rest
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .split('/')
        .collect();
    match segments.as_slice() {
        [id] | [id, "_history", _] if !id.is_empty() => Ok((resource_type, (*id).to_owned())),
        _ => Err(format!(
            "`{location}` resolves to {resolved}, not {create}/[id] or {create}/[id]/_history/[vid]"
        )),
    }
}

/// The type and id the last create gave the new resource: from its Location header, else
/// from the id in its body.
fn created_identity(w: &AssureWorld) -> Result<(String, String), Stop> {
    let location = w.response()?.received.header("Location").map(str::to_owned);
    let mut why = "no Location header".to_owned();
    if let Some(location) = &location {
        match located(&w.ctx().base_url, location) {
            Ok(found) => return Ok(found),
            Err(e) => why = e,
        }
    }
    let body = w.json().ok();
    match body.map(|b| (b.resource_type(), b.get("id").and_then(Node::as_str))) {
        Some((Some(t), Some(id))) => Ok((t.to_owned(), id.to_owned())),
        _ => fail(
            Finding::new(
                FindingKind::Header,
                format!("the create named no new resource: {why}, and no body with an id"),
            )
            .expected(
                "Location: [base]/[type]/[id] (or /_history/[vid]), or a body with the id",
                location.unwrap_or_else(|| "no Location, no body id".into()),
            )
            .check("created-identity"),
        ),
    }
}

async fn capture_created_id(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let (_, id) = created_identity(w)?;
    w.vars.insert(arg(ctx, 1), id);
    Ok(())
}

async fn conditional_create_status(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let text = w.expand(&arg(ctx, 1))?;
    let before: u64 = text
        .parse()
        .map_err(|_| Stop::error(format!("`{text}` is not a count")))?;
    let (expected, what) = match before {
        0 => (201, "no match: the server creates the resource"),
        1 => (200, "one match: the server ignores the post"),
        _ => (
            412,
            "several matches: the criteria are not selective enough",
        ),
    };
    let actual = w.response()?.received.status;
    if actual == expected {
        return Ok(());
    }
    fail(
        Finding::new(
            FindingKind::Status,
            format!("the conditional create did not answer as {before} existing match(es) require ({what})"),
        )
        .expected(expected.to_string(), actual.to_string()),
    )
}

async fn refused_or_ignored(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let list = arg(ctx, 1);
    let element = w.expand(&arg(ctx, 2))?;
    let refused: Vec<u16> = list
        .split([',', ' '])
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let status = w.response()?.received.status;
    if refused.contains(&status) {
        return Ok(());
    }
    if !matches!(status, 200 | 201) {
        return fail(
            Finding::new(
                FindingKind::Status,
                "the create was neither refused nor accepted",
            )
            .expected(format!("one of {list}, or 201"), status.to_string()),
        );
    }
    let (resource_type, id) = created_identity(w)?;
    w.set_header("Accept", "application/fhir+json".into());
    w.send("GET", &format!("/{resource_type}/{id}")).await?;
    let read = w.response()?.received.status;
    if read != 200 {
        return Err(Stop::inconclusive(format!(
            "the create was accepted, but GET {resource_type}/{id} answered {read}, so whether the server kept `{element}` is unknown"
        )));
    }
    if w.json()?.get(&element).is_none() {
        return Ok(());
    }
    fail(
        Finding::new(
            FindingKind::Behaviour,
            format!("the server accepted `{element}`, which {resource_type} does not define, and kept it"),
        )
        .expected(
            format!("refused ({list}), or `{element}` ignored"),
            format!("{resource_type}/{id} has `{element}`"),
        )
        .at(element),
    )
}

async fn read_back(w: &mut AssureWorld, _: &Context) -> StepResult {
    let (resource_type, id) = created_identity(w)?;
    w.set_header("Accept", "application/fhir+json".into());
    w.send("GET", &format!("/{resource_type}/{id}")).await?;
    let status = w.response()?.received.status;
    if status != 200 {
        return fail(
            Finding::new(
                FindingKind::Behaviour,
                format!("the created {resource_type} cannot be read at the id the server returned"),
            )
            .expected(
                format!("200 for GET {resource_type}/{id}"),
                status.to_string(),
            ),
        );
    }
    let read = w.json()?;
    let got = (
        read.resource_type().unwrap_or("no resourceType"),
        read.get("id").and_then(Node::as_str).unwrap_or("no id"),
    );
    if got != (resource_type.as_str(), id.as_str()) {
        return fail(
            Finding::new(FindingKind::Behaviour, "the read answered another resource").expected(
                format!("{resource_type}/{id}"),
                format!("{}/{}", got.0, got.1),
            ),
        );
    }
    Ok(())
}

async fn values_differ(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let left = w.expand(&arg(ctx, 1))?;
    let right = w.expand(&arg(ctx, 2))?;
    if left != right {
        Ok(())
    } else {
        fail(
            Finding::new(FindingKind::Behaviour, "the values are the same")
                .expected(format!("other than {right}"), left),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::located;

    #[test]
    fn a_location_is_resolved_against_the_create_url() {
        let base = "http://h/fhir";
        let ok = |l: &str| located(base, l).map(|(_, id)| id);
        assert_eq!(ok("http://h/fhir/Patient/7/_history/1"), Ok("7".into()));
        assert_eq!(ok("Patient/7"), Ok("7".into()));
        assert_eq!(ok("/fhir/Patient/7/_history/2"), Ok("7".into()));
        assert_eq!(ok("Patient/7/_history/2"), Ok("7".into()));
        // Relative to /fhir/Patient, `fhir/Patient/7` names /fhir/fhir/Patient/7.
        let wrong = ok("fhir/Patient/7").unwrap_err();
        assert!(wrong.contains("http://h/fhir/fhir/Patient/7"), "{wrong}");
        assert!(ok("/Patient/7").is_err());
        assert!(ok("http://elsewhere/fhir/Patient/7").is_err());
        assert!(ok("http://h/fhir/Patient").is_err());
        assert_eq!(
            located("http://h/", "/Patient/abc").map(|(t, _)| t),
            Ok("Patient".into())
        );
    }
}
