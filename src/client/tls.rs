//! Mutual TLS to the target: a client certificate and private key to present, and CA
//! certificates to trust. Files are read and checked before a run starts, so that a
//! bad one is a configuration error naming the file and the setting that gave it.

use std::path::{Path, PathBuf};

use rustls_pki_types::pem::{self, SectionKind};

/// A file named by a setting: `key` is how the user gave it (`--client-cert`,
/// `[tls] client_cert`), for error messages.
#[derive(Debug, Clone)]
pub struct TlsFile {
    pub path: PathBuf,
    pub key: String,
}

/// What the configuration asks for; nothing read yet.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM: the client certificate chain, and its private key when `client_key` is absent.
    pub client_cert: Option<TlsFile>,
    /// PEM: the client's private key (PKCS#8, PKCS#1 or SEC1), unencrypted.
    pub client_key: Option<TlsFile>,
    /// PEM: CA certificates added to the trusted roots.
    pub ca_bundle: Option<TlsFile>,
    /// Trust only `ca_bundle`, not the built-in roots.
    pub ca_only: bool,
    /// Where `ca_only` was set, for error messages.
    pub ca_only_key: String,
}

/// A TLS setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {what} `{}` (given by {key}): {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        key: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} `{}` (given by {key}) {problem}", path.display())]
    Malformed {
        what: &'static str,
        path: PathBuf,
        key: String,
        problem: String,
    },
    #[error("{0}")]
    Setting(String),
}

impl TlsError {
    /// The file the problem is in, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            TlsError::Read { path, .. } | TlsError::Malformed { path, .. } => Some(path),
            TlsError::Setting(_) => None,
        }
    }
}

/// Loaded and checked TLS material, ready to apply to the HTTP client.
#[derive(Clone, Default)]
pub struct Tls {
    identity: Option<reqwest::Identity>,
    roots: Vec<reqwest::Certificate>,
    ca_only: bool,
    /// Base64 lines of the client key and certificate: secrets for the redactor, so
    /// that a target echoing them back cannot put them in a report.
    secret_lines: Vec<String>,
    /// The private key's DER bytes, for the redactor to find in any encoding (hex,
    /// base64 at any offset, raw in a binary body).
    secret_der: Vec<Vec<u8>>,
}

const CERT: &str = "the client certificate";
const KEY: &str = "the client private key";
const CA: &str = "the CA bundle";

struct PemFile {
    file: TlsFile,
    text: Vec<u8>,
    certs: usize,
    keys: usize,
}

fn read(what: &'static str, file: &TlsFile) -> Result<PemFile, TlsError> {
    let text = std::fs::read(&file.path).map_err(|source| TlsError::Read {
        what,
        path: file.path.clone(),
        key: file.key.clone(),
        source,
    })?;
    let malformed = |problem: String| TlsError::Malformed {
        what,
        path: file.path.clone(),
        key: file.key.clone(),
        problem,
    };
    let (mut certs, mut keys) = (0, 0);
    let mut cursor = std::io::Cursor::new(&text[..]);
    loop {
        match pem::from_buf(&mut cursor) {
            Ok(Some((SectionKind::Certificate, _))) => certs += 1,
            Ok(Some((
                SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey,
                _,
            ))) => keys += 1,
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => return Err(malformed(format!("is not valid PEM: {e}"))),
        }
    }
    Ok(PemFile {
        file: file.clone(),
        text,
        certs,
        keys,
    })
}

/// The base64 lines of every PEM block in `text`.
/// The DER of each private key block in a PEM file.
fn key_der(text: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cursor = std::io::Cursor::new(text);
    while let Ok(Some((kind, der))) = pem::from_buf(&mut cursor) {
        if matches!(
            kind,
            SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey
        ) {
            out.push(der);
        }
    }
    out
}

fn pem_body_lines(text: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(text)
        .lines()
        .map(str::trim)
        .filter(|l| l.len() >= 16 && !l.starts_with("-----"))
        .map(str::to_owned)
        .collect()
}

impl Tls {
    /// Reads and checks the files the options name.
    pub fn load(options: &TlsOptions) -> Result<Tls, TlsError> {
        let mut tls = Tls {
            ca_only: options.ca_only,
            ..Tls::default()
        };
        match (&options.client_cert, &options.client_key) {
            (None, Some(key)) => {
                return Err(TlsError::Setting(format!(
                    "{} is given without a client certificate; give one with --client-cert or [tls] client_cert",
                    key.key
                )))
            }
            (None, None) => {}
            (Some(cert), key) => {
                let cert = read(CERT, cert)?;
                if cert.certs == 0 {
                    return Err(cert_problem(&cert, "holds no PEM `CERTIFICATE` block"));
                }
                let mut identity_pem = cert.text.clone();
                tls.secret_lines.extend(pem_body_lines(&cert.text));
                tls.secret_der.extend(key_der(&cert.text));
                match key {
                    Some(key) => {
                        let key = read(KEY, key)?;
                        if key.keys == 0 {
                            return Err(no_key(KEY, &key));
                        }
                        if cert.keys > 0 {
                            return Err(cert_problem(&cert, &format!(
                                "holds a private key as well as {} (given by {}): give the key in one place only",
                                key.file.path.display(),
                                key.file.key
                            )));
                        }
                        identity_pem.push(b'\n');
                        identity_pem.extend_from_slice(&key.text);
                        tls.secret_lines.extend(pem_body_lines(&key.text));
                        tls.secret_der.extend(key_der(&key.text));
                    }
                    None if cert.keys == 0 => return Err(no_key(CERT, &cert)),
                    None => {}
                }
                let identity = reqwest::Identity::from_pem(&identity_pem)
                    .map_err(|e| cert_problem(&cert, &format!("cannot be used: {}", chain(&e))))?;
                // rustls checks the key only when a client is built: do it now.
                reqwest::Client::builder()
                    .use_rustls_tls()
                    .identity(identity.clone())
                    .build()
                    .map_err(|e| {
                        cert_problem(
                            &cert,
                            &format!(
                                "and its key cannot be used together: {}",
                                chain(&e)
                            ),
                        )
                    })?;
                tls.identity = Some(identity);
            }
        }
        if let Some(file) = &options.ca_bundle {
            let ca = read(CA, file)?;
            let malformed = |problem: String| TlsError::Malformed {
                what: CA,
                path: file.path.clone(),
                key: file.key.clone(),
                problem,
            };
            if ca.certs == 0 {
                return Err(malformed("holds no PEM `CERTIFICATE` block".into()));
            }
            tls.roots = reqwest::Certificate::from_pem_bundle(&ca.text)
                .map_err(|e| malformed(format!("cannot be read: {}", chain(&e))))?;
            let mut builder = reqwest::Client::builder().use_rustls_tls();
            for root in &tls.roots {
                builder = builder.add_root_certificate(root.clone());
            }
            builder.build().map_err(|e| {
                malformed(format!(
                    "holds a certificate that cannot be trusted: {}",
                    chain(&e)
                ))
            })?;
        } else if options.ca_only {
            return Err(TlsError::Setting(format!(
                "{} trusts only the CA bundle, but none is given; give one with --ca-bundle or [tls] ca_bundle",
                options.ca_only_key
            )));
        }
        Ok(tls)
    }

    /// Whether any TLS setting was given.
    pub fn is_configured(&self) -> bool {
        self.identity.is_some() || !self.roots.is_empty()
    }

    /// Values the redactor must keep out of reports.
    pub fn secrets(&self) -> &[String] {
        &self.secret_lines
    }

    /// The private key's bytes, for the redactor.
    pub fn secret_bytes(&self) -> &[Vec<u8>] {
        &self.secret_der
    }

    pub(crate) fn apply(&self, mut builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        if !self.is_configured() {
            return builder;
        }
        builder = builder.use_rustls_tls();
        if let Some(identity) = &self.identity {
            builder = builder.identity(identity.clone());
        }
        for root in &self.roots {
            builder = builder.add_root_certificate(root.clone());
        }
        builder.tls_built_in_root_certs(!self.ca_only)
    }
}

fn cert_problem(cert: &PemFile, problem: &str) -> TlsError {
    TlsError::Malformed {
        what: CERT,
        path: cert.file.path.clone(),
        key: cert.file.key.clone(),
        problem: problem.to_owned(),
    }
}

fn no_key(what: &'static str, file: &PemFile) -> TlsError {
    TlsError::Malformed {
        what,
        path: file.file.path.clone(),
        key: file.file.key.clone(),
        problem: "holds no unencrypted PEM private key (`PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`); give the key with --client-key or [tls] client_key, decrypted first if it is encrypted".into(),
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A TLS failure found in a transport error's causes, explained: who refused whom, and
/// which setting would change it. `None` when the error is not a TLS one.
pub fn explain_failure(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(tls) = rustls_error(err) {
            return Some(explain(tls));
        }
        next = err.source();
    }
    None
}

/// The rustls error `err` is or wraps (`io::Error` hides what it wraps from `source()`).
fn rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    err.downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        .and_then(|inner| rustls_error(inner))
}

fn explain(e: &rustls::Error) -> String {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    let why = match e {
        E::InvalidCertificate(C::UnknownIssuer) => {
            "certificate verification failed: the target's certificate is not signed by a trusted CA (give its CA with --ca-bundle or [tls] ca_bundle)".to_owned()
        }
        E::InvalidCertificate(c) => format!(
            "certificate verification failed: the target's certificate was rejected ({c:?})"
        ),
        E::AlertReceived(
            alert @ (A::CertificateRequired
            | A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::UnsupportedCertificate
            | A::AccessDenied
            | A::HandshakeFailure),
        ) => format!(
            "the target refused the client certificate (alert `{alert:?}`): it requires one signed by a CA it trusts (give it with --client-cert or [tls] client_cert)"
        ),
        other => return format!("TLS handshake failed: {other}"),
    };
    format!("TLS handshake failed: {why} ({e})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, text: &str, key: &str) -> TlsFile {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        TlsFile {
            path,
            key: key.into(),
        }
    }

    #[test]
    fn missing_and_malformed_files_name_the_file_and_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TlsOptions {
            client_cert: Some(TlsFile {
                path: dir.path().join("nope.pem"),
                key: "--client-cert".into(),
            }),
            ..TlsOptions::default()
        };
        let e = Tls::load(&missing).err().unwrap().to_string();
        assert!(e.contains("nope.pem") && e.contains("--client-cert"), "{e}");

        let garbage = TlsOptions {
            ca_bundle: Some(file(dir.path(), "ca.pem", "not a pem\n", "[tls] ca_bundle")),
            ..TlsOptions::default()
        };
        let e = Tls::load(&garbage).err().unwrap().to_string();
        assert!(
            e.contains("ca.pem") && e.contains("[tls] ca_bundle") && e.contains("no PEM"),
            "{e}"
        );

        let no_key = TlsOptions {
            client_cert: Some(file(
                dir.path(),
                "c.pem",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "[tls] client_cert",
            )),
            ..TlsOptions::default()
        };
        let e = Tls::load(&no_key).err().unwrap().to_string();
        assert!(e.contains("no unencrypted PEM private key"), "{e}");

        let ca_only = TlsOptions {
            ca_only: true,
            ca_only_key: "--ca-only".into(),
            ..TlsOptions::default()
        };
        let e = Tls::load(&ca_only).err().unwrap().to_string();
        assert!(
            e.contains("--ca-only") && e.contains("none is given"),
            "{e}"
        );
    }

    #[test]
    fn nothing_configured_is_fine() {
        let tls = Tls::load(&TlsOptions::default()).unwrap();
        assert!(!tls.is_configured());
    }

    #[test]
    fn handshake_failures_are_named() {
        let unknown = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, unknown);
        let text = explain_failure(&io).unwrap();
        assert!(text.starts_with("TLS handshake failed: certificate verification failed"));
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired);
        let text = explain_failure(&alert).unwrap();
        assert!(text.contains("refused the client certificate"), "{text}");
        let plain = std::io::Error::other("connection reset");
        assert!(explain_failure(&plain).is_none());
    }
}
