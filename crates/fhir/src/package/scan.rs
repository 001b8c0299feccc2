//! Cheap scans of a resource's top-level fields, so that indexing a package does not
//! parse every resource: only the handful of strings an index needs are read, and
//! everything nested (snapshots, concepts, narrative) is skipped byte by byte.

use crate::model::Pos;

/// The top-level facts the index keeps about one resource.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub resource_type: String,
    pub id: Option<String>,
    pub url: Option<String>,
    pub version: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub type_: Option<String>,
    pub derivation: Option<String>,
    pub base_definition: Option<String>,
    pub fhir_version: Option<String>,
    /// Something odd but readable, such as XML without the FHIR namespace.
    pub warning: Option<String>,
}

impl Summary {
    fn set(&mut self, key: &str, value: String) {
        let slot = match key {
            "resourceType" => {
                self.resource_type = value;
                return;
            }
            "id" => &mut self.id,
            "url" => &mut self.url,
            "version" => &mut self.version,
            "name" => &mut self.name,
            "kind" => &mut self.kind,
            "type" => &mut self.type_,
            "derivation" => &mut self.derivation,
            "baseDefinition" => &mut self.base_definition,
            "fhirVersion" => &mut self.fhir_version,
            _ => return,
        };
        *slot = Some(value);
    }
}

/// Why a scan gave up, and where (byte offset turned into line:col by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct ScanError {
    pub message: String,
    pub pos: Pos,
    /// The `resourceType` read before the problem, if any.
    pub resource_type: Option<String>,
}

/// Scans a JSON resource. Returns `Ok(None)` for JSON that is not a resource
/// (no `resourceType`), such as `package.json` or an `.index.json`.
pub fn scan_json(bytes: &[u8]) -> Result<Option<Summary>, ScanError> {
    let mut summary = Summary::default();
    scan_json_into(bytes, &mut summary).map_err(|mut e| {
        if !summary.resource_type.is_empty() {
            e.resource_type = Some(summary.resource_type.clone());
        }
        e
    })
}

fn scan_json_into(bytes: &[u8], summary: &mut Summary) -> Result<Option<Summary>, ScanError> {
    let mut s = JsonScan { b: bytes, at: 0 };
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        s.at = 3;
    }
    s.ws();
    if s.peek() != Some(b'{') {
        return Err(s.err("expected a JSON object"));
    }
    s.at += 1;
    loop {
        s.ws();
        match s.peek() {
            Some(b'}') => break,
            Some(b'"') => {}
            _ => return Err(s.err("expected a member name")),
        }
        let key = s.string()?;
        s.ws();
        if s.peek() != Some(b':') {
            return Err(s.err("expected `:`"));
        }
        s.at += 1;
        s.ws();
        if s.peek() == Some(b'"') && is_wanted(&key) {
            let value = s.string()?;
            summary.set(&key, value);
        } else {
            s.skip_value()?;
        }
        s.ws();
        match s.peek() {
            Some(b',') => s.at += 1,
            Some(b'}') => break,
            _ => return Err(s.err("expected `,` or `}`")),
        }
    }
    if summary.resource_type.is_empty() {
        return Ok(None);
    }
    Ok(Some(summary.clone()))
}

fn is_wanted(key: &str) -> bool {
    matches!(
        key,
        "resourceType"
            | "id"
            | "url"
            | "version"
            | "name"
            | "kind"
            | "type"
            | "derivation"
            | "baseDefinition"
            | "fhirVersion"
    )
}

struct JsonScan<'a> {
    b: &'a [u8],
    at: usize,
}

impl JsonScan<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.at).copied()
    }

    fn err(&self, message: &str) -> ScanError {
        ScanError {
            message: message.to_string(),
            pos: pos_of(self.b, self.at),
            resource_type: None,
        }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.at += 1;
        }
    }

    /// Reads a string; escapes other than the simple ones are kept verbatim, which is
    /// enough for canonical URLs and type names.
    fn string(&mut self) -> Result<String, ScanError> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.at += 1;
                    return String::from_utf8(out).map_err(|_| self.err("invalid UTF-8"));
                }
                Some(b'\\') => {
                    let c = self.b.get(self.at + 1).copied().unwrap_or(b'\\');
                    match c {
                        b'"' | b'\\' | b'/' => out.push(c),
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        _ => out.extend_from_slice(&[b'\\', c]),
                    }
                    self.at += 2;
                }
                Some(c) => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
    }

    /// Skips any value, tracking only nesting and string boundaries.
    fn skip_value(&mut self) -> Result<(), ScanError> {
        if matches!(self.peek(), Some(b',' | b'}' | b']')) {
            return Err(self.err("expected a value"));
        }
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => return Err(self.err("unexpected end of input")),
                Some(b'"') => {
                    self.at += 1;
                    loop {
                        match self.peek() {
                            None => return Err(self.err("unterminated string")),
                            Some(b'\\') => self.at += 2,
                            Some(b'"') => {
                                self.at += 1;
                                break;
                            }
                            Some(_) => self.at += 1,
                        }
                    }
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Some(b'{' | b'[') => {
                    depth += 1;
                    self.at += 1;
                }
                Some(b'}' | b']') => {
                    if depth == 0 {
                        // The end of a scalar that ends its container.
                        return Ok(());
                    }
                    depth -= 1;
                    self.at += 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Some(b',' | b' ' | b'\t' | b'\r' | b'\n') if depth == 0 => return Ok(()),
                Some(_) => self.at += 1,
            }
        }
    }
}

/// Scans an XML resource: the root element's name and the `value` attributes of its
/// direct children. Returns `Ok(None)` when the root is not in the FHIR namespace.
pub fn scan_xml(bytes: &[u8]) -> Result<Option<Summary>, ScanError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut depth = 0usize;
    let mut summary = Summary::default();
    loop {
        let event = reader.read_event().map_err(|e| ScanError {
            message: format!("XML is not well formed: {e}"),
            pos: pos_of(bytes, reader.error_position() as usize),
            resource_type: Some(summary.resource_type.clone()).filter(|t| !t.is_empty()),
        })?;
        let opens = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                if depth == 0 {
                    let name = local_name(e.name().as_ref());
                    match namespace(&e) {
                        Some(ns) if ns == b"http://hl7.org/fhir" => {}
                        // Some published assets omit the namespace; accept a resource-like
                        // root name and say so.
                        None if name.starts_with(|c: char| c.is_ascii_uppercase()) => {
                            summary.warning = Some(format!(
                                "<{name}> is not in the FHIR namespace http://hl7.org/fhir"
                            ));
                        }
                        _ => return Ok(None),
                    }
                    summary.resource_type = name;
                } else if depth == 1 {
                    let name = local_name(e.name().as_ref());
                    if is_wanted(&name) {
                        if let Some(v) = attribute(&e, b"value") {
                            summary.set(&name, v);
                        }
                    }
                }
                if opens {
                    depth += 1;
                } else if depth == 0 {
                    break;
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if summary.resource_type.is_empty() {
        return Err(ScanError {
            message: "no root element".into(),
            pos: Pos { line: 1, col: 1 },
            resource_type: None,
        });
    }
    Ok(Some(summary))
}

pub(crate) fn local_name(name: &[u8]) -> String {
    let local = match name.iter().rposition(|b| *b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    };
    String::from_utf8_lossy(local).into_owned()
}

pub(crate) fn attribute(e: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// The namespace of an element: its `xmlns`, or the `xmlns:p` of its prefix `p`.
pub(crate) fn namespace(e: &quick_xml::events::BytesStart<'_>) -> Option<Vec<u8>> {
    let name = e.name();
    let wanted: Vec<u8> = match name.as_ref().iter().position(|b| *b == b':') {
        Some(i) => [b"xmlns:".as_slice(), &name.as_ref()[..i]].concat(),
        None => b"xmlns".to_vec(),
    };
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == wanted.as_slice())
        .map(|a| a.value.into_owned())
}

/// Line and column (in characters) of a byte offset.
pub fn pos_of(bytes: &[u8], at: usize) -> Pos {
    let at = at.min(bytes.len());
    let before = &bytes[..at];
    let line = before.iter().filter(|b| **b == b'\n').count() as u32 + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let col = before[line_start..]
        .iter()
        .filter(|b| (**b & 0xC0) != 0x80)
        .count() as u32
        + 1;
    Pos { line, col }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_scan_reads_top_level_only() {
        let text = br#"{"resourceType":"StructureDefinition","id":"x","snapshot":{"element":[{"url":"nested","id":"a\"b"}]},"url":"http://e/x","type":"Patient","version":"1.0"}"#;
        let s = scan_json(text).unwrap().unwrap();
        assert_eq!(s.resource_type, "StructureDefinition");
        assert_eq!(s.url.as_deref(), Some("http://e/x"));
        assert_eq!(s.id.as_deref(), Some("x"));
        assert_eq!(s.type_.as_deref(), Some("Patient"));
        assert_eq!(s.version.as_deref(), Some("1.0"));
        assert_eq!(scan_json(br#"{"name":"pkg"}"#).unwrap(), None);
        let err = scan_json(b"{\n \"a\": [1, 2\n").unwrap_err();
        assert_eq!(err.pos.line, 3);
        assert!(scan_json(b"[1]").is_err());
    }

    #[test]
    fn xml_scan_reads_root_and_values() {
        let text = br#"<?xml version="1.0"?>
<ValueSet xmlns="http://hl7.org/fhir"><id value="v"/><text><div xmlns="http://www.w3.org/1999/xhtml"><url value="no"/></div></text>
<url value="http://e/vs"/><compose><include><system value="s"/></include></compose></ValueSet>"#;
        let s = scan_xml(text).unwrap().unwrap();
        assert_eq!(s.resource_type, "ValueSet");
        assert_eq!(s.url.as_deref(), Some("http://e/vs"));
        assert_eq!(s.id.as_deref(), Some("v"));
        assert_eq!(scan_xml(b"<html xmlns=\"x\"/>").unwrap(), None);
        let err =
            scan_xml(b"<ValueSet xmlns=\"http://hl7.org/fhir\">\n<id value=\"x\">\n</ValueSet>")
                .unwrap_err();
        assert!(err.message.contains("well formed"), "{}", err.message);
    }
}
