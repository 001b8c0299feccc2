//! Steps about what the target stored, across exchanges: how many resources a search
//! finds before and after a request, and whether what a create returned can be read
//! back where the server said it put it.

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

async fn read_back(w: &mut AssureWorld, _: &Context) -> StepResult {
    let last = w.response()?;
    let location = last.received.header("Location").map(str::to_owned);
    let from_location = location.as_deref().and_then(crate::test_data::type_and_id);
    let identity = match from_location {
        Some(found) => found,
        None => {
            let body = w.json().map_err(|_| {
                Stop::Fail(
                    Finding::new(
                        FindingKind::Header,
                        "the create gave neither a Location naming the new resource nor a body with its id",
                    )
                    .expected("Location: [base]/Type/id/_history/vid", location.clone().unwrap_or_else(|| "absent".into())),
                )
            })?;
            match (body.resource_type(), body.get("id").and_then(Node::as_str)) {
                (Some(t), Some(id)) => (t.to_owned(), id.to_owned()),
                _ => {
                    return fail(
                        Finding::new(
                            FindingKind::Body,
                            "the create gave neither a Location naming the new resource nor a body with its id",
                        )
                        .expected("a Location or a resource with an id", "neither"),
                    )
                }
            }
        }
    };
    let (resource_type, id) = identity;
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
