//! The catalogue of test data (`catalogue.toml`): each item's place in the layout of
//! `../shared`, its recorded sha256, where it came from and where a copy may be fetched.

use serde::Deserialize;

/// The catalogue this crate was built with.
pub const CATALOGUE: &str = include_str!("../catalogue.toml");

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// `/`-separated, relative to the test-data root.
    pub path: String,
    /// A folder, checked by the digest of its listing, fetched as tar.gz.
    #[serde(default)]
    pub tree: bool,
    pub sha256: String,
    /// Where the data came from, for people.
    pub origin: String,
    /// Public copies that may hold these very bytes, tried in order.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Read by the test command (otherwise only by scripts).
    #[serde(default = "yes")]
    pub test: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    #[serde(rename = "item")]
    pub items: Vec<Item>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("the test-data catalogue does not parse: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("test-data catalogue item `{path}`: {why}")]
    Item { path: String, why: String },
}

impl Catalogue {
    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        let catalogue: Catalogue = toml::from_str(text)?;
        for item in &catalogue.items {
            let bad = |why: &str| CatalogueError::Item {
                path: item.path.clone(),
                why: why.into(),
            };
            let parts_ok = item
                .path
                .split('/')
                .all(|p| !p.is_empty() && p != "." && p != "..");
            if !parts_ok {
                return Err(bad("the path must be relative, without `.` or `..`"));
            }
            if item.sha256.len() != 64 || !item.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad("sha256 must be 64 hex digits"));
            }
            let nested = catalogue.items.iter().any(|other| {
                other.path != item.path && other.path.starts_with(&format!("{}/", item.path))
            });
            if nested {
                return Err(bad("another item lies inside it"));
            }
        }
        Ok(catalogue)
    }

    /// The catalogue built into this crate.
    pub fn builtin() -> Catalogue {
        Catalogue::parse(CATALOGUE).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The item that holds `rel` (the item itself, or a file inside a folder item).
    pub fn item_for(&self, rel: &str) -> Option<&Item> {
        self.items.iter().find(|item| {
            rel == item.path || (item.tree && rel.starts_with(&format!("{}/", item.path)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_parses_and_finds_items_and_files_inside_folders() {
        let c = Catalogue::builtin();
        let core = c
            .item_for("fhir-packages/hl7.fhir.r4.core-4.0.1.tgz")
            .unwrap();
        assert!(!core.tree);
        let inside = c
            .item_for("corpora/fhirpath/input/patient-example.xml")
            .unwrap();
        assert_eq!(inside.path, "corpora/fhirpath");
        assert!(c.item_for("corpora/fhirpath-other").is_none());
        assert!(c
            .item_for("fhir-packages/hl7.fhir.r4.core-4.0.1.tgz/x")
            .is_none());
    }

    #[test]
    fn a_bad_catalogue_is_refused_with_the_item_named() {
        let item = |path: &str, sha: &str| {
            format!("[[item]]\npath = \"{path}\"\nsha256 = \"{sha}\"\norigin = \"o\"\n")
        };
        let good = "a".repeat(64);
        assert!(Catalogue::parse(&item("a/b", &good)).is_ok());
        let err = Catalogue::parse(&item("../b", &good)).unwrap_err();
        assert!(err.to_string().contains("`../b`"), "{err}");
        let err = Catalogue::parse(&item("a", "abc")).unwrap_err();
        assert!(err.to_string().contains("64 hex"), "{err}");
        let both = format!("{}{}", item("a", &good), item("a/b", &good));
        assert!(Catalogue::parse(&both).is_err());
        let unknown = format!("{}colour = \"red\"\n", item("a", &good));
        assert!(Catalogue::parse(&unknown).is_err());
    }
}
