//! Token endpoint, TLS trust and ARM authentication.

use arm_emulator::FederatedCredential;
use arm_emulator::config::{DEFAULT_CLIENT_ID, DEFAULT_TENANT_ID};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{API, claims, env, env_with, read};

const ISSUER: &str = "https://app.terraform.io";
const SUBJECT: &str = "organization:acme:project:p:workspace:w:run_phase:apply";
const FED_CLIENT: &str = "44444444-4444-4444-8444-444444444444";

fn assertion(iss: &str, sub: &str, aud: &str, exp_offset: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let h = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "typ": "JWT"}).to_string());
    let p = URL_SAFE_NO_PAD.encode(
        json!({"iss": iss, "sub": sub, "aud": aud, "exp": now + exp_offset, "iat": now})
            .to_string(),
    );
    format!("{h}.{p}.c2lnbmF0dXJl")
}

fn error_code(body: &Value) -> u64 {
    body["error_codes"][0].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn client_secret_token_carries_the_expected_claims() {
    let env = env().await;
    let c = claims(&env.token);
    assert_eq!(c["aud"], "https://management.azure.com/");
    assert_eq!(c["tid"], DEFAULT_TENANT_ID);
    assert_eq!(c["appid"], DEFAULT_CLIENT_ID);
    assert_eq!(c["azp"], DEFAULT_CLIENT_ID);
    assert_eq!(
        c["iss"],
        format!("https://sts.windows.net/{DEFAULT_TENANT_ID}/")
    );
    let exp = c["exp"].as_u64().unwrap_or(0);
    assert_eq!(exp - c["iat"].as_u64().unwrap_or(0), 3599);
    // The object id is stable per client id.
    let (_, again) = env
        .token_with_secret(DEFAULT_CLIENT_ID, "emulator-client-secret")
        .await;
    let c2 = claims(again["access_token"].as_str().unwrap_or_default());
    assert_eq!(c["oid"], c2["oid"]);
    assert_eq!(c["oid"].as_str().map(str::len), Some(36));
}

#[tokio::test]
async fn token_errors_use_entra_codes() {
    let env = env().await;
    let (s, b) = env.token_with_secret(DEFAULT_CLIENT_ID, "wrong").await;
    assert_eq!(s, 401);
    assert_eq!(b["error"], "invalid_client");
    assert_eq!(error_code(&b), 7_000_215);
    let desc = b["error_description"].as_str().unwrap_or_default();
    assert!(
        desc.starts_with("AADSTS7000215: Invalid client secret provided."),
        "{desc}"
    );
    assert!(
        !desc.contains("wrong"),
        "the presented secret must not be echoed"
    );
    assert!(
        b["trace_id"].is_string() && b["correlation_id"].is_string() && b["timestamp"].is_string()
    );

    let (s, b) = env
        .token_with_secret("55555555-0000-4000-8000-000000000000", "x")
        .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("unauthorized_client")));
    assert_eq!(error_code(&b), 700_016);

    let (s, b) = env
        .token_form(
            "99999999-9999-4999-8999-999999999999",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", DEFAULT_CLIENT_ID),
            ],
        )
        .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_request")));
    assert_eq!(error_code(&b), 90_002);

    let (s, b) = env
        .token_form(
            DEFAULT_TENANT_ID,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", DEFAULT_CLIENT_ID),
                ("client_secret", "emulator-client-secret"),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_scope")));
}

#[tokio::test]
async fn emulator_url_scope_is_accepted() {
    let env = env().await;
    let scope = format!("{}/.default", env.emu.url());
    let (s, b) = env
        .token_form(
            DEFAULT_TENANT_ID,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", DEFAULT_CLIENT_ID),
                ("client_secret", "emulator-client-secret"),
                ("scope", &scope),
            ],
        )
        .await;
    assert_eq!(s, 200, "{b}");
}

async fn oidc(env: &crate::Env, jwt: &str) -> (u16, Value) {
    env.token_form(
        DEFAULT_TENANT_ID,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", FED_CLIENT),
            ("scope", "https://management.azure.com/.default"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", jwt),
        ],
    )
    .await
}

#[tokio::test]
async fn federated_assertion_is_exchanged_or_rejected() {
    let env = env_with(|c| {
        c.federated.push(FederatedCredential {
            client_id: FED_CLIENT.to_string(),
            issuer: ISSUER.to_string(),
            subject: SUBJECT.to_string(),
        })
    })
    .await;
    let (s, b) = oidc(
        &env,
        &assertion(ISSUER, SUBJECT, "api://AzureADTokenExchange", 600),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let token = b["access_token"].as_str().unwrap_or_default();
    assert_eq!(claims(token)["appid"], FED_CLIENT);
    // The exchanged token works against ARM.
    let resp = env
        .http
        .get(env.url(&format!("{}?{API}", env.sub())))
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 200);

    for bad in [
        assertion(ISSUER, "repo:other", "api://AzureADTokenExchange", 600),
        assertion(
            "https://evil.example",
            SUBJECT,
            "api://AzureADTokenExchange",
            600,
        ),
        assertion(ISSUER, SUBJECT, "api://SomethingElse", 600),
    ] {
        let (s, b) = oidc(&env, &bad).await;
        assert_eq!((s, error_code(&b)), (400, 70_021), "{b}");
    }
    let (s, b) = oidc(
        &env,
        &assertion(ISSUER, SUBJECT, "api://AzureADTokenExchange", -60),
    )
    .await;
    assert_eq!((s, error_code(&b)), (400, 700_024), "{b}");
    let (s, b) = oidc(&env, "not-a-jwt").await;
    assert_eq!((s, error_code(&b)), (400, 50_027), "{b}");
}

#[tokio::test]
async fn admin_added_client_can_log_in() {
    let env = env().await;
    let (s, _) = env.token_with_secret("abc", "s3").await;
    assert_eq!(s, 400);
    let (s, _) = env
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"client_id": "abc", "client_secret": "s3"})),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = env.token_with_secret("abc", "s3").await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn arm_requires_a_valid_bearer_token_and_api_version() {
    let env = env().await;
    let url = env.url(&format!("{}?{API}", env.sub()));
    let (s, b) = read(
        env.http
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .await;
    assert_eq!(s, 401);
    assert_eq!(b["error"]["code"], "AuthenticationFailed");

    let resp = env
        .http
        .get(&url)
        .bearer_auth("x.y.z")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(resp.headers().contains_key("www-authenticate"));
    let (s, b) = read(resp).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken"))
    );

    // A token signed by another emulator instance is not accepted.
    let other = crate::env().await;
    let resp = env
        .http
        .get(&url)
        .bearer_auth(&other.token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 401);

    let (s, b) = env.call(Method::GET, &env.sub(), None).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (400, Some("MissingApiVersionParameter"))
    );

    let (s, b) = env
        .call(Method::GET, &format!("{}?{API}", env.sub()), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["subscriptionId"], env.emu.info().subscription_id);
    assert_eq!(b["tenantId"], DEFAULT_TENANT_ID);
    let (s, b) = env
        .call(Method::GET, &format!("/subscriptions?{API}"), None)
        .await;
    assert_eq!((s, b["value"].as_array().map(Vec::len)), (200, Some(1)));
    let (s, b) = env
        .call(
            Method::GET,
            &format!("/subscriptions/00000000-0000-0000-0000-000000000000?{API}"),
            None,
        )
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (404, Some("SubscriptionNotFound"))
    );
}

#[tokio::test]
async fn a_client_not_trusting_the_ca_is_refused() {
    let env = env().await;
    let stranger = arm_emulator::tls::generate().unwrap_or_else(|e| panic!("{e}"));
    let untrusting = crate::client_trusting(&stranger.ca_pem);
    let err = untrusting
        .get(env.url("/_emulator/health"))
        .send()
        .await
        .err()
        .unwrap_or_else(|| panic!("TLS must fail for an untrusted CA"));
    assert!(err.is_connect(), "{err:?}");
    // The trusting client reaches the same endpoint.
    let (s, b) = env.admin(Method::GET, "/health", None).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("ok")));
}
