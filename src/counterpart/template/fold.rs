//! Large templates compile fast: the Handlebars crate computes a line and column for
//! every element from the start of the text, so a 250 KB body file with hundreds of
//! `{{...}}` takes seconds. Literal text outside any block is set aside before
//! compiling (its middle lines replaced by a marker) and put back after rendering.
//! The lines next to each tag stay, so whitespace control and standalone tags behave.

/// Marks a set-aside literal: `OPEN index CLOSE`, characters no template contains.
const OPEN: char = '\u{F8F0}';
const CLOSE: char = '\u{F8F1}';
/// Shorter literals are not worth setting aside.
const MIN_FOLD: usize = 256;

/// The text to compile, and the literals set aside.
pub fn fold(text: &str) -> (String, Vec<String>) {
    if text.contains(OPEN) || text.contains(CLOSE) {
        return (text.to_owned(), Vec::new());
    }
    let mut out = String::with_capacity(text.len().min(64 * 1024));
    let mut literals = Vec::new();
    let mut depth = 0usize;
    let mut rest = text;
    loop {
        let (literal, tag_len) = match rest.find("{{") {
            Some(i) => (&rest[..i], i),
            None => (rest, rest.len()),
        };
        if depth == 0 && literal.len() >= MIN_FOLD {
            fold_one(literal, &mut out, &mut literals);
        } else {
            out.push_str(literal);
        }
        rest = &rest[tag_len..];
        if rest.is_empty() {
            break;
        }
        let end = if rest.starts_with("{{!--") {
            rest.find("--}}").map(|i| i + 4)
        } else {
            rest.find("}}").map(|i| i + 2)
        };
        let Some(mut end) = end else {
            out.push_str(rest);
            break;
        };
        if rest[end..].starts_with('}') {
            end += 1;
        }
        let tag = &rest[..end];
        let inner = tag
            .trim_start_matches('{')
            .trim_start_matches('~')
            .trim_start();
        if inner.starts_with('#') || inner.starts_with('^') {
            depth += 1;
        } else if inner.starts_with('/') {
            depth = depth.saturating_sub(1);
        }
        out.push_str(tag);
        rest = &rest[end..];
    }
    (out, literals)
}

fn fold_one(literal: &str, out: &mut String, literals: &mut Vec<String>) {
    let (Some(first), Some(last)) = (literal.find('\n'), literal.rfind('\n')) else {
        out.push_str(literal);
        return;
    };
    if last <= first + 1 {
        out.push_str(literal);
        return;
    }
    out.push_str(&literal[..=first]);
    out.push(OPEN);
    out.push_str(&literals.len().to_string());
    out.push(CLOSE);
    literals.push(literal[first + 1..last].to_owned());
    out.push_str(&literal[last..]);
}

/// Puts the set-aside literals back into rendered output.
pub fn unfold(rendered: String, literals: &[String]) -> String {
    if literals.is_empty() || !rendered.contains(OPEN) {
        return rendered;
    }
    let mut out =
        String::with_capacity(rendered.len() + literals.iter().map(String::len).sum::<usize>());
    let mut rest = rendered.as_str();
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i]);
        let after = &rest[i + OPEN.len_utf8()..];
        let Some(j) = after.find(CLOSE) else {
            out.push_str(&rest[i..]);
            return out;
        };
        match after[..j]
            .parse::<usize>()
            .ok()
            .and_then(|n| literals.get(n))
        {
            Some(lit) => out.push_str(lit),
            None => out.push_str(&rest[i..i + OPEN.len_utf8() + j + CLOSE.len_utf8()]),
        }
        rest = &after[j + CLOSE.len_utf8()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_top_level_literals_and_puts_them_back() {
        let big = "x\n".repeat(300);
        let text =
            format!("a {{{{request.path}}}}\n{big}\n{{{{#each list}}}}\n{big}{{{{/each}}}}\nend");
        let (folded, lits) = fold(&text);
        assert_eq!(lits.len(), 1, "only the literal outside the block");
        assert!(folded.len() < text.len());
        assert!(folded.contains("{{#each list}}\n") && folded.contains("{{request.path}}"));
        assert_eq!(unfold(folded, &lits), text);
    }
}
