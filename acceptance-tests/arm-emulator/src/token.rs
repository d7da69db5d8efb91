//! The emulated Entra ID endpoints: the v2.0 token endpoint (client secret and federated client
//! assertion) plus the discovery documents some SDKs fetch first.

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use crate::errors::EntraError;
use crate::http::{Req, Resp};
use crate::server::Shared;

/// The audience Entra requires in a federated credential's assertion.
const EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The ARM audience, as Entra puts it in `aud`.
pub(crate) const ARM_AUDIENCE: &str = "https://management.azure.com/";
/// Lifetime matching what Entra reports for app tokens.
const TOKEN_LIFETIME_SECS: u64 = 3599;

/// Handles the request if its path is an Entra endpoint.
pub(crate) fn route(shared: &Shared, req: &Req) -> Option<Resp> {
    let segs = req.segments();
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    match l.as_slice() {
        [_, "oauth2", "v2.0", "token"] if req.method == Method::POST => {
            Some(token(shared, segs[0], req))
        }
        [_, "v2.0", ".well-known", "openid-configuration"]
        | [_, ".well-known", "openid-configuration"] => Some(openid_configuration(shared, segs[0])),
        ["common", "discovery", "instance"] => Some(instance_discovery(shared)),
        [_, "discovery", "v2.0", "keys"] | [_, "discovery", "keys"] => {
            // Tokens are HMAC-signed, so there is no public key to publish.
            Some(Resp::ok(json!({"keys": []})))
        }
        _ => None,
    }
}

/// True for Entra paths (`/{tenant}/oauth2/...`, discovery), whose errors use Entra's shape.
pub(crate) fn route_matches(req: &Req) -> bool {
    let segs = req.segments();
    segs.get(1).is_some_and(|s| {
        s.eq_ignore_ascii_case("oauth2")
            || s.eq_ignore_ascii_case("discovery")
            || s.eq_ignore_ascii_case("v2.0")
            || s.eq_ignore_ascii_case(".well-known")
    })
}

fn openid_configuration(shared: &Shared, tenant: &str) -> Resp {
    let base = format!("{}/{tenant}", shared.url);
    Resp::ok(json!({
        "issuer": format!("{base}/v2.0"),
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_types_supported": ["code", "id_token", "token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "tenant_region_scope": "NA",
    }))
}

fn instance_discovery(shared: &Shared) -> Resp {
    let host = shared.url.trim_start_matches("https://").to_string();
    Resp::ok(json!({
        "tenant_discovery_endpoint": format!("{}/{}/v2.0/.well-known/openid-configuration", shared.url, shared.config.tenant_id),
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    }))
}

fn form(req: &Req) -> Vec<(String, String)> {
    form_urlencoded::parse(&req.body).into_owned().collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn token(shared: &Shared, tenant: &str, req: &Req) -> Resp {
    match issue(shared, tenant, req) {
        Ok(v) => Resp::ok(v),
        Err(e) => e.into_resp(),
    }
}

fn missing(name: &str) -> EntraError {
    EntraError::new(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900_144,
        format!("The request body must contain the following parameter: '{name}'."),
    )
}

fn issue(shared: &Shared, tenant: &str, req: &Req) -> Result<Value, EntraError> {
    let cfg = &shared.config;
    if !tenant.eq_ignore_ascii_case(&cfg.tenant_id) {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90_002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID \
                 and are signing into the correct cloud."
            ),
        ));
    }
    let form = form(req);
    let grant = field(&form, "grant_type").ok_or_else(|| missing("grant_type"))?;
    if grant != "client_credentials" {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70_003,
            format!("The app requested an unsupported grant type '{grant}'."),
        ));
    }
    let client_id = field(&form, "client_id").ok_or_else(|| missing("client_id"))?;
    let scope = field(&form, "scope").ok_or_else(|| missing("scope"))?;
    if !scope_ok(scope, &shared.url) {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1_002_012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ));
    }

    let world = shared.world.lock();
    let key = client_id.to_ascii_lowercase();
    let has_secret = world.clients.get(&key);
    let has_federation = world
        .federated
        .iter()
        .any(|f| f.client_id.eq_ignore_ascii_case(client_id));
    if has_secret.is_none() && !has_federation {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700_016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. \
                 This can happen if the application has not been installed by the administrator of the tenant \
                 or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        ));
    }

    if let Some(secret) = field(&form, "client_secret") {
        // Constant-time comparison is irrelevant here; equality is all a test double needs.
        if has_secret.map(String::as_str) != Some(secret) {
            return Err(EntraError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7_000_215,
                format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the \
                     client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
            ));
        }
    } else if let Some(assertion) = field(&form, "client_assertion") {
        if field(&form, "client_assertion_type") != Some(JWT_BEARER) {
            return Err(EntraError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                7_000_216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type."
                    .to_string(),
            ));
        }
        check_assertion(&world.federated, client_id, assertion)?;
    } else {
        return Err(EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7_000_218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    }
    drop(world);

    let now = crate::clock::now_secs();
    let oid = crate::ids::stable_guid("oid", client_id);
    let claims = json!({
        "aud": ARM_AUDIENCE,
        "iss": format!("https://sts.windows.net/{}/", cfg.tenant_id),
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_LIFETIME_SECS,
        "tid": cfg.tenant_id,
        "oid": oid,
        "sub": oid,
        "appid": client_id,
        "azp": client_id,
        "appidacr": "1",
        "idtyp": "app",
        "ver": "1.0",
    });
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECS,
        "ext_expires_in": TOKEN_LIFETIME_SECS,
        "access_token": shared.signing_key.sign(&claims),
    }))
}

/// ARM's `.default` scope, in any of the spellings SDKs send, or the emulator's own URL.
fn scope_ok(scope: &str, own_url: &str) -> bool {
    scope.split(' ').any(|s| {
        let Some(resource) = s.strip_suffix("/.default") else {
            return false;
        };
        let resource = resource.trim_end_matches('/');
        resource.eq_ignore_ascii_case("https://management.azure.com")
            || resource.eq_ignore_ascii_case("https://management.core.windows.net")
            || resource.eq_ignore_ascii_case(own_url.trim_end_matches('/'))
    })
}

/// Checks a federated assertion's claims against the trusted issuer/subject pairs.
///
/// The signature is deliberately not verified: the emulator has no access to the external
/// issuer's keys (GitHub, Terraform Cloud, ...) and the tests mint their own assertions.
fn check_assertion(
    federated: &[crate::config::FederatedCredential],
    client_id: &str,
    assertion: &str,
) -> Result<(), EntraError> {
    let claims = crate::jwt::decode_unverified(assertion).map_err(|_| {
        EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50_027,
            "JWT token is invalid or is malformed.",
        )
    })?;
    let s = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (iss, sub) = (s("iss"), s("sub"));
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == EXCHANGE_AUDIENCE,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(EXCHANGE_AUDIENCE)),
        _ => false,
    };
    let aud_text = match claims.get("aud") {
        Some(Value::String(a)) => a.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let matched = federated.iter().any(|f| {
        f.client_id.eq_ignore_ascii_case(client_id) && f.issuer == iss && f.subject == sub
    });
    if !matched || !aud_ok {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            70_021,
            format!(
                "No matching federated identity record found for presented assertion. \
                 Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{aud_text}'."
            ),
        ));
    }
    let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
    if exp <= crate::clock::now_secs() {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            700_024,
            "Client assertion is not within its valid time range.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert!(scope_ok(
            "https://management.azure.com/.default",
            "https://127.0.0.1:1"
        ));
        assert!(scope_ok(
            "https://management.azure.com//.default",
            "https://127.0.0.1:1"
        ));
        assert!(scope_ok(
            "https://127.0.0.1:1/.default",
            "https://127.0.0.1:1"
        ));
        assert!(!scope_ok(
            "https://graph.microsoft.com/.default",
            "https://127.0.0.1:1"
        ));
        assert!(!scope_ok(
            "https://management.azure.com/",
            "https://127.0.0.1:1"
        ));
    }
}
