//! FHIRPath errors: the class (syntax, semantic, execution) and where in the expression.

use std::fmt;

/// The class of a FHIRPath error, as the specification and its test suite name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The text is not a FHIRPath expression.
    Syntax,
    /// Well-formed, but meaningless: unknown function, wrong argument count, a type
    /// that cannot apply.
    Semantic,
    /// Failed while evaluating against data: a singleton expected, a type mismatch.
    Execution,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Syntax => "syntax",
            ErrorKind::Semantic => "semantic",
            ErrorKind::Execution => "execution",
        })
    }
}

/// A 1-based line and column inside the expression text, plus the byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ExprPos {
    pub offset: usize,
    pub line: u32,
    pub col: u32,
}

impl ExprPos {
    /// Position of byte `offset` in `text`, counting columns in characters.
    pub fn at(text: &str, offset: usize) -> ExprPos {
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() as u32 + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() as u32 + 1;
        ExprPos { offset, line, col }
    }
}

impl fmt::Display for ExprPos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Why an expression could not be parsed or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} error at {pos}: {message}")]
pub struct FhirPathError {
    pub kind: ErrorKind,
    pub message: String,
    pub pos: ExprPos,
}

impl FhirPathError {
    pub fn new(kind: ErrorKind, message: impl Into<String>, pos: ExprPos) -> Self {
        FhirPathError {
            kind,
            message: message.into(),
            pos,
        }
    }

    pub fn syntax(message: impl Into<String>, pos: ExprPos) -> Self {
        Self::new(ErrorKind::Syntax, message, pos)
    }

    pub fn semantic(message: impl Into<String>, pos: ExprPos) -> Self {
        Self::new(ErrorKind::Semantic, message, pos)
    }

    pub fn execution(message: impl Into<String>, pos: ExprPos) -> Self {
        Self::new(ErrorKind::Execution, message, pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_chars() {
        let text = "a.b\n  é.c";
        assert_eq!(ExprPos::at(text, 0).to_string(), "1:1");
        assert_eq!(ExprPos::at(text, 2).to_string(), "1:3");
        let at_c = text.find(".c").unwrap();
        assert_eq!(ExprPos::at(text, at_c).to_string(), "2:4");
        assert_eq!(ExprPos::at(text, 999).line, 2);
    }
}
