//! The token-signing key: an RSA key made at start, RS256 signing of access tokens, and the JWKS that
//! `/auth/v1/certs` serves so that a client can verify them.
//!
//! One key serves every stub of a process: a 2048-bit key takes about half a second of CPU to make (even with
//! the optimised `rsa` build), which a test suite starting a stub per test would pay again and again. Stubs
//! never accept each other's tokens anyway: validity comes from each stub's own session table, not the
//! signature.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use rsa::RsaPrivateKey;
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};

use crate::choices;
use crate::error::ApiError;

/// The claims of an access token, as CloudBase's tokens carry them (see the contract's "Tokens").
#[derive(Debug, Serialize)]
pub(crate) struct AccessClaims<'a> {
    pub iss: String,
    pub sub: &'a str,
    pub aud: &'a str,
    pub exp: u64,
    pub iat: u64,
    /// Makes every token unique, even two for one user in the same second.
    pub jti: &'a str,
    pub scope: &'a str,
    pub project_id: &'a str,
    pub provider_type: &'a str,
    pub user_type: &'a str,
}

pub(crate) struct SigningKeys {
    kid: String,
    encoding: EncodingKey,
    jwks: Value,
}

impl SigningKeys {
    /// The process's key, made on first use; a caller that comes while another thread makes it waits for that
    /// one. Slow the first time (an RSA prime search): the stub starts it on a thread of its own.
    pub fn for_process() -> Arc<SigningKeys> {
        static KEYS: OnceLock<Arc<SigningKeys>> = OnceLock::new();
        Arc::clone(KEYS.get_or_init(|| Arc::new(SigningKeys::generate())))
    }

    /// A fresh key.
    fn generate() -> SigningKeys {
        // If the app's build also enables jsonwebtoken's aws_lc_rs feature, no provider is chosen by features
        // and signing would panic; pick ours unless the app installed one already (then that one is used).
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();

        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, choices::RSA_KEY_BITS)
            .expect("generating an RSA key from the OS RNG does not fail");
        let der = key
            .to_pkcs1_der()
            .expect("a freshly generated RSA key encodes as PKCS#1");
        let kid = crate::state::random_hex(8);
        let jwks = json!({
            "keys": [{
                "kty": "RSA",
                "kid": kid,
                "use": "sig",
                "alg": "RS256",
                "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
                "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
            }]
        });
        SigningKeys {
            kid,
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            jwks,
        }
    }

    /// An RS256 JWT with `kid` in its header.
    pub fn sign(&self, claims: &AccessClaims<'_>) -> Result<String, ApiError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|err| {
            ApiError::new(
                choices::INTERNAL,
                format!("could not sign the access token: {err}"),
            )
        })
    }

    /// `{"keys": [ … ]}`.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }
}
