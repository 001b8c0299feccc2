//! Diagnostics for files a user wrote (features, suite manifests, stub mappings):
//! one model, rendered rustc-style with the offending line and a caret.
//!
//! ```text
//! error: unknown step
//!   --> features/fhir-rest/read.feature:12:5
//!    |
//! 12 |     When I sned a GET request to "/Patient/1"
//!    |     ^^^^ no step matches this text
//!    |
//!    = help: did you mean `When I send a GET request to "<path>"`?
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

/// A problem in an input file, with where it is and what would fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub file: PathBuf,
    /// 1-based; 0 when the problem is the file as a whole.
    pub line: usize,
    /// 1-based, in characters.
    pub col: usize,
    /// How many characters the caret underlines (at least 1).
    pub width: usize,
    /// The text of the offending line, filled in by [`Diagnostic::with_source`].
    pub source_line: Option<String>,
    pub label: String,
    pub help: Vec<String>,
}

impl Diagnostic {
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            file: file.into(),
            line: 0,
            col: 0,
            width: 1,
            source_line: None,
            label: String::new(),
            help: Vec::new(),
        }
    }

    #[must_use]
    pub fn at(mut self, line: usize, col: usize) -> Self {
        self.line = line;
        self.col = col;
        self
    }

    #[must_use]
    pub fn width(mut self, width: usize) -> Self {
        self.width = width.max(1);
        self
    }

    #[must_use]
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help.push(help.into());
        self
    }

    /// Places the diagnostic at a byte offset of `source`, and keeps its line.
    #[must_use]
    pub fn at_offset(self, source: &str, offset: usize) -> Self {
        let (line, col) = line_col(source, offset);
        self.at(line, col).with_source(source)
    }

    /// Copies the offending line out of the file's text.
    #[must_use]
    pub fn with_source(mut self, source: &str) -> Self {
        if self.line > 0 {
            self.source_line = source.lines().nth(self.line - 1).map(str::to_owned);
        }
        self
    }

    /// Fills in the offending line by reading the file, when it can be read.
    #[must_use]
    pub fn with_source_from_file(self) -> Self {
        match std::fs::read_to_string(&self.file) {
            Ok(text) => self.with_source(&text),
            Err(_) => self,
        }
    }

    pub fn location(&self) -> String {
        if self.line == 0 {
            display_path(&self.file)
        } else {
            format!(
                "{}:{}:{}",
                display_path(&self.file),
                self.line,
                self.col.max(1)
            )
        }
    }
}

/// 1-based line and character column of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

static PROJECT_ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Paths under the project (which may be the unpacked embedded one) are shown
/// relative to it, as a checkout would show them.
pub fn set_project_root(root: &Path) {
    let _ = PROJECT_ROOT.set(root.to_path_buf());
}

/// Paths are shown relative to the working directory or the project when under them.
pub fn display_path(path: &Path) -> String {
    let relative_to = |base: &Path| path.strip_prefix(base).ok().map(Path::to_path_buf);
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| relative_to(&cwd))
        .or_else(|| PROJECT_ROOT.get().and_then(|root| relative_to(root)))
        .unwrap_or_else(|| path.to_path_buf());
    shown.display().to_string()
}

/// Text from an input, safe to print: control characters and ANSI escapes shown as
/// `\u{1b}`, never acted on by a terminal.
pub fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    crate::redact::terminal::escape(text)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", safe(&self.message))?;
        let gutter = if self.line > 0 {
            self.line.to_string().len()
        } else {
            1
        };
        let pad = " ".repeat(gutter);
        writeln!(f, "{pad}--> {}", safe(&self.location()))?;
        if let Some(text) = &self.source_line {
            let text = text.replace(['\t', '\n'], " ");
            writeln!(f, "{pad} |")?;
            writeln!(f, "{} | {}", self.line, safe(&text))?;
            // Escapes widen the line: the caret goes under the escaped text.
            let before: String = text.chars().take(self.col.saturating_sub(1)).collect();
            let under: String = text
                .chars()
                .skip(self.col.saturating_sub(1))
                .take(self.width)
                .collect();
            let indent = " ".repeat(safe(&before).chars().count());
            let caret = "^".repeat(safe(&under).chars().count().max(self.width));
            if self.label.is_empty() {
                writeln!(f, "{pad} | {indent}{caret}")?;
            } else {
                writeln!(f, "{pad} | {indent}{caret} {}", safe(&self.label))?;
            }
        } else if !self.label.is_empty() {
            writeln!(f, "{pad} = {}", safe(&self.label))?;
        }
        for help in &self.help {
            writeln!(f, "{pad} = help: {}", safe(help))?;
        }
        Ok(())
    }
}

/// The closest candidates to `word`, for "did you mean" help (at most three).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    ranked(word, candidates.into_iter().map(|c| (c, Vec::new())))
        .into_iter()
        .take(3)
        .map(|(_, c)| c)
        .collect()
}

/// Like [`closest`], for candidates written more than one way (a step's usage and its
/// example): each is scored by the form nearest to `word`, and only the near-best are
/// kept, so a clear winner is shown alone.
pub fn closest_of<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>,
) -> Vec<&'a str> {
    let scored = ranked(word, candidates);
    let top = scored.first().map_or(0.0, |s| s.0);
    scored
        .into_iter()
        .take_while(|(score, _)| top - score <= 0.05)
        .take(3)
        .map(|(_, c)| c)
        .collect()
}

/// Candidates at least half similar to `word` (by their nearest form), best first.
fn ranked<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>,
) -> Vec<(f64, &'a str)> {
    let word_lower = word.to_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|(shown, forms)| {
            let best = std::iter::once(shown)
                .chain(forms)
                .map(|f| strsim::normalized_damerau_levenshtein(&word_lower, &f.to_lowercase()))
                .fold(0.0, f64::max);
            (best, shown)
        })
        .filter(|(score, _)| *score >= 0.5)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored
}

/// Several diagnostics, reported together.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_rustc() {
        let source = "Feature: x\n  Scenario: y\n    When I sned a request\n";
        let d = Diagnostic::new("features/a.feature", "unknown step")
            .at(3, 5)
            .width(4)
            .label("no step matches this text")
            .help("did you mean `When I send a request`?")
            .with_source(source);
        insta::assert_snapshot!(d.to_string(), @r"
        error: unknown step
         --> features/a.feature:3:5
          |
        3 |     When I sned a request
          |     ^^^^ no step matches this text
          = help: did you mean `When I send a request`?
        ");
    }

    #[test]
    fn control_characters_from_the_input_are_escaped() {
        let source = "Feature: x\n  When I \x1b[2Jsned \u{202e}it\n";
        let d = Diagnostic::new(
            "features/\x1b]0;pwned\x07.feature",
            "unknown step `\x1b[2J`",
        )
        .at(2, 14)
        .width(4)
        .label("no step \x1b[31mmatches")
        .help("did you mean \x07?")
        .with_source(source);
        let shown = d.to_string();
        assert!(
            !shown.contains('\x1b') && !shown.contains('\x07'),
            "{shown:?}"
        );
        assert!(!shown.contains('\u{202e}'), "{shown:?}");
        insta::assert_snapshot!(shown, @r"
        error: unknown step `\u{1b}[2J`
         --> features/\u{1b}]0;pwned\u{7}.feature:2:14
          |
        2 |   When I \u{1b}[2Jsned \u{202e}it
          |                   ^^^^ no step \u{1b}[31mmatches
          = help: did you mean \u{7}?
        ");
    }

    #[test]
    fn offsets_map_to_lines_and_columns() {
        let source = "ab\ncdé\nf";
        assert_eq!(line_col(source, 0), (1, 1));
        assert_eq!(line_col(source, 3), (2, 1));
        assert_eq!(line_col(source, 8), (3, 1));
        assert_eq!(line_col(source, 7), (2, 4));
    }

    #[test]
    fn a_step_is_suggested_by_its_nearest_form() {
        let steps = [
            (
                "the response status is <n>xx",
                vec!["the response status is 2xx"],
            ),
            (
                "the response status is <code>",
                vec!["the response status is 200"],
            ),
        ];
        assert_eq!(
            closest_of("the respons status is 200", steps),
            vec!["the response status is <code>"]
        );
    }

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(
            closest("Asert", ["Assert", "Capture", "Asserts"]),
            vec!["Assert", "Asserts"]
        );
        assert!(closest("zzz", ["Assert"]).is_empty());
    }
}
