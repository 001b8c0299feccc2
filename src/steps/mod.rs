//! The Gherkin step library. Each vocabulary file lists its steps with a pattern, one
//! line of help and an example; `assure steps` prints them and the runner registers
//! them with cucumber.
//!
//! A step is an async function returning [`StepResult`]. The wrapper publishes what
//! the step did (its [`crate::outcome::StepRecord`]) for the report collector, and
//! stops the scenario for cucumber by unwinding with a [`StepFailed`] payload, which
//! the panic hook keeps quiet: a finding is data. A step that is not applicable or
//! inconclusive does not stop the scenario: the checks after it still run.

use std::time::Instant;

use cucumber::gherkin::StepType;

use crate::outcome::{StepResult, Stop};
use crate::world::AssureWorld;

pub mod counterpart;
pub mod data;
pub mod fhir;
pub mod fhirpath;
pub mod gpconnect;
pub mod gpconnect_consumer;
pub mod http;
pub mod resources;
pub mod rest;
pub mod validate;

pub use crate::outcome::StepFailed;

/// One step of the vocabulary.
pub struct StepDef {
    pub kinds: &'static [StepType],
    /// Anchored regular expression; captures are the step's arguments.
    pub pattern: &'static str,
    /// How a person writes it, with `<placeholders>`.
    pub usage: &'static str,
    pub help: &'static str,
    pub example: &'static str,
    pub func: cucumber::Step<AssureWorld>,
}

pub const GIVEN_WHEN: &[StepType] = &[StepType::Given, StepType::When];
pub const WHEN: &[StepType] = &[StepType::When];
pub const THEN: &[StepType] = &[StepType::Then];
pub const ANY: &[StepType] = &[StepType::Given, StepType::When, StepType::Then];

/// Wraps `async fn(&mut AssureWorld, &Context) -> StepResult` into a cucumber step.
#[macro_export]
macro_rules! step_fn {
    ($f:path) => {
        |world: &mut $crate::world::AssureWorld, ctx: cucumber::step::Context| {
            Box::pin(async move {
                let started = std::time::Instant::now();
                let result = $f(world, &ctx).await;
                $crate::steps::finish(world, &ctx, result, started);
            }) as futures::future::LocalBoxFuture<'_, ()>
        }
    };
}

pub fn finish(
    world: &mut AssureWorld,
    ctx: &cucumber::step::Context,
    result: StepResult,
    started: Instant,
) {
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let stops = matches!(result, Err(Stop::Fail(_) | Stop::Error(_)));
    world.record(ctx.step.position.line, result, duration_ms);
    if stops {
        std::panic::panic_any(StepFailed);
    }
}

/// Keeps step failures off stderr; real panics (bugs) still print.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<StepFailed>().is_none() {
                previous(info);
            }
        }));
    });
}

/// The whole vocabulary.
pub fn catalogue() -> Vec<StepDef> {
    let mut all = http::steps();
    all.extend(fhir::steps());
    all.extend(fhirpath::steps());
    all.extend(resources::steps());
    all.extend(rest::steps());
    all.extend(data::steps());
    all.extend(counterpart::steps());
    all.extend(validate::steps());
    all.extend(gpconnect::steps());
    all.extend(gpconnect_consumer::steps());
    all
}

/// Argument `i` of a step (1-based capture group), unescaped.
pub fn arg(ctx: &cucumber::step::Context, i: usize) -> String {
    ctx.matches
        .get(i)
        .map(|(_, v)| v.replace("\\\"", "\""))
        .unwrap_or_default()
}

/// The step's doc string, or a failure saying it needs one.
pub fn docstring(ctx: &cucumber::step::Context) -> Result<String, Stop> {
    ctx.step
        .docstring
        .clone()
        .ok_or_else(|| Stop::error("this step needs a doc string (\"\"\" ... \"\"\") below it"))
}

/// The step's data table rows after the header row.
pub fn table_rows(ctx: &cucumber::step::Context, columns: usize) -> Result<Vec<Vec<String>>, Stop> {
    let table = ctx
        .step
        .table
        .as_ref()
        .ok_or_else(|| Stop::error("this step needs a data table below it"))?;
    if table.row_width() != columns {
        return Err(Stop::error(format!(
            "this step's data table needs {columns} columns"
        )));
    }
    Ok(table.rows.iter().skip(1).cloned().collect())
}

/// A quoted argument in a pattern: `"..."` with `\"` escapes allowed.
pub const Q: &str = r#""((?:[^"\\]|\\.)*)""#;

/// Finds which steps match `text` for a step of type `ty`.
pub fn matching<'a>(
    catalogue: &'a [(StepDef, regex::Regex)],
    ty: StepType,
    text: &str,
) -> Vec<&'a StepDef> {
    catalogue
        .iter()
        .filter(|(d, re)| d.kinds.contains(&ty) && re.is_match(text))
        .map(|(d, _)| d)
        .collect()
}

/// Compiles the catalogue's patterns (they are static and tested).
pub fn compiled() -> Vec<(StepDef, regex::Regex)> {
    catalogue()
        .into_iter()
        .map(|d| {
            let pattern = d.pattern.replace("{Q}", Q);
            let re = regex::Regex::new(&format!("^{pattern}$")).expect("step patterns are tested");
            (d, re)
        })
        .collect()
}

/// Checks a step's arguments when the suite loads (FHIRPath expressions parse):
/// the problem and its character offset within the step text.
pub fn check_arguments(def: &StepDef, text: &str) -> Option<(String, usize)> {
    let indexes = fhirpath::fhirpath_arguments(def.pattern);
    if indexes.is_empty() {
        return None;
    }
    static COMPILED: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<&'static str, regex::Regex>>,
    > = std::sync::OnceLock::new();
    let mut compiled = COMPILED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let re = compiled.entry(def.pattern).or_insert_with(|| {
        let pattern = def.pattern.replace("{Q}", Q);
        regex::Regex::new(&format!("^{pattern}$")).expect("step patterns are tested")
    });
    let caps = re.captures(text)?;
    indexes.iter().find_map(|i| {
        let m = caps.get(*i)?;
        let expr = m.as_str().replace("\\\"", "\"");
        fhirpath::check_expression(&expr)
            .err()
            // Columns count from the opening quote, as the diagnostic expects.
            .map(|(message, col)| (message, text[..m.start()].chars().count() - 1 + col))
    })
}

pub fn keyword(ty: StepType) -> &'static str {
    match ty {
        StepType::Given => "Given",
        StepType::When => "When",
        StepType::Then => "Then",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_matches_exactly_one_step() {
        let steps = compiled();
        for (def, _) in &steps {
            let example = def.example.lines().next().unwrap();
            let (kw, text) = example.split_once(' ').unwrap();
            let ty = match kw {
                "Given" => StepType::Given,
                "When" => StepType::When,
                _ => StepType::Then,
            };
            let found = matching(&steps, ty, text);
            assert_eq!(
                found.len(),
                1,
                "example `{example}` matches {} steps",
                found.len()
            );
            assert_eq!(
                found[0].usage, def.usage,
                "example `{example}` matches another step"
            );
        }
    }
}
