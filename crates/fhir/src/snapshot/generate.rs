//! Snapshot generation: walk the differential in order, find or create each element
//! in a copy of the base snapshot (unfolding datatypes, creating slices, turning
//! `valueQuantity` into the slice `value[x]:valueQuantity`), then merge it in.

use std::collections::HashMap;
use std::sync::Arc;

use super::merge::{check_and_merge, Problem};
use super::{
    remove_member, set_member, string_node, DifferentialError, ElementDefinition, Snapshot,
    SnapshotError, SnapshotProblem,
};
use crate::model::{Kind, Node};
use crate::package::{FhirRelease, PackageSet, ResourceRef};

const MAX_BASE_DEPTH: usize = 32;

thread_local! {
    static DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

pub(crate) struct Ctx<'a> {
    pub set: &'a PackageSet,
    pub url: String,
    pub release: FhirRelease,
    /// The definition's own index in the set (`None`: an instance being validated).
    pub index: Option<usize>,
    /// `package#version` and file, for errors.
    origin: (String, String),
    /// Elements as the base (or the unfolded type) defined them, by id: slices are
    /// copied from these, not from the element the differential has constrained.
    pristine: std::cell::RefCell<HashMap<String, Node>>,
    /// Leave out (and note) what cannot be applied instead of failing.
    pub lenient: bool,
    pub problems: std::cell::RefCell<Vec<String>>,
}

pub(crate) fn generate(set: &PackageSet, sd: ResourceRef<'_>) -> Result<Snapshot, SnapshotError> {
    generate_with(set, sd, false)
}

/// Like [`generate`], but differential elements that cannot be applied are left out
/// and listed in [`Snapshot::problems`] (a widened `max` is kept at the base's):
/// what a validator does with a flawed profile it is asked to apply.
pub(crate) fn generate_lenient(
    set: &PackageSet,
    sd: ResourceRef<'_>,
) -> Result<Snapshot, SnapshotError> {
    generate_with(set, sd, true)
}

fn generate_with(
    set: &PackageSet,
    sd: ResourceRef<'_>,
    lenient: bool,
) -> Result<Snapshot, SnapshotError> {
    let p = sd.package();
    let ctx = Ctx {
        set,
        url: sd.url().unwrap_or_default().to_string(),
        release: sd.release(),
        index: Some(sd.index()),
        origin: (format!("{}#{}", p.name, p.version), sd.file().to_string()),
        pristine: Default::default(),
        lenient,
        problems: Default::default(),
    };
    generate_in(&ctx, &*sd.node()?)
}

/// Generates the snapshot of a StructureDefinition that is not in the set (one being
/// validated), on the set's definitions.
pub(crate) fn generate_detached(
    set: &PackageSet,
    node: &Node,
    release: FhirRelease,
    origin: &str,
) -> Result<Snapshot, SnapshotError> {
    let ctx = Ctx {
        set,
        url: node
            .get("url")
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_string(),
        release,
        index: None,
        origin: (origin.to_string(), String::new()),
        pristine: Default::default(),
        lenient: false,
        problems: Default::default(),
    };
    generate_in(&ctx, node)
}

fn generate_in(ctx: &Ctx<'_>, node: &Node) -> Result<Snapshot, SnapshotError> {
    let set = ctx.set;
    let text = |k: &str| node.get(k).and_then(Node::as_str);
    let root_error = |problem, message: String| ctx.error(node, "(root)", problem, message);
    let base_url = text("baseDefinition")
        .ok_or_else(|| root_error(SnapshotProblem::MissingBase, "no baseDefinition".into()))?;
    let base = set.resolve_in(base_url, ctx.release).ok_or_else(|| {
        root_error(
            SnapshotProblem::MissingBase,
            format!("the base definition {base_url} is not loaded"),
        )
    })?;
    // A "specialization" of its own base type defines no new type: it constrains it.
    if text("derivation") == Some("specialization") && base.sd_type() != text("type") {
        return Err(root_error(
            SnapshotProblem::Invalid,
            "snapshots of new types (derivation specialization) are not generated; the package must ship one".into(),
        ));
    }
    let depth = DEPTH.with(|d| d.get());
    if depth > MAX_BASE_DEPTH || Some(base.index()) == ctx.index {
        return Err(root_error(
            SnapshotProblem::Invalid,
            format!("the base chain through {base_url} loops"),
        ));
    }
    DEPTH.with(|d| d.set(depth + 1));
    let base_snapshot = set.snapshot_of(base);
    DEPTH.with(|d| d.set(depth));
    let base_snapshot = base_snapshot?;

    let mut elements: Vec<Node> = base_snapshot
        .elements
        .iter()
        .map(|e| e.node.clone())
        .collect();
    // STU3 core snapshots leave out `base` on a type's own elements; a profile that
    // narrows `max` must still know the element repeats (JSON arrays).
    for e in &mut elements {
        if e.get("base").is_none() {
            let mut base = Node::new(Kind::Object(Vec::new()), e.pos);
            for key in ["path", "min", "max"] {
                if let Some(v) = e.get(key).cloned() {
                    set_member(&mut base, key, v);
                }
            }
            set_member(e, "base", base);
        }
    }
    ctx.remember(&elements);
    let mut diff: Vec<Node> = node
        .get("differential")
        .and_then(|d| d.get("element"))
        .map(|e| e.items().to_vec())
        .unwrap_or_default();
    super::ids::assign_ids(&mut diff);
    for d in &diff {
        let id = d
            .get("id")
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_string();
        let applied = find_or_create(ctx, &mut elements, &id)
            .and_then(|at| check_and_merge(ctx, &mut elements[at], d));
        match applied {
            Ok(()) => {}
            Err((_, message)) if ctx.lenient => ctx.note(&id, &message),
            Err((problem, message)) => return Err(ctx.error(d, &id, problem, message)),
        }
    }

    if ctx.release == FhirRelease::Stu3 {
        super::stu3::expand_datatypes(ctx, &mut elements);
        super::stu3::add_type_invariants(ctx, &mut elements);
    }
    let mut out = node.clone();
    let mut snapshot_node = Node::new(Kind::Object(Vec::new()), node.pos);
    set_member(
        &mut snapshot_node,
        "element",
        Node::new(Kind::Array(Vec::new()), node.pos),
    );
    set_member(&mut out, "snapshot", snapshot_node);
    Ok(Snapshot {
        url: ctx.url.clone(),
        type_name: text("type").unwrap_or_default().to_string(),
        elements: elements
            .into_iter()
            .map(ElementDefinition::from_owned)
            .collect(),
        generated: true,
        problems: ctx.problems.take(),
        definition: Arc::new(out),
        deferred: Arc::new([]),
    })
}

impl Ctx<'_> {
    /// A differential element left out (lenient generation).
    pub(crate) fn note(&self, element: &str, message: &str) {
        self.problems
            .borrow_mut()
            .push(format!("element {element}: {message}"));
    }

    fn remember(&self, elements: &[Node]) {
        let mut pristine = self.pristine.borrow_mut();
        for e in elements {
            pristine
                .entry(id_of(e).to_string())
                .or_insert_with(|| e.clone());
        }
    }

    fn error(
        &self,
        at: &Node,
        element: &str,
        problem: SnapshotProblem,
        message: String,
    ) -> SnapshotError {
        SnapshotError::Differential(Box::new(DifferentialError {
            url: self.url.clone(),
            package: self.origin.0.clone(),
            file: self.origin.1.clone(),
            line: at.pos.line,
            col: at.pos.col,
            element: element.to_string(),
            problem,
            message,
        }))
    }
}

pub(crate) fn id_of(e: &Node) -> &str {
    e.get("id").and_then(Node::as_str).unwrap_or_default()
}

pub(crate) fn path_of(e: &Node) -> &str {
    e.get("path").and_then(Node::as_str).unwrap_or_default()
}

fn parent_path(path: &str) -> &str {
    path.rsplit_once('.').map_or(path, |(p, _)| p)
}

fn find(elements: &[Node], id: &str) -> Option<usize> {
    elements.iter().position(|e| id_of(e) == id)
}

/// Splits an element id into `(name, slice)` segments. Slice names may hold dots
/// only in theory; the FHIR tooling never writes them.
fn segments(id: &str) -> Vec<(&str, Option<&str>)> {
    id.split('.')
        .map(|seg| match seg.split_once(':') {
            Some((name, slice)) => (name, Some(slice)),
            None => (seg, None),
        })
        .collect()
}

fn join(segs: &[(&str, Option<&str>)]) -> String {
    segs.iter()
        .map(|(n, s)| match s {
            Some(s) => format!("{n}:{s}"),
            None => n.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The index of the element `id`, creating it (and its parents) from the base when
/// the differential names something the snapshot does not have yet.
fn find_or_create(ctx: &Ctx<'_>, elements: &mut Vec<Node>, id: &str) -> Result<usize, Problem> {
    if let Some(i) = find(elements, id) {
        return Ok(i);
    }
    let segs = segments(id);
    let Some((&(name, slice), parent_segs)) = segs.split_last() else {
        return Err((SnapshotProblem::UnknownPath, "empty element id".into()));
    };
    if parent_segs.is_empty() {
        let root = elements.first().map(id_of).unwrap_or_default();
        return Err((
            SnapshotProblem::UnknownPath,
            format!("the root {name} does not match the base's root {root}"),
        ));
    }
    let parent = find_or_create(ctx, elements, &join(parent_segs))?;
    let parent_id = id_of(&elements[parent]).to_string();
    if !elements
        .iter()
        .any(|e| id_of(e).starts_with(&format!("{parent_id}.")))
    {
        unfold(ctx, elements, parent)?;
    }
    // The unfolded type (or profile) may hold the element under this very id.
    let direct = match slice {
        Some(slice) => format!("{parent_id}.{name}:{slice}"),
        None => format!("{parent_id}.{name}"),
    };
    if let Some(i) = find(elements, &direct) {
        return Ok(i);
    }
    if let Some(slice) = slice {
        let unsliced = match slice.rsplit_once('/') {
            Some((outer, _)) => format!("{parent_id}.{name}:{outer}"),
            None => format!("{parent_id}.{name}"),
        };
        if ctx.release == FhirRelease::Stu3 && name.ends_with("[x]") {
            if let Some(i) = find(elements, &format!("{parent_id}.{name}:{slice}")) {
                return Ok(i);
            }
            if let Some(i) = renamed_choice(ctx, elements, &parent_id, slice) {
                return Ok(i);
            }
        }
        let u = find_or_create(ctx, elements, &unsliced)?;
        // `valuePeriod:valuePeriod` (STU3 ids): the slice is the renamed choice itself.
        let u_last = id_of(&elements[u]).rsplit('.').next().unwrap_or_default();
        if u_last.split(':').any(|part| part == slice) {
            return Ok(u);
        }
        let slice_id = format!("{parent_id}.{name}:{slice}");
        if let Some(i) = find(elements, &slice_id) {
            return Ok(i);
        }
        return Ok(create_slice(ctx, elements, u, &slice_id, slice));
    }
    if let Some(base) = name.strip_suffix("[x]") {
        // STU3 snapshots may hold a single-typed choice under its renamed path.
        let renamed = elements.iter().position(|e| {
            id_of(e)
                .strip_prefix(&format!("{parent_id}.{base}"))
                .is_some_and(|rest| {
                    rest.starts_with(|c: char| c.is_ascii_uppercase()) && !rest.contains(['.', ':'])
                })
        });
        if let Some(i) = renamed {
            return Ok(i);
        }
    }
    renamed_choice(ctx, elements, &parent_id, name).ok_or_else(|| {
        (
            SnapshotProblem::UnknownPath,
            format!("{} has no element {name}", path_of(&elements[parent])),
        )
    })
}

/// `valueQuantity` under a parent with `value[x]`: the slice `value[x]:valueQuantity`,
/// typed `Quantity`, with the choice sliced by type.
fn renamed_choice(
    ctx: &Ctx<'_>,
    elements: &mut Vec<Node>,
    parent_id: &str,
    name: &str,
) -> Option<usize> {
    let prefix = format!("{parent_id}.");
    let done = format!("[x]:{name}");
    let existing = elements.iter().position(|e| {
        let id = id_of(e);
        id.strip_prefix(&prefix)
            .is_some_and(|rest| rest.ends_with(&done) && !rest.contains('.'))
    });
    if existing.is_some() {
        return existing;
    }
    let (choice, type_code) = elements.iter().enumerate().find_map(|(i, e)| {
        let rest = id_of(e).strip_prefix(&prefix)?;
        let base = rest.strip_suffix("[x]")?;
        let suffix = name.strip_prefix(base)?;
        let code = ElementDefinition::from_node(e)
            .types
            .into_iter()
            .map(|t| t.code)
            .find(|c| crate::xml::upper_first(c) == suffix)?;
        Some((i, code))
    })?;
    let choice_id = id_of(&elements[choice]).to_string();
    let stu3 = ctx.release == FhirRelease::Stu3;
    // STU3 tooling renames the choice itself: `value[x]:valueQuantity`, path
    // `...valueQuantity`, typed Quantity.
    if stu3 && elements[choice].get("sliceName").is_none() {
        let pos = elements[choice].pos;
        let path = format!("{}.{name}", parent_path(path_of(&elements[choice])));
        let e = &mut elements[choice];
        set_member(e, "id", string_node(&format!("{choice_id}:{name}"), e));
        set_member(e, "path", string_node(&path, e));
        set_member(e, "sliceName", string_node(name, e));
        let mut t = Node::new(Kind::Object(Vec::new()), pos);
        set_member(
            &mut t,
            "code",
            Node::new(Kind::String(type_code.as_str().into()), pos),
        );
        set_member(e, "type", Node::new(Kind::Array(vec![t]), pos));
        return Some(choice);
    }
    // Inside a slice the tooling narrows the choice itself instead of slicing it.
    if parent_id.contains(':') {
        let pos = elements[choice].pos;
        let mut t = Node::new(Kind::Object(Vec::new()), pos);
        set_member(
            &mut t,
            "code",
            Node::new(Kind::String(type_code.as_str().into()), pos),
        );
        set_member(
            &mut elements[choice],
            "type",
            Node::new(Kind::Array(vec![t]), pos),
        );
        return Some(choice);
    }
    let slice_id = format!("{choice_id}:{name}");
    if let Some(i) = find(elements, &slice_id) {
        return Some(i);
    }
    let at = create_slice(ctx, elements, choice, &slice_id, name);
    let type_list = |pos| {
        let mut t = Node::new(Kind::Object(Vec::new()), pos);
        set_member(
            &mut t,
            "code",
            Node::new(Kind::String(type_code.as_str().into()), pos),
        );
        t
    };
    let pos = elements[at].pos;
    set_member(
        &mut elements[at],
        "type",
        Node::new(Kind::Array(vec![type_list(pos)]), pos),
    );
    let choice_node = &mut elements[choice];
    if choice_node.get("slicing").is_none() {
        let mut discriminator = Node::new(Kind::Object(Vec::new()), pos);
        set_member(&mut discriminator, "type", string_node("type", choice_node));
        set_member(
            &mut discriminator,
            "path",
            string_node("$this", choice_node),
        );
        let mut slicing = Node::new(Kind::Object(Vec::new()), pos);
        set_member(
            &mut slicing,
            "discriminator",
            Node::new(Kind::Array(vec![discriminator]), pos),
        );
        set_member(&mut slicing, "ordered", Node::new(Kind::Bool(false), pos));
        set_member(&mut slicing, "rules", string_node("closed", choice_node));
        set_member(choice_node, "slicing", slicing);
        set_member(
            choice_node,
            "type",
            Node::new(Kind::Array(vec![type_list(pos)]), pos),
        );
    } else if let Some(Kind::Array(types)) = choice_node.get("type").map(|t| t.kind.clone()) {
        // Later renamed slices add their type back to the (closed) choice.
        let has = types
            .iter()
            .any(|t| t.get("code").and_then(Node::as_str) == Some(&type_code));
        if !has {
            let mut types = types;
            types.push(type_list(pos));
            set_member(choice_node, "type", Node::new(Kind::Array(types), pos));
        }
    }
    Some(at)
}

/// Copies the element `u` and its children as the slice `slice_id`, placed after the
/// last existing slice of `u`.
fn create_slice(
    ctx: &Ctx<'_>,
    elements: &mut Vec<Node>,
    u: usize,
    slice_id: &str,
    slice_name: &str,
) -> usize {
    let pristine = ctx.pristine.borrow();
    let u_id = id_of(&elements[u]).to_string();
    let child_prefix = format!("{u_id}.");
    let slice_prefix = format!("{u_id}:");
    let mut end = u + 1;
    while end < elements.len() {
        let id = id_of(&elements[end]);
        if id.starts_with(&child_prefix) || id.starts_with(&slice_prefix) {
            end += 1;
        } else {
            break;
        }
    }
    let mut copies = Vec::new();
    for (i, e) in elements.iter().enumerate().take(end).skip(u) {
        let id = id_of(e);
        let rest = if i == u {
            ""
        } else if let Some(rest) = id.strip_prefix(&u_id).filter(|r| r.starts_with('.')) {
            rest
        } else {
            continue;
        };
        let mut copy = pristine.get(id).cloned().unwrap_or_else(|| e.clone());
        set_member(
            &mut copy,
            "id",
            string_node(&format!("{slice_id}{rest}"), e),
        );
        if i == u {
            set_member(&mut copy, "sliceName", string_node(slice_name, e));
            remove_member(&mut copy, "slicing");
        }
        copies.push(copy);
    }
    elements.splice(end..end, copies);
    end
}

/// Adds the children of the element at `at` from its type (or type profile, or the
/// element its `contentReference` names), so the differential can constrain them.
pub(crate) fn unfold(ctx: &Ctx<'_>, elements: &mut Vec<Node>, at: usize) -> Result<(), Problem> {
    let e = ElementDefinition::from_node(&elements[at]);
    let children: Vec<Node> = if let Some(reference) = &e.content_reference {
        let target = reference.rsplit('#').next().unwrap_or(reference);
        let prefix = format!("{target}.");
        // The content as the base defines it: what this profile constrains at the
        // target (a minimum, slices) is about the target, not every recursion of it.
        let pristine = ctx.pristine.borrow();
        let from_base = elements
            .iter()
            .any(|c| id_of(c).starts_with(&prefix) && pristine.contains_key(id_of(c)));
        let found: Vec<Node> = elements
            .iter()
            .filter(|c| id_of(c).starts_with(&prefix))
            .filter_map(|c| match pristine.get(id_of(c)) {
                Some(base) => Some(base),
                None if from_base => None,
                None => Some(c),
            })
            .map(|c| rebase(c, target, &e.path, target, &e.id))
            .collect();
        drop(pristine);
        if found.is_empty() {
            return Err((
                SnapshotProblem::UnknownPath,
                format!("contentReference {reference} names nothing"),
            ));
        }
        found
    } else {
        let codes: Vec<&str> = e.types.iter().map(|t| t.code.as_str()).collect();
        let Some(first) = e.types.first() else {
            return Err((
                SnapshotProblem::UnknownPath,
                format!("{} has no type to look into", e.path),
            ));
        };
        if codes.iter().any(|c| *c != first.code) {
            return Err((
                SnapshotProblem::UnknownPath,
                format!(
                    "{} has several types ({}); name one (e.g. {}) to constrain its children",
                    e.path,
                    codes.join(", "),
                    first.code
                ),
            ));
        }
        let release = ctx.release;
        let profile = match first.profiles.as_slice() {
            [one] => ctx.set.resolve_in(one, release),
            _ => None,
        };
        let source = match profile {
            Some(p) => p,
            None => ctx
                .set
                .type_definition(&first.code, release)
                .ok_or_else(|| {
                    (
                        SnapshotProblem::MissingBase,
                        format!("the type {} is not defined in a loaded package", first.code),
                    )
                })?,
        };
        let snapshot = ctx
            .set
            .snapshot_of(source)
            .map_err(|err| (SnapshotProblem::MissingBase, err.to_string()))?;
        let Some(root) = snapshot.elements.first() else {
            return Ok(());
        };
        snapshot.elements[1..]
            .iter()
            .map(|c| rebase(&c.node, &root.path, &e.path, &root.id, &e.id))
            .collect()
    };
    ctx.remember(&children);
    elements.splice(at + 1..at + 1, children);
    Ok(())
}

/// A copy of `node` moved from under `from_path`/`from_id` to under `to_path`/`to_id`.
fn rebase(node: &Node, from_path: &str, to_path: &str, from_id: &str, to_id: &str) -> Node {
    let mut copy = node.clone();
    let path = path_of(node);
    let id = id_of(node);
    let new_path = format!("{to_path}{}", path.strip_prefix(from_path).unwrap_or(path));
    let new_id = format!("{to_id}{}", id.strip_prefix(from_id).unwrap_or(id));
    set_member(&mut copy, "path", string_node(&new_path, node));
    set_member(&mut copy, "id", string_node(&new_id, node));
    copy
}
