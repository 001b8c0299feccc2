//! FHIR package registries (the npm protocol): find a package version, download its
//! tarball, check it and install it into the local package cache, dependencies too.
//!
//! `GET {registry}/{id}` answers `{"dist-tags": {"latest": "1.0.0"}, "versions":
//! {"1.0.0": {"dist": {"tarball": "...", "shasum": "...", "integrity": "sha512-..."}}}}`.
//! With `offline`, nothing here touches the network: only the cache is consulted.

use std::collections::HashSet;
use std::path::PathBuf;

use assure_fhir::package::{
    canonical_id, version_matches, Checksum, Manifest, PackageCache, PackageError,
};

/// Why a package could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("reach {url}: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("fetch {url}: the registry answered {status}")]
    Status { url: String, status: u16 },
    #[error("read the registry's answer from {url}: {message}")]
    Metadata { url: String, message: String },
    #[error("find {id}#{wanted} in {registry}: available versions are {}", available.join(", "))]
    NoSuchVersion {
        id: String,
        wanted: String,
        registry: String,
        available: Vec<String>,
    },
    #[error("find {id}#{wanted}: not in the package cache at {cache}, and --offline forbids downloading it")]
    Offline {
        id: String,
        wanted: String,
        cache: PathBuf,
    },
    #[error("find {id}#{wanted}: no registry has it ({})", tried.join("; "))]
    NotFound {
        id: String,
        wanted: String,
        tried: Vec<String>,
    },
    #[error(transparent)]
    Package(#[from] PackageError),
}

/// The most a registry's version list may be; the largest real ones are a few MiB.
const METADATA_CAP: u64 = 64 << 20;

/// One published version of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub version: String,
    pub tarball: String,
    pub checksum: Option<Checksum>,
}

/// An npm-compatible FHIR package registry.
#[derive(Debug, Clone)]
pub struct Registry {
    base: String,
    client: reqwest::Client,
}

impl Registry {
    pub fn new(base: impl Into<String>, client: reqwest::Client) -> Self {
        Registry {
            base: base.into().trim_end_matches('/').to_string(),
            client,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The body of a successful GET, refused past `cap` bytes without holding more.
    async fn get(&self, url: &str, cap: u64) -> Result<Vec<u8>, RegistryError> {
        let http = |source| RegistryError::Http {
            url: url.to_string(),
            source,
        };
        let mut response = self.client.get(url).send().await.map_err(http)?;
        if !response.status().is_success() {
            return Err(RegistryError::Status {
                url: url.to_string(),
                status: response.status().as_u16(),
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(http)? {
            if (body.len() + chunk.len()) as u64 > cap {
                return Err(RegistryError::Metadata {
                    url: url.to_string(),
                    message: format!(
                        "the answer is larger than {} MiB (the package size limit)",
                        cap >> 20
                    ),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// The version of `id` that best matches `wanted` (exact, `x` wildcard, `latest`).
    pub async fn find(&self, id: &str, wanted: &str) -> Result<Release, RegistryError> {
        let url = format!("{}/{id}", self.base);
        let body = self.get(&url, METADATA_CAP).await?;
        let meta: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| RegistryError::Metadata {
                url: url.clone(),
                message: e.to_string(),
            })?;
        let versions = meta
            .get("versions")
            .and_then(|v| v.as_object())
            .ok_or_else(|| RegistryError::Metadata {
                url: url.clone(),
                message: "no `versions` object".into(),
            })?;
        let latest = meta.pointer("/dist-tags/latest").and_then(|v| v.as_str());
        let chosen = match wanted {
            "latest" | "current" => latest.map(str::to_string),
            _ if versions.contains_key(wanted) => Some(wanted.to_string()),
            _ => versions
                .keys()
                .filter(|v| version_matches(wanted, v))
                .max_by_key(|v| {
                    v.split('.')
                        .map(|p| p.parse::<u64>().unwrap_or(0))
                        .collect::<Vec<_>>()
                })
                .cloned(),
        };
        let Some(version) = chosen else {
            return Err(RegistryError::NoSuchVersion {
                id: id.to_string(),
                wanted: wanted.to_string(),
                registry: self.base.clone(),
                available: versions.keys().cloned().collect(),
            });
        };
        let dist = versions.get(&version).and_then(|v| v.get("dist"));
        let tarball = dist
            .and_then(|d| d.get("tarball"))
            .and_then(|t| t.as_str())
            .ok_or_else(|| RegistryError::Metadata {
                url: url.clone(),
                message: format!("version {version} has no dist.tarball"),
            })?;
        let text = |key: &str| {
            dist.and_then(|d| d.get(key))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let checksum = text("integrity")
            .map(Checksum::Integrity)
            .or_else(|| text("shasum").map(Checksum::Sha1Hex));
        Ok(Release {
            version,
            tarball: tarball.to_string(),
            checksum,
        })
    }

    /// Downloads `id#wanted` and installs it into `cache` (checksum verified).
    pub async fn install(
        &self,
        cache: &PackageCache,
        id: &str,
        wanted: &str,
    ) -> Result<PathBuf, RegistryError> {
        let release = self.find(id, wanted).await?;
        let bytes = self
            .get(&release.tarball, cache.limits().max_unpacked_bytes)
            .await?;
        let name = format!("{id}#{}", release.version);
        Ok(cache.install_tgz(&bytes, &name, release.checksum.as_ref())?)
    }
}

/// Makes sure `id#wanted` and its dependencies are in the cache, downloading what is
/// missing from the first registry that has it (never with `offline`). Returns the
/// cache folders, the package's own first.
pub async fn ensure_installed(
    registries: &[Registry],
    cache: &PackageCache,
    id: &str,
    wanted: &str,
    offline: bool,
) -> Result<Vec<PathBuf>, RegistryError> {
    let mut queue = vec![(id.to_string(), wanted.to_string())];
    let mut seen = HashSet::new();
    let mut folders = Vec::new();
    while let Some((id, wanted)) = queue.pop() {
        let key = canonical_id(&id, &wanted);
        if !seen.insert(key.clone()) {
            continue;
        }
        let folder = match cache.find(&key, &wanted) {
            Some(folder) => folder,
            None if offline => {
                return Err(RegistryError::Offline {
                    id,
                    wanted,
                    cache: cache.root().to_path_buf(),
                })
            }
            None => fetch(registries, cache, &id, &wanted).await?,
        };
        let manifest_path = folder.join("package").join("package.json");
        if let Ok(bytes) = std::fs::read(&manifest_path) {
            let manifest =
                Manifest::parse(&bytes, &format!("{id}#{wanted}"), "package/package.json")?;
            for (dep, version) in manifest.dependencies {
                queue.push((dep, version));
            }
        }
        folders.push(folder);
    }
    Ok(folders)
}

async fn fetch(
    registries: &[Registry],
    cache: &PackageCache,
    id: &str,
    wanted: &str,
) -> Result<PathBuf, RegistryError> {
    let mut tried = Vec::new();
    for registry in registries {
        match registry.install(cache, id, wanted).await {
            Ok(folder) => return Ok(folder),
            // A registry that does not know the package: try the next one.
            Err(RegistryError::Status { status: 404, url }) => tried.push(format!("{url}: 404")),
            Err(RegistryError::NoSuchVersion {
                registry,
                available,
                ..
            }) => tried.push(format!("{registry}: has {}", available.join(", "))),
            Err(other) => return Err(other),
        }
    }
    Err(RegistryError::NotFound {
        id: id.to_string(),
        wanted: wanted.to_string(),
        tried,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn package(name: &str, version: &str, deps: &str) -> Vec<u8> {
        let manifest =
            format!(r#"{{"name":"{name}","version":"{version}","dependencies":{{{deps}}}}}"#);
        assure_fhir::package::pack_tgz(&[("package/package.json", manifest.as_bytes())]).unwrap()
    }

    async fn serve(server: &MockServer, id: &str, version: &str, bytes: &[u8], integrity: &str) {
        let tarball = format!("{}/{id}/-/{id}-{version}.tgz", server.uri());
        let meta = serde_json::json!({
            "dist-tags": {"latest": version},
            "versions": {version: {"dist": {"tarball": tarball, "integrity": integrity}}}
        });
        Mock::given(method("GET"))
            .and(path(format!("/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(meta))
            .mount(server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/{id}/-/{id}-{version}.tgz")))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(bytes.to_vec()))
            .mount(server)
            .await;
    }

    fn integrity(bytes: &[u8]) -> String {
        use base64::Engine;
        format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(bytes))
        )
    }

    #[tokio::test]
    async fn installs_a_package_and_its_dependencies() {
        let server = MockServer::start().await;
        let a = package("a.pkg", "1.0.0", r#""b.pkg":"2.0.x""#);
        let b = package("b.pkg", "2.0.3", "");
        serve(&server, "a.pkg", "1.0.0", &a, &integrity(&a)).await;
        serve(&server, "b.pkg", "2.0.3", &b, &integrity(&b)).await;
        let dir = tempfile::tempdir().unwrap();
        let cache = PackageCache::new(dir.path());
        let registries = [Registry::new(server.uri(), reqwest::Client::new())];
        let folders = ensure_installed(&registries, &cache, "a.pkg", "1.0.0", false)
            .await
            .unwrap();
        assert_eq!(folders.len(), 2);
        assert!(dir
            .path()
            .join("b.pkg#2.0.3/package/package.json")
            .is_file());
        // Offline, the cache alone answers, and the network is not touched.
        let before = server.received_requests().await.unwrap_or_default().len();
        let again = ensure_installed(&registries, &cache, "a.pkg", "1.0.0", true)
            .await
            .unwrap();
        assert_eq!(again.len(), 2);
        assert_eq!(
            server.received_requests().await.unwrap_or_default().len(),
            before
        );
    }

    #[tokio::test]
    async fn offline_bad_checksum_and_unknown_versions_are_errors() {
        let server = MockServer::start().await;
        let a = package("a.pkg", "1.0.0", "");
        serve(&server, "a.pkg", "1.0.0", &a, "sha512-AAAA").await;
        let dir = tempfile::tempdir().unwrap();
        let cache = PackageCache::new(dir.path());
        let registries = [Registry::new(server.uri(), reqwest::Client::new())];
        let err = ensure_installed(&registries, &cache, "a.pkg", "1.0.0", true)
            .await
            .unwrap_err();
        assert!(matches!(err, RegistryError::Offline { .. }), "{err}");
        assert!(server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty());
        let err = ensure_installed(&registries, &cache, "a.pkg", "1.0.0", false)
            .await
            .unwrap_err();
        assert!(
            matches!(err, RegistryError::Package(PackageError::Integrity { .. })),
            "{err}"
        );
        assert_eq!(
            std::fs::read_dir(dir.path())
                .map(|d| d.count())
                .unwrap_or(0),
            0
        );
        let err = registries[0].find("a.pkg", "9.9.9").await.unwrap_err();
        assert!(err.to_string().contains("1.0.0"), "{err}");
        let err = ensure_installed(&registries, &cache, "zzz.pkg", "1.0.0", false)
            .await
            .unwrap_err();
        assert!(matches!(err, RegistryError::NotFound { .. }), "{err}");
    }
}
