//! Which terminology server to ask and how: `[terminology]` in assure.toml, `--tx URL`
//! winning over its `url`. Credentials are OAuth2 client credentials (as the NHS
//! England Terminology Server uses), the secret read from an environment variable.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::diagnostic::Diagnostic;

/// `[terminology]` as written.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminologyConfig {
    /// Base URL of a FHIR R4 terminology service.
    pub url: Option<String>,
    /// OAuth2 token endpoint; with it, `client_id` and `client_secret_env` are needed.
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    /// Environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    pub scope: Option<String>,
    /// Seconds to wait for each answer (default 15).
    pub timeout: Option<u64>,
    /// Where answers are kept between runs (default: the user's cache folder).
    pub cache_dir: Option<PathBuf>,
    /// Days an answer is reused (default 7; 0: no cache on disk).
    pub cache_days: Option<u64>,
}

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(crate::evidence::MASK)
    }
}

#[derive(Debug, Clone)]
pub struct OAuth {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub scope: Option<String>,
}

/// A terminology server, resolved and checked.
#[derive(Debug, Clone)]
pub struct TxSettings {
    /// Base URL without a trailing slash.
    pub base: String,
    pub auth: Option<OAuth>,
    pub timeout: Duration,
    /// `None`: answers are kept for this run only.
    pub cache_dir: Option<PathBuf>,
    pub cache_ttl: Duration,
}

impl TxSettings {
    /// `--tx` (`flag`) over `[terminology] url`; `None` when neither names a server.
    /// A setting that cannot work is a diagnostic naming it (exit 2).
    pub fn resolve(
        config: &TerminologyConfig,
        config_path: &Path,
        flag: Option<&str>,
    ) -> Result<Option<TxSettings>, Diagnostic> {
        let here = |message: String| Diagnostic::new(config_path, message);
        let base = match (flag, &config.url) {
            (Some(url), _) => checked_url(url).map_err(|m| Diagnostic::new("--tx", m))?,
            (None, Some(url)) => {
                checked_url(url).map_err(|m| here(format!("[terminology] url: {m}")))?
            }
            (None, None) => return Ok(None),
        };
        let auth = match &config.token_url {
            None => None,
            Some(token_url) => {
                checked_url(token_url)
                    .map_err(|m| here(format!("[terminology] token_url: {m}")))?;
                let client_id = config.client_id.clone().ok_or_else(|| {
                    here("[terminology] token_url needs client_id".into())
                        .help("add `client_id = \"...\"`")
                })?;
                let var = config.client_secret_env.clone().ok_or_else(|| {
                    here("[terminology] token_url needs client_secret_env".into())
                        .help("add `client_secret_env = \"VARIABLE\"` and export the secret in it")
                })?;
                let secret = std::env::var(&var)
                    .ok()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| {
                        here(format!(
                            "[terminology] client_secret_env names `{var}`, which is not set"
                        ))
                        .help(format!("export {var}=... before running"))
                    })?;
                // Whatever prints it (a server echoing it in an error) shows a mask.
                crate::redact::learn([secret.as_bytes()]);
                Some(OAuth {
                    token_url: token_url.clone(),
                    client_id,
                    client_secret: Secret::new(secret),
                    scope: config.scope.clone(),
                })
            }
        };
        let days = config.cache_days.unwrap_or(7);
        let cache_dir = match (&config.cache_dir, days) {
            (_, 0) => None,
            (Some(dir), _) => Some(config_path.parent().unwrap_or(Path::new("")).join(dir)),
            (None, _) => default_cache_dir(),
        };
        Ok(Some(TxSettings {
            base,
            auth,
            timeout: Duration::from_secs(config.timeout.unwrap_or(15).max(1)),
            cache_dir,
            cache_ttl: Duration::from_secs(days * 86_400),
        }))
    }
}

/// An http(s) URL without credentials, query or fragment; returned without a
/// trailing slash.
fn checked_url(text: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(text).map_err(|e| format!("`{text}` is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{text}` is not an http or https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "the URL holds credentials: give them as token_url, client_id and client_secret_env in [terminology]"
                .into(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "`{text}` has a query or fragment; give the base URL"
        ));
    }
    Ok(text.trim_end_matches('/').to_string())
}

fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
    Some(base.join("assure").join("terminology"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_secret_is_masked_wherever_it_is_printed() {
        let var = "ASSURE_TEST_TX_SECRET_7f3a";
        let secret = "tx-secret-5be1c0d29a";
        std::env::set_var(var, secret);
        let config = TerminologyConfig {
            url: Some("https://tx.example.org/fhir".into()),
            token_url: Some("https://tx.example.org/token".into()),
            client_id: Some("assure".into()),
            client_secret_env: Some(var.into()),
            ..Default::default()
        };
        let settings = TxSettings::resolve(&config, Path::new("assure.toml"), None)
            .unwrap()
            .unwrap();
        assert!(settings.auth.is_some());
        let shown = crate::redact::global().text(&format!("the server said: bad {secret}"));
        assert!(!shown.contains(secret), "{shown}");
    }
}
