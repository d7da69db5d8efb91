//! Minimal JWT handling: HS256 signing/verification of the emulator's own access tokens, and
//! unverified decoding of external OIDC assertions.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use serde_json::{Value, json};

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JwtError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token signature is invalid")]
    BadSignature,
}

/// A per-process HMAC key: tokens from a previous run are rejected, as a real tenant would
/// reject tokens it never issued (unless `--state-file` carries the key over a restart).
pub(crate) struct SigningKey(hmac::Key, [u8; 32]);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    pub(crate) fn random() -> Self {
        let mut k = [0u8; 32];
        crate::ids::random_bytes(&mut k);
        Self::from_bytes(k)
    }

    /// The key a previous run of the same emulator used.
    pub(crate) fn from_bytes(k: [u8; 32]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, &k), k)
    }

    /// The raw key, for the state file only.
    pub(crate) fn bytes(&self) -> [u8; 32] {
        self.1
    }

    pub(crate) fn sign(&self, claims: &Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(json!({"typ": "JWT", "alg": "HS256"}).to_string());
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{payload}");
        let sig = hmac::sign(&self.0, input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    /// Verifies the signature and returns the claims. Expiry is the caller's business.
    pub(crate) fn verify(&self, token: &str) -> Result<Value, JwtError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| JwtError::Malformed)?;
        hmac::verify(&self.0, format!("{h}.{p}").as_bytes(), &sig)
            .map_err(|_| JwtError::BadSignature)?;
        decode_part(p)
    }
}

fn decode_part(p: &str) -> Result<Value, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(p.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed)?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(JwtError::Malformed)
    }
}

/// Claims of a JWT without checking its signature (used for federated assertions only).
pub(crate) fn decode_unverified(token: &str) -> Result<Value, JwtError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(JwtError::Malformed);
    }
    decode_part(parts[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_round_trips_and_tampering_fails() {
        let k = SigningKey::random();
        let t = k.sign(&json!({"a": 1}));
        assert_eq!(k.verify(&t), Ok(json!({"a": 1})));
        let other = SigningKey::random();
        assert_eq!(other.verify(&t), Err(JwtError::BadSignature));
        assert_eq!(k.verify("abc"), Err(JwtError::Malformed));
        let forged = format!(
            "{}.{}.{}",
            t.split('.').next().unwrap_or_default(),
            URL_SAFE_NO_PAD.encode(b"{\"a\":2}"),
            t.split('.').nth(2).unwrap_or_default()
        );
        assert_eq!(k.verify(&forged), Err(JwtError::BadSignature));
        assert_eq!(decode_unverified(&t), Ok(json!({"a": 1})));
    }
}
