//! Snapshots of StructureDefinitions: the shipped one where a package has it, else
//! generated from the differential over the base definition's snapshot.

mod element;
mod generate;
mod ids;
mod merge;
mod stu3;

pub use element::{Binding, Constraint, Discriminator, ElementDefinition, Max, Slicing, TypeRef};
pub(crate) use generate::{generate_detached, generate_lenient};

use std::sync::Arc;

use crate::model::{Kind, Node};
use crate::package::{PackageError, PackageSet, ResourceRef};

/// A StructureDefinition with its full element list, typed and as a tree.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub url: String,
    pub type_name: String,
    pub elements: Vec<ElementDefinition>,
    /// Whether this was generated here (false: shipped by the package).
    pub generated: bool,
    /// Differential elements left out because they could not be applied (only when
    /// generated leniently, for validating against a flawed profile).
    pub problems: Vec<String>,
    /// The StructureDefinition with `snapshot.element` left empty: the elements are
    /// in `elements`, held once (see [`Snapshot::structure_definition`]).
    pub(crate) definition: Arc<Node>,
    /// Members of the definition left encoded (its differential, when it was read
    /// from a package index), put back by [`Snapshot::structure_definition`].
    pub(crate) deferred: Arc<[crate::package::trees::Deferred]>,
}

impl Snapshot {
    /// The StructureDefinition's own members (`url`, `kind`, `context`, ...), without
    /// its snapshot elements (and, read from a package index, without its
    /// differential).
    pub fn definition(&self) -> &Node {
        &self.definition
    }

    /// The whole StructureDefinition, `snapshot.element` filled in from `elements`.
    pub fn structure_definition(&self) -> Node {
        let mut out = (*self.definition).clone();
        crate::package::trees::Deferred::restore(&mut out, &self.deferred);
        let elements = || self.elements.iter().map(|e| e.node.clone()).collect();
        // The emptied list is filled in place, where it stood in the source.
        match element_list(&mut out) {
            Some(list) => *list = elements(),
            None => {
                let list = Node::new(Kind::Array(elements()), out.pos);
                let mut snapshot = Node::new(Kind::Object(Vec::new()), out.pos);
                set_member(&mut snapshot, "element", list);
                set_member(&mut out, "snapshot", snapshot);
            }
        }
        out
    }

    /// The element with this id (`Patient.identifier:nhsNumber.system`).
    pub fn element(&self, id: &str) -> Option<&ElementDefinition> {
        self.elements.iter().find(|e| e.id == id)
    }
}

/// What kind of problem stopped snapshot generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotProblem {
    UnknownPath,
    CardinalityWidened,
    TypeNotInBase,
    MissingBase,
    Invalid,
}

/// A differential element that cannot be applied: names the profile, its package
/// and file, and where the element is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "generate the snapshot of {url} ({package} {file}:{line}:{col}): element {element}: {message}"
)]
pub struct DifferentialError {
    pub url: String,
    pub package: String,
    pub file: String,
    pub line: u32,
    pub col: u32,
    pub element: String,
    pub problem: SnapshotProblem,
    pub message: String,
}

/// Why a snapshot could not be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Differential(Box<DifferentialError>),
    #[error(transparent)]
    Package(#[from] PackageError),
}

impl SnapshotError {
    pub fn problem(&self) -> Option<&SnapshotProblem> {
        match self {
            SnapshotError::Differential(d) => Some(&d.problem),
            SnapshotError::Package(_) => None,
        }
    }
}

impl PackageSet {
    /// The snapshot of a StructureDefinition (by canonical or type name): shipped if
    /// the package has one, else generated. Cached.
    pub fn snapshot(&self, canonical: &str) -> Result<Arc<Snapshot>, SnapshotError> {
        let sd = self.require_sd(canonical)?;
        self.snapshot_of(sd)
    }

    /// Generates the snapshot from the differential even when one is shipped, for
    /// comparison (bases use their shipped snapshots). Not cached.
    pub fn generate_snapshot(&self, canonical: &str) -> Result<Snapshot, SnapshotError> {
        let sd = self.require_sd(canonical)?;
        generate::generate(self, sd)
    }

    fn require_sd(&self, canonical: &str) -> Result<ResourceRef<'_>, SnapshotError> {
        match self.structure_definition(canonical) {
            Some(sd) => Ok(sd),
            None => Err(self
                .require(canonical)
                .err()
                .unwrap_or(PackageError::UnknownCanonical {
                    canonical: canonical.to_string(),
                    suggestion: None,
                }))?,
        }
    }

    pub(crate) fn snapshot_of(&self, sd: ResourceRef<'_>) -> Result<Arc<Snapshot>, SnapshotError> {
        if let Some(hit) = self
            .snapshot_cache
            .lock()
            .ok()
            .and_then(|c| c.get(&sd.index()).cloned())
        {
            return Ok(hit);
        }
        let (mut node, deferred) = self.owned_definition(sd.index())?;
        let shipped = node
            .get("snapshot")
            .and_then(|s| s.get("element"))
            .is_some_and(|e| !e.items().is_empty());
        // Without a shipped snapshot only the top level was decoded here (the
        // differential stays encoded); generation reads the whole definition.
        let snapshot = if !shipped {
            generate::generate(self, sd)?
        } else {
            // Moved, not copied: the elements are held once, by the snapshot.
            let mut elements = take_elements(&mut node);
            ids::assign_ids(&mut elements);
            Snapshot {
                url: sd.url().unwrap_or_default().to_string(),
                type_name: sd.sd_type().unwrap_or_default().to_string(),
                elements: elements
                    .into_iter()
                    .map(ElementDefinition::from_owned)
                    .collect(),
                generated: false,
                problems: Vec::new(),
                definition: Arc::new(node),
                deferred: deferred.into(),
            }
        };
        let snapshot = Arc::new(snapshot);
        if let Ok(mut cache) = self.snapshot_cache.lock() {
            cache.insert(sd.index(), snapshot.clone());
        }
        Ok(snapshot)
    }
}

/// `snapshot.element`'s items, taken out of the definition (left empty).
fn take_elements(sd: &mut Node) -> Vec<Node> {
    element_list(sd).map(std::mem::take).unwrap_or_default()
}

/// The items of `snapshot.element`, when it is a list.
fn element_list(sd: &mut Node) -> Option<&mut Vec<Node>> {
    let Kind::Object(members) = &mut sd.kind else {
        return None;
    };
    let (_, snapshot) = members.iter_mut().find(|(k, _)| &**k == "snapshot")?;
    let Kind::Object(members) = &mut snapshot.kind else {
        return None;
    };
    match members.iter_mut().find(|(k, _)| &**k == "element") {
        Some((
            _,
            Node {
                kind: Kind::Array(items),
                ..
            },
        )) => Some(items),
        _ => None,
    }
}

/// Replaces or adds the member `key` of an object node.
pub(crate) fn set_member(node: &mut Node, key: &str, value: Node) {
    if let Kind::Object(members) = &mut node.kind {
        match members.iter_mut().find(|(k, _)| &**k == key) {
            Some(slot) => slot.1 = value,
            None => members.push((key.into(), value)),
        }
    }
}

pub(crate) fn remove_member(node: &mut Node, key: &str) {
    if let Kind::Object(members) = &mut node.kind {
        members.retain(|(k, _)| &**k != key);
    }
}

pub(crate) fn string_node(text: &str, like: &Node) -> Node {
    Node::new(Kind::String(text.into()), like.pos)
}
