//! The `response-template` transformer: Handlebars (the `handlebars` crate) with
//! WireMock's helpers and request model. Templates are compiled when a set loads;
//! rendering is bounded (output size, work, time) so a hostile template answers 500
//! with a clear reason instead of exhausting the process.

mod fold;
mod helpers;
mod helpers_dates;
mod helpers_json;
mod helpers_random;
mod helpers_string;
mod model;
mod rewrite;

use std::cell::Cell;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use handlebars::{Context, Handlebars, Output, RenderContext, Renderable};

pub use model::model;

/// Most bytes one answer's templates may produce.
pub const MAX_OUTPUT: usize = 16 * 1024 * 1024;
/// Most `randomValue` characters.
pub const MAX_RANDOM_LENGTH: usize = 1024 * 1024;
/// Most items of one `range`, and of all ranges of one answer together.
pub const MAX_RANGE: usize = 100_000;
pub const MAX_WORK: usize = 2_000_000;
/// Longest one answer's templates may take to render.
pub const MAX_RENDER_TIME: Duration = Duration::from_secs(10);

/// A template string: literal text, or compiled Handlebars.
#[derive(Debug, Clone)]
pub struct Template {
    source: String,
    compiled: Option<Arc<handlebars::Template>>,
    /// Literal text set aside while compiling (see `fold.rs`).
    literals: Arc<Vec<String>>,
    /// Where each `{{` starts in the compiled text and in the text as written.
    tags: Arc<Vec<(usize, usize)>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    /// Byte offset into the template text, where known.
    pub offset: usize,
}

/// Why rendering stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderFailure {
    /// A cap was reached: the answer is a 500 and a log line.
    Limit(String),
    /// The template failed as WireMock's would (a 500 naming the cause).
    Error(String),
}

impl std::fmt::Display for RenderFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenderFailure::Limit(m) | RenderFailure::Error(m) => f.write_str(m),
        }
    }
}

thread_local! {
    static BUDGET: Cell<Budget> = const { Cell::new(Budget { bytes: 0, work: 0, deadline: None }) };
    static FAILURE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

#[derive(Clone, Copy)]
struct Budget {
    bytes: usize,
    work: usize,
    deadline: Option<Instant>,
}

/// Spends `work` units of the answer's budget; `Err` names the limit reached.
pub(crate) fn spend(work: usize, what: &str) -> Result<(), String> {
    BUDGET.with(|b| {
        let mut budget = b.get();
        if budget.deadline.is_some_and(|d| Instant::now() > d) {
            return Err(limit(format!(
                "rendering took longer than {} s",
                MAX_RENDER_TIME.as_secs()
            )));
        }
        if work > budget.work {
            return Err(limit(format!(
                "{what} exceeds the work cap of {MAX_WORK} items per answer"
            )));
        }
        budget.work -= work;
        b.set(budget);
        Ok(())
    })
}

/// Records a cap reached, so the failure is reported as a limit whatever Handlebars
/// makes of the error on its way out.
pub(crate) fn limit(message: String) -> String {
    let plain = message.trim_start_matches("limit: ").to_owned();
    FAILURE.with(|f| *f.borrow_mut() = Some(plain));
    format!("limit: {}", message.trim_start_matches("limit: "))
}

/// Output that counts against the answer's byte budget.
pub(crate) struct Capped {
    pub buf: String,
}

impl Output for Capped {
    fn write(&mut self, seg: &str) -> Result<(), std::io::Error> {
        let over = BUDGET.with(|b| {
            let mut budget = b.get();
            if seg.len() > budget.bytes {
                return true;
            }
            budget.bytes -= seg.len();
            b.set(budget);
            false
        });
        if over {
            let m = limit(format!(
                "the rendered answer exceeds the cap of {MAX_OUTPUT} bytes"
            ));
            return Err(std::io::Error::other(m));
        }
        spend(0, "output").map_err(std::io::Error::other)?;
        self.buf.push_str(seg);
        Ok(())
    }
}

static ENGINE: LazyLock<Handlebars<'static>> = LazyLock::new(|| {
    let mut h = Handlebars::new();
    // WireMock does not escape HTML: `{{x}}` and `{{{x}}}` are the same.
    h.register_escape_fn(handlebars::no_escape);
    helpers::register(&mut h);
    helpers_dates::register(&mut h);
    helpers_random::register(&mut h);
    helpers_json::register(&mut h);
    helpers_string::register(&mut h);
    h
});

impl Template {
    /// Text served as it is.
    pub fn literal(text: impl Into<String>) -> Template {
        Template {
            source: text.into(),
            compiled: None,
            literals: Arc::default(),
            tags: Arc::default(),
        }
    }

    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        if !text.contains("{{") {
            return Ok(Template::literal(text));
        }
        let rewritten = rewrite::rewrite(text);
        let (folded, literals) = fold::fold(&rewritten);
        let compiled = match handlebars::Template::compile(&folded) {
            Ok(c) => c,
            // Positions are the author's: compile what was written to find them.
            Err(_) => handlebars::Template::compile(&rewritten).map_err(|e| {
                let (line, col) = e.pos().unwrap_or((1, 1));
                TemplateError {
                    message: e.reason().to_string(),
                    offset: offset_of(text, line, col),
                }
            })?,
        };
        let tags = tag_starts(&folded)
            .into_iter()
            .zip(tag_starts(text))
            .collect();
        Ok(Template {
            source: text.to_owned(),
            compiled: Some(Arc::new(compiled)),
            literals: Arc::new(literals),
            tags: Arc::new(tags),
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn is_literal(&self) -> bool {
        self.compiled.is_none()
    }

    /// Renders against `data` (see [`model`]).
    pub fn render(&self, data: &serde_json::Value) -> Result<String, RenderFailure> {
        let Some(t) = &self.compiled else {
            return Ok(self.source.clone());
        };
        let fresh = BUDGET.with(|b| b.get().deadline.is_none());
        if fresh {
            begin();
        }
        let result = render_compiled(t, data)
            .map(|out| fold::unfold(out, &self.literals))
            .map_err(|(failure, at)| self.locate(failure, at));
        if fresh {
            end();
        }
        result
    }
}

/// Starts one answer's budget (every template of the answer shares it).
pub fn begin() {
    BUDGET.with(|b| {
        b.set(Budget {
            bytes: MAX_OUTPUT,
            work: MAX_WORK,
            deadline: Some(Instant::now() + MAX_RENDER_TIME),
        })
    });
    FAILURE.with(|f| *f.borrow_mut() = None);
}

pub fn end() {
    BUDGET.with(|b| {
        b.set(Budget {
            bytes: 0,
            work: 0,
            deadline: None,
        })
    });
}

type Failed = (RenderFailure, Option<(usize, usize)>);

fn render_compiled(t: &handlebars::Template, data: &serde_json::Value) -> Result<String, Failed> {
    let ctx = Context::wraps(data).map_err(|e| (RenderFailure::Error(e.to_string()), None))?;
    let mut rc = RenderContext::new(None);
    let mut out = Capped { buf: String::new() };
    match t.render(&ENGINE, &ctx, &mut rc, &mut out) {
        Ok(()) => Ok(out.buf),
        Err(e) => {
            if let Some(m) = FAILURE.with(|f| f.borrow_mut().take()) {
                return Err((RenderFailure::Limit(m), None));
            }
            let at = e.line_no.zip(e.column_no);
            Err((RenderFailure::Error(e.reason().to_string()), at))
        }
    }
}

/// Byte offsets of each `{{` that opens a tag (escaped ones are text).
fn tag_starts(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("{{") {
        let at = from + i;
        if !text[..at].ends_with('\\') {
            out.push(at);
        }
        let close = text[at..].find("}}").map_or(text.len(), |j| at + j + 2);
        from = close.max(at + 2);
    }
    out
}

impl Template {
    /// An error as WireMock words it: line and column of the tag's helper, as written.
    fn locate(&self, failure: RenderFailure, at: Option<(usize, usize)>) -> RenderFailure {
        let RenderFailure::Error(why) = failure else {
            return failure;
        };
        let Some((line, col)) = at else {
            return RenderFailure::Error(why);
        };
        let folded_at = offset_of(&self.folded_text(), line, col);
        let original = self
            .tags
            .iter()
            .take_while(|(f, _)| *f <= folded_at)
            .last()
            .map_or(0, |(_, o)| *o);
        let before = &self.source[..original.min(self.source.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 2;
        RenderFailure::Error(format!("{line}:{col}: {why}"))
    }

    fn folded_text(&self) -> String {
        fold::fold(&rewrite::rewrite(&self.source)).0
    }
}

fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = &text[start.min(text.len())..];
    start
        + rest
            .char_indices()
            .nth(col.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests;
