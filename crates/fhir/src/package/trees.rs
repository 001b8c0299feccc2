//! Parsed definitions kept in the package index (`<id>#<version>/.assure-index`, after
//! its body): the tree (members, values and source positions) of each
//! StructureDefinition, ValueSet and CodeSystem in a compact binary form, read back on
//! first use instead of parsing its JSON or XML again. Validating the 709 R4 examples
//! reads 219 StructureDefinitions (11.6 MB, nearly twice the input's bytes) and 308
//! CodeSystems, and parsing them was the largest single part of the run.
//!
//! The trees are written and renamed into place with the index they belong to, in one
//! file, and only the index's body is read at start; a tree is read when its
//! definition is first used. Each has its own checksum: one that fails it, or fails
//! to decode, is parsed from its file instead, so damage costs speed, never a wrong
//! tree. A section that cannot be read at all makes the index stale.

use std::fs::File;

use super::codec::Damaged;
use crate::model::{Kind, Name, Node, Pos};

/// The resources whose trees are kept: what a validation run reads.
pub(crate) const KEPT: &[&str] = &["StructureDefinition", "ValueSet", "CodeSystem"];

/// Members of a definition that a snapshot does not read, kept as a tree of their
/// own inside the definition's: decoded with it when the whole tree is asked for,
/// left encoded when only the snapshot is (a quarter of R4 core's bytes).
const DEFERRABLE: &[&str] = &["differential"];

/// A member left encoded: where it stood among the definition's members.
#[derive(Debug, Clone)]
pub(crate) struct Deferred {
    pub at: usize,
    pub name: Name,
    pub bytes: Vec<u8>,
}

impl Deferred {
    /// Puts members back where they stood (`deferred` in the order they were taken).
    pub(crate) fn restore(node: &mut Node, deferred: &[Deferred]) {
        let Kind::Object(members) = &mut node.kind else {
            return;
        };
        for d in deferred {
            if let Ok(value) = decode(&d.bytes) {
                members.insert(d.at.min(members.len()), (d.name.clone(), value));
            }
        }
    }
}

const MAGIC: &[u8; 8] = b"assureTR";
/// Deeper than any definition; a bound for the decoder's recursion.
const MAX_DEPTH: usize = 1024;
const HEADER: usize = 8 + 4 + 4 + 4 + 4;
const ROW: usize = 4 + 8 + 4 + 4;

/// Where one tree lies in the file.
#[derive(Debug, Clone, Copy)]
struct Blob {
    offset: u64,
    len: u32,
    crc: u32,
}

/// A package's trees, in its index file from `base` on; read on demand.
#[derive(Debug)]
pub(crate) struct Trees {
    file: File,
    /// By item (the resource's position in the package's index).
    blobs: Vec<Option<Blob>>,
}

impl Trees {
    /// The trees section that starts at `base` in an index file.
    pub(crate) fn open(file: File, base: u64, code_key: u32) -> Result<Trees, String> {
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let cut = || "its parsed definitions are cut short".to_string();
        let mut header = [0u8; HEADER];
        read_at(&file, &mut header, base).map_err(|_| cut())?;
        let u32_at =
            |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().unwrap_or_default());
        if &header[..8] != MAGIC || u32_at(8) != super::index::FORMAT || u32_at(12) != code_key {
            return Err("its parsed definitions are not assure's".into());
        }
        let rows = u32_at(16) as usize;
        let table_len = rows.saturating_mul(ROW) as u64;
        let start = base + HEADER as u64;
        if start.saturating_add(table_len) > size {
            return Err(cut());
        }
        let mut table = vec![0u8; table_len as usize];
        read_at(&file, &mut table, start).map_err(|_| cut())?;
        // A damaged row could give one definition another's (intact) tree.
        if crc32fast::hash(&table) != u32_at(20) {
            return Err("its parsed definitions are damaged".into());
        }
        let mut blobs: Vec<Option<Blob>> = Vec::new();
        for row in table.chunks_exact(ROW) {
            let item = u32::from_le_bytes(row[0..4].try_into().unwrap_or_default()) as usize;
            let blob = Blob {
                offset: base.saturating_add(u64::from_le_bytes(
                    row[4..12].try_into().unwrap_or_default(),
                )),
                len: u32::from_le_bytes(row[12..16].try_into().unwrap_or_default()),
                crc: u32::from_le_bytes(row[16..20].try_into().unwrap_or_default()),
            };
            if blob.offset.saturating_add(u64::from(blob.len)) > size {
                return Err(cut());
            }
            if item > 10_000_000 {
                return Err("its parsed definitions are damaged".into());
            }
            if blobs.len() <= item {
                blobs.resize(item + 1, None);
            }
            blobs[item] = Some(blob);
        }
        Ok(Trees { file, blobs })
    }

    /// The stored tree of `item`, or `None` (not stored, unreadable or damaged).
    pub(crate) fn read(&self, item: usize) -> Option<Node> {
        decode(&self.bytes(item)?).ok()
    }

    /// [`Trees::read`], with the members a snapshot does not read left encoded.
    pub(crate) fn read_deferring(&self, item: usize) -> Option<(Node, Vec<Deferred>)> {
        decode_deferring(&self.bytes(item)?).ok()
    }

    /// The checked bytes of `item`'s tree.
    fn bytes(&self, item: usize) -> Option<Vec<u8>> {
        let blob = (*self.blobs.get(item)?)?;
        let mut bytes = vec![0u8; blob.len as usize];
        read_at(&self.file, &mut bytes, blob.offset).ok()?;
        (crc32fast::hash(&bytes) == blob.crc).then_some(bytes)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    // A handle of its own, so concurrent reads do not share a cursor.
    let mut own = file.try_clone()?;
    own.seek(SeekFrom::Start(offset))?;
    own.read_exact(buf)
}

/// The trees section of an index: a header, a row per tree (its item, offset from
/// the section's start, length and CRC), then the trees.
pub(crate) fn section(code_key: u32, trees: &[(usize, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        HEADER + trees.len() * ROW + trees.iter().map(|(_, b)| b.len()).sum::<usize>(),
    );
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&super::index::FORMAT.to_le_bytes());
    out.extend_from_slice(&code_key.to_le_bytes());
    out.extend_from_slice(&(trees.len() as u32).to_le_bytes());
    let mut table = Vec::with_capacity(trees.len() * ROW);
    let mut offset = (HEADER + trees.len() * ROW) as u64;
    for (item, bytes) in trees {
        table.extend_from_slice(&(*item as u32).to_le_bytes());
        table.extend_from_slice(&offset.to_le_bytes());
        table.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        table.extend_from_slice(&crc32fast::hash(bytes).to_le_bytes());
        offset += bytes.len() as u64;
    }
    out.extend_from_slice(&crc32fast::hash(&table).to_le_bytes());
    out.extend_from_slice(&table);
    for (_, bytes) in trees {
        out.extend_from_slice(bytes);
    }
    out
}

/// One tree: its member names once, the text of its strings and numbers in one run
/// (checked as UTF-8 once when read, not string by string), then the nodes, each a
/// tag, its position and its content; counts, lengths and positions as LEB128.
pub(crate) fn encode(node: &Node) -> Vec<u8> {
    let mut names: Vec<&Name> = Vec::new();
    let mut seen: std::collections::HashMap<&str, u32, foldhash::fast::RandomState> =
        Default::default();
    collect_names(node, &mut names, &mut seen, true);
    let mut nodes = Vec::new();
    let mut texts = Vec::new();
    encode_node(node, &seen, &mut nodes, &mut texts, true, &mut 0);
    let mut out = Vec::with_capacity(nodes.len() + texts.len() + 16);
    varint(&mut out, names.len() as u64);
    for n in &names {
        varint(&mut out, n.len() as u64);
        out.extend_from_slice(n.as_bytes());
    }
    varint(&mut out, texts.len() as u64);
    out.extend_from_slice(&texts);
    out.extend_from_slice(&nodes);
    out
}

/// Whether member `name` of `node` is kept as a tree of its own: a deferrable
/// member of the root resource (not of a resource it contains).
fn deferred(node: &Node, name: &str, root: bool) -> bool {
    root && DEFERRABLE.contains(&name) && node.resource_type().is_some()
}

fn collect_names<'n>(
    node: &'n Node,
    names: &mut Vec<&'n Name>,
    seen: &mut std::collections::HashMap<&'n str, u32, foldhash::fast::RandomState>,
    root: bool,
) {
    match &node.kind {
        Kind::Array(items) => items
            .iter()
            .for_each(|i| collect_names(i, names, seen, false)),
        Kind::Object(members) => {
            for (name, value) in members {
                if !seen.contains_key(&**name) {
                    seen.insert(name, names.len() as u32);
                    names.push(name);
                }
                // A deferred member is a tree of its own, with its own names.
                if !deferred(node, name, root) {
                    collect_names(value, names, seen, false);
                }
            }
        }
        _ => {}
    }
}

/// `line` is the previous node's line: a line is kept as the difference from it
/// (zigzag), one byte for nearly every node where the line itself takes two or three.
fn encode_node(
    node: &Node,
    names: &std::collections::HashMap<&str, u32, foldhash::fast::RandomState>,
    out: &mut Vec<u8>,
    texts: &mut Vec<u8>,
    root: bool,
    line: &mut u32,
) {
    let tag = match &node.kind {
        Kind::Null => 0,
        Kind::Bool(false) => 1,
        Kind::Bool(true) => 2,
        Kind::Number(_) => 3,
        Kind::String(_) => 4,
        Kind::Array(_) => 5,
        Kind::Object(_) => 6,
    };
    out.push(tag);
    varint(out, zigzag(i64::from(node.pos.line) - i64::from(*line)));
    *line = node.pos.line;
    varint(out, u64::from(node.pos.col));
    match &node.kind {
        Kind::Null | Kind::Bool(_) => {}
        Kind::Number(s) | Kind::String(s) => {
            varint(out, s.len() as u64);
            texts.extend_from_slice(s.as_bytes());
        }
        Kind::Array(items) => {
            varint(out, items.len() as u64);
            items
                .iter()
                .for_each(|i| encode_node(i, names, out, texts, false, line));
        }
        Kind::Object(members) => {
            varint(out, members.len() as u64);
            for (name, value) in members {
                let id = names.get(&**name).copied();
                debug_assert!(id.is_some(), "member name {name} missing from the table");
                varint(out, u64::from(id.unwrap_or(0)));
                if deferred(node, name, root) {
                    let own = encode(value);
                    out.push(DEFERRED_TAG);
                    varint(out, own.len() as u64);
                    out.extend_from_slice(&own);
                } else {
                    encode_node(value, names, out, texts, false, line);
                }
            }
        }
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The tag of a member kept as a tree of its own: its length, then the tree.
const DEFERRED_TAG: u8 = 7;

/// Reads a tree back; every read is bounds-checked, so damage is an error.
pub(crate) fn decode(bytes: &[u8]) -> Result<Node, Damaged> {
    decode_with(bytes, None, true)
}

/// Reads a tree back with its deferrable members left encoded.
pub(crate) fn decode_deferring(bytes: &[u8]) -> Result<(Node, Vec<Deferred>), Damaged> {
    let mut deferred = Vec::new();
    let node = decode_with(bytes, Some(&mut deferred), true)?;
    Ok((node, deferred))
}

fn decode_with(
    bytes: &[u8],
    deferred: Option<&mut Vec<Deferred>>,
    root: bool,
) -> Result<Node, Damaged> {
    let mut r = Reader {
        b: bytes,
        at: 0,
        deferred,
        root,
        line: 0,
        texts: "",
        texts_at: 0,
    };
    let count = r.count(1)?;
    let mut names: Vec<Name> = Vec::with_capacity(count);
    for _ in 0..count {
        names.push(r.utf8()?.into());
    }
    r.texts = r.utf8()?;
    let node = r.node(&names, 0)?;
    if r.at != bytes.len() || r.texts_at != r.texts.len() {
        return Err(Damaged("bytes after the tree".into()));
    }
    Ok(node)
}

struct Reader<'a, 'd> {
    b: &'a [u8],
    at: usize,
    /// Where the root's deferred members go; `None`: decode them.
    deferred: Option<&'d mut Vec<Deferred>>,
    /// Whether this is a definition's tree (a deferred member's own tree defers
    /// nothing, which bounds the nesting).
    root: bool,
    /// The previous node's line.
    line: u32,
    /// The tree's strings and numbers, one after another, and how far they are read.
    texts: &'a str,
    texts_at: usize,
}

impl<'a> Reader<'a, '_> {
    fn damaged(&self, what: &str) -> Damaged {
        Damaged(format!("{what} at byte {}", self.at))
    }

    fn byte(&mut self) -> Result<u8, Damaged> {
        let b = *self
            .b
            .get(self.at)
            .ok_or_else(|| self.damaged("cut short"))?;
        self.at += 1;
        Ok(b)
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, Damaged> {
        // Most numbers (columns, name indexes, short lengths) are one byte.
        if let Some(&b) = self.b.get(self.at) {
            if b < 0x80 {
                self.at += 1;
                return Ok(u64::from(b));
            }
        }
        self.varint_long()
    }

    fn varint_long(&mut self) -> Result<u64, Damaged> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(self.damaged("an overlong number"))
    }

    fn u32(&mut self) -> Result<u32, Damaged> {
        u32::try_from(self.varint()?).map_err(|_| self.damaged("a number out of range"))
    }

    /// A count of items of at least `min_size` bytes each, checked against what is left.
    fn count(&mut self, min_size: usize) -> Result<usize, Damaged> {
        let n = self.varint()?;
        let left = (self.b.len() - self.at) as u64;
        if n.saturating_mul(min_size as u64) > left {
            return Err(self.damaged("a count that overruns"));
        }
        Ok(n as usize)
    }

    /// A length, then that many bytes of UTF-8.
    fn utf8(&mut self) -> Result<&'a str, Damaged> {
        let n = self.count(1)?;
        let s = std::str::from_utf8(&self.b[self.at..self.at + n])
            .map_err(|_| self.damaged("text that is not UTF-8"))?;
        self.at += n;
        Ok(s)
    }

    /// The next string or number: its length here, its text from the tree's texts.
    fn text(&mut self) -> Result<&'a str, Damaged> {
        let n = usize::try_from(self.varint()?).unwrap_or(usize::MAX);
        let end = self.texts_at.saturating_add(n);
        // `get` also refuses an end inside a character.
        let s = self
            .texts
            .get(self.texts_at..end)
            .ok_or_else(|| self.damaged("a text that overruns"))?;
        self.texts_at = end;
        Ok(s)
    }

    fn node(&mut self, names: &[Name], depth: usize) -> Result<Node, Damaged> {
        if depth > MAX_DEPTH {
            return Err(self.damaged("nesting too deep"));
        }
        let tag = self.byte()?;
        let line = i64::from(self.line).checked_add(unzigzag(self.varint()?));
        self.line = line
            .and_then(|l| u32::try_from(l).ok())
            .ok_or_else(|| self.damaged("a line out of range"))?;
        let pos = Pos {
            line: self.line,
            col: self.u32()?,
        };
        let kind = match tag {
            0 => Kind::Null,
            1 => Kind::Bool(false),
            2 => Kind::Bool(true),
            3 => Kind::Number(self.text()?.into()),
            4 => Kind::String(self.text()?.into()),
            5 => {
                let n = self.count(3)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.node(names, depth + 1)?);
                }
                Kind::Array(items)
            }
            6 => {
                let n = self.count(2)?;
                let mut members = Vec::with_capacity(n);
                let mut kept_encoded = 0;
                for _ in 0..n {
                    let name = names
                        .get(self.varint()? as usize)
                        .ok_or_else(|| self.damaged("an unknown member name"))?
                        .clone();
                    if self.b.get(self.at) == Some(&DEFERRED_TAG) {
                        if depth != 0 || !self.root {
                            return Err(self.damaged("a deferred member below the root"));
                        }
                        self.at += 1;
                        let len = self.count(1)?;
                        let own = &self.b[self.at..self.at + len];
                        self.at += len;
                        match self.deferred.as_deref_mut() {
                            Some(list) => {
                                list.push(Deferred {
                                    at: members.len() + kept_encoded,
                                    name,
                                    bytes: own.to_vec(),
                                });
                                kept_encoded += 1;
                            }
                            None => members.push((name, decode_with(own, None, false)?)),
                        }
                        continue;
                    }
                    members.push((name, self.node(names, depth + 1)?));
                }
                Kind::Object(members)
            }
            _ => return Err(self.damaged("an unknown tag")),
        };
        Ok(Node { kind, pos })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_reads_back_equal_and_damage_is_an_error() {
        let text = "{\n  \"resourceType\": \"StructureDefinition\",\n  \"n\": [1, -2.50e3, null, true, false],\n  \"s\": \"caf\u{e9} \\\"q\\\"\",\n  \"o\": {\"resourceType\": {}, \"e\": []}\n}";
        let node = crate::model::parse_json(text).unwrap();
        let bytes = encode(&node);
        assert_eq!(decode(&bytes).unwrap(), node);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
        // A huge count is refused before anything is allocated.
        assert!(decode(&[0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        // No names, no text, a null whose line steps out of range either way.
        let far = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        for step in [&far[..], &far[..9], &[0x01][..]] {
            let mut bytes = vec![0, 0, 0];
            bytes.extend_from_slice(step);
            bytes.push(1);
            assert!(decode(&bytes).is_err(), "{step:?}");
        }
    }

    /// Lines are kept as differences: lines that go back (an XML attribute read
    /// after its children, a tree built by hand) and far ones read back the same.
    #[test]
    fn lines_in_any_order_read_back() {
        let at = |line, col| Pos { line, col };
        let leaf = |s: &str, line| Node::new(Kind::String(s.into()), at(line, 3));
        let node = Node::new(
            Kind::Object(vec![
                ("b".into(), leaf("x", 90_000)),
                ("a".into(), leaf("y", 2)),
                (
                    "c".into(),
                    Node::new(
                        Kind::Array(vec![leaf("z", u32::MAX), leaf("w", 0)]),
                        at(7, 1),
                    ),
                ),
            ]),
            at(40, 200),
        );
        let bytes = encode(&node);
        assert_eq!(decode(&bytes).unwrap(), node);
    }

    #[test]
    fn a_differential_is_left_encoded_for_a_snapshot_and_put_back_in_its_place() {
        let text = r#"{"resourceType":"StructureDefinition","url":"u","differential":{"element":[{"path":"X","short":"s"}]},"snapshot":{"element":[]},"name":"n"}"#;
        let node = crate::model::parse_json(text).unwrap();
        let bytes = encode(&node);
        assert_eq!(decode(&bytes).unwrap(), node);
        let (mut lean, deferred) = decode_deferring(&bytes).unwrap();
        assert!(lean.get("differential").is_none());
        assert_eq!(lean.get("name").and_then(Node::as_str), Some("n"));
        Deferred::restore(&mut lean, &deferred);
        assert_eq!(lean, node);
        // Only the root resource's own members are deferred: not an object's, nor
        // those of a resource it contains, whose names stay in the root's table.
        let inner = crate::model::parse_json(r#"{"differential":{"a":1}}"#).unwrap();
        assert!(decode_deferring(&encode(&inner)).unwrap().1.is_empty());
        let contains = crate::model::parse_json(
            r#"{"resourceType":"ValueSet","contained":[{"resourceType":"StructureDefinition","differential":{"element":[{"path":"Y"}]}}]}"#,
        )
        .unwrap();
        let held = encode(&contains);
        assert_eq!(decode(&held).unwrap(), contains);
        let (lean, deferred) = decode_deferring(&held).unwrap();
        assert_eq!((lean, deferred.len()), (contains, 0));
        // A deferred member inside a deferred member's tree is damage, not recursion:
        // the differential's tree swapped for a whole definition (which defers its own).
        let own = encode(node.get("differential").unwrap());
        let mut payload = vec![DEFERRED_TAG];
        varint(&mut payload, own.len() as u64);
        payload.extend_from_slice(&own);
        let at = bytes
            .windows(payload.len())
            .position(|w| w == payload.as_slice())
            .unwrap();
        let rest = &bytes[at + payload.len()..];
        let mut nested = bytes[..at + 1].to_vec();
        varint(&mut nested, bytes.len() as u64);
        nested.extend_from_slice(&bytes);
        nested.extend_from_slice(rest);
        let Err(Damaged(why)) = decode(&nested) else {
            panic!("a nested deferred member was decoded");
        };
        assert!(why.contains("below the root"), "{why}");
    }

    /// The tree a definition is read as is the one stored with the index: swapped
    /// for another under the same index, the other one is what a load sees.
    #[test]
    fn a_definition_is_read_from_its_stored_tree() {
        use crate::package::{LoadOptions, PackageCache, PackageSet, PackageSource};
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("a.pkg#1.0.0");
        std::fs::create_dir_all(folder.join("package")).unwrap();
        std::fs::write(
            folder.join("package/package.json"),
            r#"{"name":"a.pkg","version":"1.0.0","fhirVersions":["4.0.1"]}"#,
        )
        .unwrap();
        let url = "http://example.org/StructureDefinition/Thing";
        std::fs::write(
            folder.join("package/StructureDefinition-Thing.json"),
            format!(r#"{{"resourceType":"StructureDefinition","url":"{url}","name":"FromFile"}}"#),
        )
        .unwrap();
        // Files changed less than 2 s before are not indexed.
        std::thread::sleep(std::time::Duration::from_millis(2_100));
        let options = LoadOptions {
            cache: Some(PackageCache::new(dir.path())),
            allow_missing_dependencies: true,
        };
        let spec = [PackageSource::Spec {
            id: "a.pkg".into(),
            version: "1.0.0".into(),
        }];
        let name = |set: &PackageSet| {
            let node = set.structure_definition(url).unwrap().node().unwrap();
            node.get("name").and_then(Node::as_str).unwrap().to_string()
        };
        assert_eq!(
            name(&PackageSet::load(&spec, &options).unwrap()),
            "FromFile"
        );
        let index = folder.join(crate::package::index::INDEX_FILE);
        let stored = std::fs::read(&index).unwrap();
        let body = u64::from_le_bytes(stored[16..24].try_into().unwrap()) as usize;
        let base = 28 + body;
        let item = u32::from_le_bytes(stored[base + HEADER..base + HEADER + 4].try_into().unwrap());
        let other = crate::model::parse_json(&format!(
            r#"{{"resourceType":"StructureDefinition","url":"{url}","name":"Stored"}}"#
        ))
        .unwrap();
        let key = crate::package::index::code_key();
        let mut swapped = stored[..base].to_vec();
        swapped.extend(section(key, &[(item as usize, encode(&other))]));
        std::fs::write(&index, swapped).unwrap();
        let set = PackageSet::load(&spec, &options).unwrap();
        assert_eq!(set.packages()[0].index, crate::package::IndexUse::Read);
        assert_eq!(name(&set), "Stored");
    }
}
