//! Element ids for differentials and snapshots that lack them (STU3-era files):
//! derived from the path and the slices in effect.

use super::generate::path_of;
use super::set_member;
use crate::model::{Kind, Node};

/// Gives ids to elements that lack one (STU3-era differentials), from the path and
/// the slices in effect: children of a slice follow it.
pub(crate) fn assign_ids(elements: &mut [Node]) {
    let mut active: Vec<(String, String)> = Vec::new();
    for e in elements.iter_mut() {
        let path = path_of(e).to_string();
        let slice = e
            .get("sliceName")
            .and_then(Node::as_str)
            .map(str::to_string);
        // Some STU3 ids leave out the root (`nhsNumber`), and some ids name another
        // element than the path does (`a.b[x]:s` for the path `a.b[x].extension`):
        // the path is the element, so those are rebuilt from it.
        let root = path.split('.').next().unwrap_or_default();
        let depth = path.matches('.').count();
        let usable = e
            .get("id")
            .and_then(Node::as_str)
            .filter(|id| id.split(['.', ':']).next() == Some(root))
            .filter(|id| id.matches('.').count() == depth);
        let id = match usable {
            Some(id) => id.to_string(),
            None => {
                let (parent, last) = match path.rsplit_once('.') {
                    Some((p, l)) => (Some(p), l),
                    None => (None, path.as_str()),
                };
                let parent_id = parent.map(|p| {
                    active
                        .iter()
                        .filter(|(ap, _)| p == ap || p.starts_with(&format!("{ap}.")))
                        .max_by_key(|(ap, _)| ap.len())
                        .map(|(ap, aid)| format!("{aid}{}", &p[ap.len()..]))
                        .unwrap_or_else(|| p.to_string())
                });
                let mut id = match parent_id {
                    Some(p) => format!("{p}.{last}"),
                    None => last.to_string(),
                };
                if let Some(s) = &slice {
                    id = format!("{id}:{s}");
                }
                let pos = e.pos;
                set_member(e, "id", Node::new(Kind::String(id.as_str().into()), pos));
                id
            }
        };
        // Slices of this path (and everything under it) from before are over.
        active.retain(|(ap, _)| !(ap == &path || ap.starts_with(&format!("{path}."))));
        if slice.is_some() {
            active.push((path, id));
        }
    }
}
