//! A small positioned element tree read with quick-xml: what the typed reader walks.

use quick_xml::events::{BytesStart, Event};

use super::XmlError;
use crate::model::Pos;
use crate::package::scan::{local_name, namespace};

#[derive(Debug)]
pub(crate) struct El {
    pub name: String,
    pub namespace: Option<String>,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<El>,
    pub pos: Pos,
    /// Byte span of the whole element in the source, start tag to end tag.
    pub span: (usize, usize),
}

impl El {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

const MAX_DEPTH: usize = 256;

/// Reads the document's root element and everything inside it.
pub(crate) fn read(text: &str) -> Result<El, XmlError> {
    let bytes = text.as_bytes();
    let lines = Lines::new(bytes);
    let pos_of = |_: &[u8], at: usize| lines.pos(at);
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<El> = Vec::new();
    loop {
        let start = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| XmlError {
            message: format!("not well-formed XML: {e}"),
            pos: pos_of(bytes, reader.error_position() as usize),
        })?;
        let end = reader.buffer_position() as usize;
        match event {
            Event::Start(e) | Event::Empty(e) if stack.len() >= MAX_DEPTH => {
                let _ = e;
                return Err(XmlError {
                    message: format!("XML nested deeper than {MAX_DEPTH} levels"),
                    pos: pos_of(bytes, start),
                });
            }
            Event::Start(e) => stack.push(element(&e, bytes, start, &lines)?),
            Event::Empty(e) => {
                let mut el = element(&e, bytes, start, &lines)?;
                el.span.1 = end;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::End(_) => {
                let Some(mut el) = stack.pop() else {
                    return Err(XmlError {
                        message: "unexpected end tag".into(),
                        pos: pos_of(bytes, start),
                    });
                };
                el.span.1 = end;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::Eof => {
                return Err(XmlError {
                    message: if stack.is_empty() {
                        "no root element".into()
                    } else {
                        "unexpected end of input inside an element".into()
                    },
                    pos: pos_of(bytes, start),
                })
            }
            _ => {}
        }
    }
}

fn element(e: &BytesStart<'_>, bytes: &[u8], start: usize, lines: &Lines) -> Result<El, XmlError> {
    let pos_of = |_: &[u8], at: usize| lines.pos(at);
    // The event starts after any text before it; find its `<`.
    let lt = bytes[start..]
        .iter()
        .position(|b| *b == b'<')
        .map_or(start, |i| start + i);
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| XmlError {
            message: format!("bad attribute: {err}"),
            pos: pos_of(bytes, lt),
        })?;
        // XML attribute-value normalisation: literal line breaks and tabs read as
        // spaces; character references (`&#10;`) keep what they encode.
        let raw = String::from_utf8_lossy(&a.value)
            .replace("\r\n", " ")
            .replace(['\n', '\r', '\t'], " ");
        let value = quick_xml::escape::unescape(&raw).map_err(|err| XmlError {
            message: format!("bad attribute value: {err}"),
            pos: pos_of(bytes, lt),
        })?;
        attrs.push((local_name(a.key.as_ref()), value.into_owned()));
    }
    Ok(El {
        name: local_name(e.name().as_ref()),
        namespace: namespace(e).map(|n| String::from_utf8_lossy(&n).into_owned()),
        attrs,
        children: Vec::new(),
        pos: pos_of(bytes, lt),
        span: (lt, lt),
    })
}

/// Line starts, so that a byte offset becomes line:col without rescanning.
pub(crate) struct Lines<'a> {
    bytes: &'a [u8],
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr_all(bytes).map(|i| i + 1));
        Lines { bytes, starts }
    }

    pub fn pos(&self, at: usize) -> Pos {
        let at = at.min(self.bytes.len());
        let line = self.starts.partition_point(|s| *s <= at).max(1);
        let start = self.starts[line - 1];
        let col = self.bytes[start..at]
            .iter()
            .filter(|b| (**b & 0xC0) != 0x80)
            .count();
        Pos {
            line: line as u32,
            col: col as u32 + 1,
        }
    }
}

fn memchr_all(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i)
}
