//! Typed errors for loading packages and reading their resources.

use std::path::PathBuf;
use std::sync::Arc;

/// Why a package could not be loaded or one of its resources read. Messages are
/// lowercase fragments that read after "failed to ...", and name the package, the
/// file and, where there is one, the line.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PackageError {
    #[error("read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: Arc<std::io::Error>,
    },
    #[error("unpack {source_name}: not a valid gzip tar archive ({message})")]
    CorruptArchive {
        source_name: String,
        message: String,
    },
    #[error("unpack {source_name}: refused: {reason}")]
    Refused { source_name: String, reason: String },
    #[error("read the manifest {file} of {package}: {message}")]
    Manifest {
        package: String,
        file: String,
        message: String,
    },
    #[error("find dependency {dependency}#{version} of {package}: {reason}")]
    MissingDependency {
        package: String,
        dependency: String,
        version: String,
        reason: String,
    },
    #[error("resolve {id}: {package} needs version {wanted} but {loaded} is already loaded")]
    ConflictingVersions {
        id: String,
        package: String,
        wanted: String,
        loaded: String,
    },
    #[error("understand package spec `{spec}`: expected a .tgz file, a folder or `id#version`")]
    InvalidSpec { spec: String },
    #[error("find {spec} in the package cache at {root}")]
    NotInCache { spec: String, root: PathBuf },
    #[error("check {package}: {algorithm} is {actual}, expected {expected}")]
    Integrity {
        package: String,
        algorithm: &'static str,
        expected: String,
        actual: String,
    },
    #[error("read {file} in {package} at {line}:{col}: {message}")]
    Resource {
        package: String,
        file: String,
        line: u32,
        col: u32,
        message: String,
    },
    #[error("resolve {canonical}: no loaded package defines it{}", suggestion_text(.suggestion))]
    UnknownCanonical {
        canonical: String,
        suggestion: Option<String>,
    },
    #[error(
        "read {source_name}: no FHIR resources found (no package.json, no .json or .xml resource)"
    )]
    Empty { source_name: String },
}

fn suggestion_text(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean {s}?)"),
        None => String::new(),
    }
}

impl PackageError {
    /// Whether the package itself is at fault (missing, broken, hostile or
    /// inconsistent), as opposed to the machine (a file that cannot be read or
    /// written): exit 2, not 3.
    pub fn is_bad_input(&self) -> bool {
        match self {
            PackageError::Io { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
            _ => true,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PackageError::Io {
            path: path.into(),
            source: Arc::new(source),
        }
    }
}
