//! Ed25519 keys for signing a report's manifest. A key is read from a file or from
//! `env:VARIABLE`, in any of three forms: PEM as OpenSSL writes it
//! (`openssl genpkey -algorithm ed25519`, `openssl pkey -pubout`), 64 hex digits,
//! or the raw 32 bytes. The private key is only ever held in memory.

use base64::Engine as _;
use ed25519_dalek::{SigningKey, VerifyingKey};

/// DER prefixes of PKCS#8 private and SPKI public Ed25519 keys (RFC 8410): the key
/// bytes follow them directly, so no ASN.1 parser is needed.
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Reads the 32 key bytes from `source` (a path, or `env:VAR`).
fn read_bytes(source: &str, what: &str, der_prefix: &[u8]) -> Result<[u8; 32], String> {
    let raw: Vec<u8> = match source.strip_prefix("env:") {
        Some(var) => std::env::var(var)
            .map_err(|_| format!("the {what} names `{var}`, which is not set"))?
            .into_bytes(),
        None => {
            std::fs::read(source).map_err(|e| format!("cannot read the {what} {source}: {e}"))?
        }
    };
    let bad = || {
        format!("the {what} in {source} is not an Ed25519 key: expected PEM, 64 hex digits or 32 raw bytes")
    };
    // No text form is 32 bytes long (hex is 64, PEM longer): 32 bytes are the key.
    if raw.len() == 32 {
        return raw.try_into().map_err(|_| bad());
    }
    let text = std::str::from_utf8(&raw).map_err(|_| bad())?.trim();
    if text.starts_with("-----BEGIN") {
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::trim)
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| bad())?;
        return match der.strip_prefix(der_prefix) {
            Some(key) => key.try_into().map_err(|_| bad()),
            None => Err(bad()),
        };
    }
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        return Ok(out);
    }
    Err(bad())
}

pub fn signing_key(source: &str) -> Result<SigningKey, String> {
    read_bytes(source, "signing key", &PKCS8_PREFIX).map(|b| SigningKey::from_bytes(&b))
}

pub fn verifying_key(source: &str) -> Result<VerifyingKey, String> {
    let bytes = read_bytes(source, "public key", &SPKI_PREFIX)?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| format!("the public key in {source} is not a valid Ed25519 point"))
}

pub fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, Verifier as _};

    // Made with `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout`.
    const PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIETBzUToWyWnLz5tlg8U+EwFYgrENlQiwtlSz2CoBQ0q\n-----END PRIVATE KEY-----\n";
    const PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA5O4tiCQTAMRZx/UU7k48hAPhIAXlbIAQNWWbMttYdPM=\n-----END PUBLIC KEY-----\n";
    // `openssl pkeyutl -sign -rawin` of "hello" with that key.
    const OPENSSL_SIG: &str = "1d3fe11ec3317e63a317d69581e52fab37420490cdcc066513c0023254472891ce0fe744d22d73fe726df24bd85c6d5b9d073f3cea963abf721f8369be0fde0f";

    fn file(text: &[u8]) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, text).unwrap();
        let p = path.display().to_string();
        (dir, p)
    }

    #[test]
    fn reads_openssl_pem_and_matches_its_signatures() {
        let (_d1, private) = file(PRIVATE_PEM.as_bytes());
        let (_d2, public) = file(PUBLIC_PEM.as_bytes());
        let sk = signing_key(&private).unwrap();
        let pk = verifying_key(&public).unwrap();
        assert_eq!(sk.verifying_key(), pk);
        let sig = sk.sign(b"hello");
        assert_eq!(crate::evidence::hex(&sig.to_bytes()), OPENSSL_SIG);
        assert!(pk.verify(b"hello", &sig).is_ok());
    }

    #[test]
    fn reads_hex_and_raw_and_refuses_the_rest() {
        let seed = [7u8; 32];
        let (_d1, raw) = file(&seed);
        let (_d2, hex) = file(format!("{}\n", crate::evidence::hex(&seed)).as_bytes());
        assert_eq!(signing_key(&raw).unwrap().to_bytes(), seed);
        assert_eq!(signing_key(&hex).unwrap().to_bytes(), seed);
        let (_d3, junk) = file(b"not a key");
        assert!(signing_key(&junk)
            .unwrap_err()
            .contains("not an Ed25519 key"));
        // A public key where a private one is wanted.
        let (_d4, public) = file(PUBLIC_PEM.as_bytes());
        assert!(signing_key(&public).is_err());
        assert!(signing_key("env:ASSURE_NO_SUCH_VARIABLE_SET")
            .unwrap_err()
            .contains("not set"));
        assert!(signing_key("/no/such/file")
            .unwrap_err()
            .contains("cannot read"));
    }
}
