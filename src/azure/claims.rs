//! Identity claims read from our own ARM access token (for display, e.g. the caller identity
//! data source). The signature is not verified: the token came straight from Entra ID to us.

use super::error::AzureError;
use base64::Engine;
use serde::Deserialize;

/// Who the provider is signed in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// `tid`: the tenant id.
    pub tenant_id: String,
    /// `oid`: the object id of the service principal, managed identity or user.
    pub object_id: String,
    /// `appid` (v1 tokens) or `azp` (v2 tokens): the application (client) id, when present.
    pub client_id: Option<String>,
}

#[derive(Deserialize)]
struct RawClaims {
    tid: Option<String>,
    oid: Option<String>,
    appid: Option<String>,
    azp: Option<String>,
}

/// Decodes the payload of a JWT access token.
pub fn decode_claims(token: &str) -> Result<TokenClaims, AzureError> {
    let bad = |message: String| AzureError::Decode {
        context: "the ARM access token".into(),
        message,
    };
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| bad("not a JWT (no payload segment)".into()))?;
    // Entra uses unpadded base64url, but tolerate padding.
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| bad(format!("payload is not base64url: {e}")))?;
    let raw: RawClaims =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("payload is not JSON: {e}")))?;
    Ok(TokenClaims {
        tenant_id: raw.tid.ok_or_else(|| bad("no tid claim".into()))?,
        object_id: raw.oid.ok_or_else(|| bad("no oid claim".into()))?,
        client_id: raw.appid.or(raw.azp),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;

    /// An unsigned JWT with the given payload.
    pub(crate) fn jwt(payload: &serde_json::Value) -> String {
        let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            enc.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
            enc.encode(payload.to_string())
        )
    }

    #[test]
    fn v1_token() {
        let t = jwt(&serde_json::json!({"tid": "t1", "oid": "o1", "appid": "a1"}));
        assert_eq!(
            decode_claims(&t).unwrap(),
            TokenClaims {
                tenant_id: "t1".into(),
                object_id: "o1".into(),
                client_id: Some("a1".into())
            }
        );
    }

    #[test]
    fn v2_token_uses_azp() {
        let t = jwt(&serde_json::json!({"tid": "t", "oid": "o", "azp": "a2"}));
        assert_eq!(decode_claims(&t).unwrap().client_id.as_deref(), Some("a2"));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decode_claims("abc").is_err());
        assert!(decode_claims("a.!!!.c").is_err());
        let t = jwt(&serde_json::json!({"oid": "o"}));
        assert!(decode_claims(&t).unwrap_err().to_string().contains("tid"));
    }
}
