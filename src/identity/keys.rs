//! Ed25519 signing keys for access tokens: loaded from a directory of PEM
//! files (generated there on first start when it is empty), one signing
//! key and any number of verification keys, published as a JWKS.
//!
//! Layout: `KID.pem` holds a PKCS#8 private key (signs and verifies);
//! `KID.pub.pem` holds an SPKI public key (verifies only, e.g. a key that
//! signed tokens still in circulation). The private key whose kid sorts
//! last signs; generated kids start with a UTC timestamp, so that is the
//! newest.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::{DecodingKey, EncodingKey};

/// Why keys could not be loaded or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The directory or a file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// A file is not an Ed25519 key in PEM.
    #[error("{path}: not an Ed25519 PEM key ({reason})")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No private key to sign with.
    #[error("{0}: no private key (KID.pem) to sign tokens with")]
    NoSigningKey(PathBuf),
    /// The system's random source failed.
    #[error("no randomness: {0}")]
    Random(String),
}

/// The keys in force.
pub struct KeyStore {
    signing_kid: String,
    encoding: EncodingKey,
    decoding: BTreeMap<String, DecodingKey>,
    jwks: serde_json::Value,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("signing_kid", &self.signing_kid)
            .field(
                "verification_kids",
                &self.decoding.keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    /// Loads the keys in `dir`, creating the directory and a first key pair
    /// when there is no private key yet.
    pub fn load_or_generate(dir: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: dir.to_owned(),
            source,
        };
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode_private()
                .create(dir)
                .map_err(io)?;
        }
        let mut private = BTreeMap::new();
        let mut public = BTreeMap::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if let Some(kid) = name.strip_suffix(".pub.pem") {
                public.insert(kid.to_owned(), read_public(&path)?);
            } else if let Some(kid) = name.strip_suffix(".pem") {
                private.insert(kid.to_owned(), read_private(&path)?);
            }
        }
        if private.is_empty() {
            let (kid, key) = generate()?;
            write_private(dir, &kid, &key)?;
            tracing::info!(kid = %kid, dir = %dir.display(), "generated a token signing key");
            private.insert(kid, key);
        }
        Self::from_keys(private, public).ok_or_else(|| KeyError::NoSigningKey(dir.to_owned()))
    }

    /// A key pair that lives as long as the process (for in-memory databases).
    pub fn ephemeral() -> Result<Self, KeyError> {
        let (kid, key) = generate()?;
        Self::from_keys(BTreeMap::from([(kid, key)]), BTreeMap::new())
            .ok_or(KeyError::Random("no key".to_owned()))
    }

    fn from_keys(
        private: BTreeMap<String, SigningKey>,
        mut public: BTreeMap<String, VerifyingKey>,
    ) -> Option<Self> {
        let (signing_kid, signing_key) = private.iter().next_back()?;
        let encoding =
            EncodingKey::from_ed_der(pkcs8_v1(signing_key).to_pkcs8_der().ok()?.as_bytes());
        for (kid, key) in &private {
            public.insert(kid.clone(), key.verifying_key());
        }
        let mut decoding = BTreeMap::new();
        let mut jwks = Vec::new();
        for (kid, key) in &public {
            let x = URL_SAFE_NO_PAD.encode(key.to_bytes());
            decoding.insert(kid.clone(), DecodingKey::from_ed_components(&x).ok()?);
            jwks.push(serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"
            }));
        }
        Some(Self {
            signing_kid: signing_kid.clone(),
            encoding,
            decoding,
            jwks: serde_json::json!({ "keys": jwks }),
        })
    }

    /// The kid of the signing key.
    pub fn signing_kid(&self) -> &str {
        &self.signing_kid
    }

    /// The signing key.
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The verification key for a kid, if it is one of ours.
    pub fn decoding_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.decoding.get(kid)
    }

    /// The public keys as a JSON Web Key Set.
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }
}

/// A new key with a kid that sorts by creation time.
fn generate() -> Result<(String, SigningKey), KeyError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
    let mut suffix = [0u8; 3];
    getrandom::fill(&mut suffix).map_err(|e| KeyError::Random(e.to_string()))?;
    let kid = format!(
        "{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    Ok((kid, SigningKey::from_bytes(&seed)))
}

fn read_private(path: &Path) -> Result<SigningKey, KeyError> {
    let pem = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.to_owned(),
        source,
    })?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| KeyError::Invalid {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

fn read_public(path: &Path) -> Result<VerifyingKey, KeyError> {
    let pem = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.to_owned(),
        source,
    })?;
    VerifyingKey::from_public_key_pem(&pem).map_err(|e| KeyError::Invalid {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// The key as PKCS#8 v1 (private key only), the form OpenSSL, PyJWT and
/// every other tool reads; v2 with the public key embedded is refused by
/// OpenSSL 3.0.
fn pkcs8_v1(key: &SigningKey) -> ed25519_dalek::pkcs8::KeypairBytes {
    ed25519_dalek::pkcs8::KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    }
}

fn write_private(dir: &Path, kid: &str, key: &SigningKey) -> Result<(), KeyError> {
    let path = dir.join(format!("{kid}.pem"));
    let pem = pkcs8_v1(key)
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| KeyError::Invalid {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    let io = |source| KeyError::Io {
        path: path.clone(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(io)?;
    file.write_all(pem.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Directory creation readable by the owner only.
trait PrivateDir {
    fn mode_private(&mut self) -> &mut Self;
}

impl PrivateDir for std::fs::DirBuilder {
    fn mode_private(&mut self) -> &mut Self {
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(self, 0o700);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_survives_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let first = KeyStore::load_or_generate(&dir.path().join("keys")).unwrap();
        let second = KeyStore::load_or_generate(&dir.path().join("keys")).unwrap();

        assert_eq!(first.signing_kid(), second.signing_kid());
        assert_eq!(first.jwks(), second.jwks());
    }

    #[test]
    fn the_newest_private_key_signs_and_every_key_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let (old_kid, old) = generate().unwrap();
        write_private(dir.path(), &format!("0-{old_kid}"), &old).unwrap();
        write_private(dir.path(), "9-newer", &generate().unwrap().1).unwrap();
        let retired = generate().unwrap().1.verifying_key();
        let pem = ed25519_dalek::pkcs8::EncodePublicKey::to_public_key_pem(
            &retired,
            ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF,
        )
        .unwrap();
        std::fs::write(dir.path().join("retired.pub.pem"), pem).unwrap();

        let store = KeyStore::load_or_generate(dir.path()).unwrap();

        assert_eq!(store.signing_kid(), "9-newer");
        assert!(store.decoding_key(&format!("0-{old_kid}")).is_some());
        assert!(store.decoding_key("retired").is_some());
        assert_eq!(store.jwks()["keys"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn keys_are_written_as_pkcs8_v1_and_openssl_keys_load() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::load_or_generate(dir.path()).unwrap();
        let written =
            std::fs::read_to_string(dir.path().join(format!("{}.pem", store.signing_kid())))
                .unwrap();
        // v1 PKCS#8 of an Ed25519 key is 48 bytes: base64 begins "MC4CAQAw".
        assert!(written.contains("MC4CAQAw"), "{written}");
        // From `openssl genpkey -algorithm ed25519`.
        let openssl = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEICMPmfPs661afD8jMDMk7Gxti8ZBA5/2mCpEb5v3i6pj\n-----END PRIVATE KEY-----\n";
        std::fs::write(dir.path().join("zz-operator.pem"), openssl).unwrap();
        assert_eq!(
            KeyStore::load_or_generate(dir.path())
                .unwrap()
                .signing_kid(),
            "zz-operator"
        );
    }

    #[test]
    fn a_file_that_is_not_a_key_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("broken.pem"), "not a key").unwrap();

        let error = KeyStore::load_or_generate(dir.path()).unwrap_err();

        assert!(error.to_string().contains("broken.pem"), "{error}");
    }
}
