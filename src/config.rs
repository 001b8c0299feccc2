//! `assure.toml` and `--input`: where suite inputs come from. Secrets are named by
//! environment variable, never written literally in a file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::client::tls::{TlsFile, TlsOptions};
use crate::diagnostic::{closest, Diagnostic, Diagnostics};
use crate::suite::Suite;

/// The commented default configuration; also the documentation of the format.
pub const DEFAULT_CONFIG: &str = include_str!("../assure.example.toml");

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Base URL of the system under test.
    pub target: Option<String>,
    #[serde(default)]
    pub suites: Vec<String>,
    pub report_dir: Option<PathBuf>,
    pub concurrency: Option<usize>,
    pub timeout: Option<u64>,
    pub max_body: Option<u64>,
    pub evidence_body_limit: Option<u64>,
    #[serde(default)]
    pub inputs: BTreeMap<String, InputValue>,
    #[serde(default)]
    pub auth: Auth,
    /// Extra headers sent with every request to the target.
    #[serde(default)]
    pub headers: BTreeMap<String, InputValue>,
    #[serde(default)]
    pub tls: Tls,
    /// A terminology server for the validator (see `terminology`).
    #[serde(default)]
    pub terminology: crate::terminology::TerminologyConfig,
    #[serde(default)]
    pub capabilities: Capabilities,
}

/// `[capabilities]`: what the supplier offers, for suites with capabilities of their
/// own (GP Connect: `structured`, `appointments`...). Unset: the target's
/// CapabilityStatements tell.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    #[serde(default)]
    pub offered: Vec<String>,
}

/// `[tls]`: mutual TLS to the target. Paths are relative to the configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub ca_bundle: Option<PathBuf>,
    #[serde(default)]
    pub ca_only: bool,
}

/// TLS files given on the command line; each wins over its `[tls]` setting.
#[derive(Debug, Default)]
pub struct TlsFlags {
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub ca_bundle: Option<PathBuf>,
    pub ca_only: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// Environment variable holding a bearer token for the target.
    pub bearer_token_env: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum InputValue {
    Literal(String),
    Env { env: String },
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, Diagnostic> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Diagnostic::new(path, format!("cannot read the configuration: {e}")))?;
        toml::from_str(&text).map_err(|e| {
            let span = e.span().unwrap_or(0..1);
            Diagnostic::new(path, format!("invalid configuration: {}", e.message()))
                .at_offset(&text, span.start)
                .width(span.len().min(60))
        })
    }
}

impl Config {
    /// The TLS settings, the command line winning over `[tls]`, each file remembering
    /// which setting named it.
    pub fn tls_options(&self, config_path: &Path, flags: &TlsFlags) -> TlsOptions {
        let base = config_path.parent().unwrap_or(Path::new(""));
        let pick = |flag: &Option<PathBuf>, file: &Option<PathBuf>, cli: &str, key: &str| match (
            flag, file,
        ) {
            (Some(p), _) => Some(TlsFile {
                path: p.clone(),
                key: cli.to_owned(),
            }),
            (None, Some(p)) => Some(TlsFile {
                path: base.join(p),
                key: format!("[tls] {key} in {}", config_path.display()),
            }),
            (None, None) => None,
        };
        TlsOptions {
            client_cert: pick(
                &flags.client_cert,
                &self.tls.client_cert,
                "--client-cert",
                "client_cert",
            ),
            client_key: pick(
                &flags.client_key,
                &self.tls.client_key,
                "--client-key",
                "client_key",
            ),
            ca_bundle: pick(
                &flags.ca_bundle,
                &self.tls.ca_bundle,
                "--ca-bundle",
                "ca_bundle",
            ),
            ca_only: flags.ca_only || self.tls.ca_only,
            ca_only_key: if flags.ca_only {
                "--ca-only".into()
            } else {
                format!("[tls] ca_only in {}", config_path.display())
            },
        }
    }
}

/// Inputs resolved for a run: values by name, and which of them are secret.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    pub values: BTreeMap<String, String>,
    pub secrets: Vec<String>,
}

impl Inputs {
    /// Inputs as a report may show them.
    pub fn shown(&self) -> BTreeMap<String, String> {
        self.values
            .iter()
            .map(|(k, v)| {
                let shown = if self.secrets.contains(k) {
                    crate::evidence::MASK.to_owned()
                } else {
                    v.clone()
                };
                (k.clone(), shown)
            })
            .collect()
    }

    pub fn secret_values(&self) -> Vec<String> {
        self.secrets
            .iter()
            .filter_map(|k| self.values.get(k).cloned())
            .collect()
    }
}

fn from_env(name: &str, input: &str, origin: &Path) -> Result<String, Diagnostic> {
    std::env::var(name).map_err(|_| {
        Diagnostic::new(
            origin,
            format!("input `{input}` reads the environment variable `{name}`, which is not set"),
        )
        .help(format!("export {name}=... before running"))
    })
}

/// Suite defaults, then `assure.toml`, then `--input key=value` (last wins).
pub fn resolve_inputs(
    suites: &[Suite],
    config: &Config,
    config_path: &Path,
    cli: &[String],
) -> Result<Inputs, Diagnostics> {
    let mut declared = BTreeMap::new();
    for suite in suites {
        for (name, decl) in &suite.inputs {
            declared.insert(name.clone(), decl.clone());
        }
    }
    let mut problems = Vec::new();
    let mut inputs = Inputs::default();
    for (name, decl) in &declared {
        if let Some(d) = &decl.default {
            inputs.values.insert(name.clone(), d.clone());
        }
        if decl.secret {
            inputs.secrets.push(name.clone());
        }
    }
    let unknown = |name: &str, origin: &Path| {
        let mut d = Diagnostic::new(
            origin,
            format!("no selected suite declares an input `{name}`"),
        );
        if let Some(best) = closest(name, declared.keys().map(String::as_str)).first() {
            d = d.help(format!("did you mean `{best}`?"));
        } else if !declared.is_empty() {
            d = d.help(format!(
                "declared inputs: {}",
                declared.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        d
    };
    for (name, value) in &config.inputs {
        let Some(decl) = declared.get(name) else {
            problems.push(unknown(name, config_path));
            continue;
        };
        match value {
            InputValue::Literal(_) if decl.secret => problems.push(
                Diagnostic::new(
                    config_path,
                    format!("input `{name}` is secret and must not be written in a file"),
                )
                .help(format!(
                    "write `{name} = {{ env = \"VARIABLE\" }}` and export the value"
                )),
            ),
            InputValue::Literal(v) => {
                inputs.values.insert(name.clone(), v.clone());
            }
            InputValue::Env { env } => match from_env(env, name, config_path) {
                Ok(v) => {
                    inputs.values.insert(name.clone(), v);
                }
                Err(d) => problems.push(d),
            },
        }
    }
    let origin = PathBuf::from("--input");
    for pair in cli {
        let Some((name, value)) = pair.split_once('=') else {
            problems.push(Diagnostic::new(
                &origin,
                format!("`{pair}` is not `name=value`"),
            ));
            continue;
        };
        if !declared.contains_key(name) {
            problems.push(unknown(name, &origin));
            continue;
        }
        let value = match value.strip_prefix("env:") {
            Some(var) => match from_env(var, name, &origin) {
                Ok(v) => v,
                Err(d) => {
                    problems.push(d);
                    continue;
                }
            },
            None => value.to_owned(),
        };
        inputs.values.insert(name.to_owned(), value);
    }
    for (name, decl) in &declared {
        if !inputs.values.contains_key(name) {
            let mut d = Diagnostic::new(config_path, format!("input `{name}` has no value"));
            if !decl.description.is_empty() {
                d = d.label(decl.description.clone());
            }
            problems.push(d.help(format!(
                "give it with `--input {name}=...` or in assure.toml [inputs]"
            )));
        }
    }
    if problems.is_empty() {
        Ok(inputs)
    } else {
        Err(Diagnostics(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_configuration_parses() {
        let config: Config = toml::from_str(DEFAULT_CONFIG).unwrap();
        assert!(config.target.is_none());
    }

    #[test]
    fn literal_secrets_in_files_are_refused() {
        let config: Config = toml::from_str("[inputs]\ntoken = \"abc\"\n").unwrap();
        let suite_dir = tempfile::tempdir().unwrap();
        let dir = suite_dir.path().join("s");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.feature"), "Feature: a\n").unwrap();
        std::fs::write(
            dir.join("suite.toml"),
            "[suite]\nid = \"s\"\nversion = \"1\"\ntitle = \"S\"\nfeatures = [\"*.feature\"]\n[inputs.token]\nsecret = true\n[inputs.nhs]\ndefault = \"1\"\n",
        )
        .unwrap();
        let suite = Suite::load(&dir).unwrap();
        let err = resolve_inputs(
            std::slice::from_ref(&suite),
            &config,
            Path::new("assure.toml"),
            &[],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("must not be written in a file"),
            "{err}"
        );
        let ok = resolve_inputs(
            std::slice::from_ref(&suite),
            &Config::default(),
            Path::new("assure.toml"),
            &["token=xyz1".into()],
        )
        .unwrap();
        assert_eq!(ok.shown()["token"], crate::evidence::MASK);
        assert_eq!(ok.secret_values(), vec!["xyz1".to_owned()]);
        let err = resolve_inputs(
            &[suite],
            &Config::default(),
            Path::new("assure.toml"),
            &["nsh=1".into()],
        )
        .unwrap_err();
        assert!(err.to_string().contains("did you mean `nhs`?"), "{err}");
    }
}
