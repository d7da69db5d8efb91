//! Client behaviour against a loopback mock server replaying queued responses.

use super::claims::tests::jwt;
use super::client::Resend;
use super::credential::tests::StaticCredential;
use super::*;
use crate::http::mock_server::{MockServer, Reply, test_pki};
use crate::http::retry::tests::FakeClock;
use crate::secret::Secret;
use http::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const API: &str = "2024-08-01-preview";
const PATH: &str =
    "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Security/securityConnectors/c1";

fn client(server: &MockServer, clock: Arc<FakeClock>) -> ArmClient {
    crate::azure::list::tests::mock_client_in(server, "sub", 7, clock)
}

#[tokio::test]
async fn get_sends_bearer_api_version_and_user_agent() {
    let server = MockServer::start().await;
    server.push(Reply::json(200, json!({"name": "c1"})));
    let c = client(&server, Arc::default());
    let v: Value = c.get(PATH, API).await.unwrap();
    assert_eq!(v["name"], "c1");
    let r = &server.requests()[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.target, format!("{PATH}?api-version={API}"));
    assert_eq!(r.header("authorization"), Some("Bearer arm-token"));
    assert!(
        r.header("user-agent")
            .unwrap()
            .starts_with("terraform-provider-multicloud/")
    );
}

#[tokio::test]
async fn throttled_429_honours_retry_after_seconds_and_date() {
    let server = MockServer::start().await;
    let clock = Arc::new(FakeClock::default());
    server.push(
        Reply::json(
            429,
            json!({"error": {"code": "TooManyRequests", "message": "slow down"}}),
        )
        .header("retry-after", "7"),
    );
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(20));
    server.push(Reply::status(429).header("retry-after", &date));
    server.push(Reply::json(200, json!({})));
    let c = client(&server, clock.clone());
    let _: Value = c.get(PATH, API).await.unwrap();
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 2);
    assert!(sleeps[0] >= Duration::from_secs(7), "{sleeps:?}");
    assert!(sleeps[1] >= Duration::from_secs(18), "{sleeps:?}");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn throttling_that_persists_surfaces_as_throttled() {
    let server = MockServer::start().await;
    for _ in 0..4 {
        server.push(
            Reply::json(
                429,
                json!({"error": {"code": "TooManyRequests", "message": "slow down"}}),
            )
            .header("retry-after", "1"),
        );
    }
    let c = client(&server, Arc::default());
    let err = c.get::<Value>(PATH, API).await.unwrap_err();
    assert!(matches!(err, AzureError::Throttled(_)), "{err}");
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn transient_503_then_200() {
    let server = MockServer::start().await;
    server.push(Reply::status(503));
    server.push(Reply::json(200, json!({"ok": true})));
    let c = client(&server, Arc::default());
    let v: Value = c.get(PATH, API).await.unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn post_is_not_resent_after_dropped_connection() {
    let server = MockServer::start().await;
    server.push(Reply::Drop);
    server.push(Reply::json(200, json!({})));
    let c = client(&server, Arc::default());
    let err = c
        .post::<Value, Value>(&format!("{PATH}/syncNow"), API, None)
        .await
        .unwrap_err();
    assert!(matches!(err, AzureError::Transport { .. }), "{err}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn repeatable_action_is_resent_after_dropped_connection() {
    // Registering a resource provider: a POST, but registering twice registers once.
    let server = MockServer::start().await;
    server.push(Reply::Drop);
    server.push(Reply::json(
        200,
        json!({"registrationState": "Registering"}),
    ));
    let c = client(&server, Arc::default());
    let resp = c
        .send_with(
            Method::POST,
            "/subscriptions/sub/providers/Microsoft.Security/register",
            Some(API),
            None,
            Resend::RepeatableAction,
        )
        .await
        .unwrap();
    assert!(resp.is_success());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn async_operation_lro_polls_then_gets_resource() {
    let server = MockServer::start().await;
    let clock = Arc::new(FakeClock::default());
    let op = server.url("/subscriptions/sub/providers/Microsoft.Security/locations/westeurope/operationStatuses/op1?api-version=x");
    server.push(
        Reply::json(201, json!({"name": "c1"}))
            .header("azure-asyncoperation", &op)
            .header("retry-after", "3"),
    );
    server.push(Reply::json(200, json!({"status": "InProgress"})).header("retry-after", "4"));
    server.push(Reply::json(200, json!({"status": "Succeeded"})));
    server.push(Reply::json(
        200,
        json!({"name": "c1", "properties": {"provisioningState": "Succeeded"}}),
    ));
    let c = client(&server, clock.clone());
    let v: Value = c.put(PATH, API, &json!({})).await.unwrap();
    assert_eq!(v["properties"]["provisioningState"], "Succeeded");
    let reqs = server.requests();
    let seen: Vec<(&str, &str)> = reqs
        .iter()
        .map(|r| (r.method.as_str(), r.target.as_str()))
        .collect();
    let op_target = op.trim_start_matches(server.base_url.trim_end_matches('/'));
    assert_eq!(
        seen,
        vec![
            ("PUT", format!("{PATH}?api-version={API}").as_str()),
            ("GET", op_target),
            ("GET", op_target),
            ("GET", format!("{PATH}?api-version={API}").as_str()),
        ]
    );
    assert_eq!(
        clock.sleeps(),
        vec![Duration::from_secs(3), Duration::from_secs(4)]
    );
}

#[tokio::test]
async fn location_lro_returns_final_body() {
    let server = MockServer::start().await;
    let loc = server.url("/operationResults/abc");
    server.push(
        Reply::status(202)
            .header("location", &loc)
            .header("retry-after", "1"),
    );
    server.push(
        Reply::status(202)
            .header("location", &loc)
            .header("retry-after", "1"),
    );
    server.push(Reply::json(200, json!({"result": "done"})));
    let c = client(&server, Arc::default());
    let v: Value = c
        .post(&format!("{PATH}/testPermissions"), API, Some(&json!({})))
        .await
        .unwrap();
    assert_eq!(v["result"], "done");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn failed_lro_surfaces_operation_error() {
    let server = MockServer::start().await;
    let op = server.url("/op/9");
    server.push(
        Reply::status(201)
            .header("azure-asyncoperation", &op)
            .header("retry-after", "0"),
    );
    server.push(Reply::json(200, json!({"status": "Failed", "error": {"code": "InvalidRoleArn", "message": "role cannot be assumed"}})));
    let c = client(&server, Arc::default());
    let err = c.put::<_, Value>(PATH, API, &json!({})).await.unwrap_err();
    match &err {
        AzureError::OperationFailed {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!(
                (status.as_str(), code.as_str(), message.as_str()),
                ("Failed", "InvalidRoleArn", "role cannot be assumed")
            );
        }
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn provisioning_state_is_polled_until_terminal() {
    let server = MockServer::start().await;
    server.push(Reply::json(
        200,
        json!({"properties": {"provisioningState": "Creating"}}),
    ));
    server.push(Reply::json(
        200,
        json!({"properties": {"provisioningState": "Updating"}}),
    ));
    server.push(Reply::json(200, json!({"properties": {"provisioningState": "Failed", "error": {"code": "Boom", "message": "bad"}}})));
    let c = client(&server, Arc::default());
    let err = c.put::<_, Value>(PATH, API, &json!({})).await.unwrap_err();
    assert!(
        matches!(&err, AzureError::OperationFailed { code, .. } if code == "Boom"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn lro_bounded_by_operation_timeout() {
    let server = MockServer::start().await;
    let op = server.url("/op/slow");
    server.push(
        Reply::status(202)
            .header("azure-asyncoperation", &op)
            .header("retry-after", "30"),
    );
    for _ in 0..10 {
        server.push(Reply::json(200, json!({"status": "InProgress"})).header("retry-after", "30"));
    }
    let c = client(&server, Arc::default()).with_operation_timeout(Duration::from_secs(100));
    let err = c.delete(PATH, API).await.unwrap_err();
    assert!(matches!(err, AzureError::Timeout { .. }), "{err}");
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn error_bodies_map_to_variants_and_get_opt_misses() {
    let server = MockServer::start().await;
    server.push(Reply::json(
        404,
        json!({"error": {"code": "ResourceNotFound", "message": "gone"}}),
    ));
    server.push(
        Reply::json(
            403,
            json!({"error": {"code": "AuthorizationFailed", "message": "no write"}}),
        )
        .header("x-ms-request-id", "rid-1")
        .header("x-ms-correlation-request-id", "cid-1"),
    );
    server.push(Reply::json(409, json!({"error": {"code": "MissingSubscriptionRegistration", "message": "The subscription is not registered to use namespace 'Microsoft.HybridConnectivity'."}})));
    let c = client(&server, Arc::default());
    assert_eq!(c.get_opt::<Value>(PATH, API).await.unwrap(), None);
    let err = c.put::<_, Value>(PATH, API, &json!({})).await.unwrap_err();
    let d = err.details().unwrap();
    assert!(matches!(err, AzureError::PermissionDenied(_)));
    assert_eq!(
        (
            d.code.as_str(),
            d.request_id.as_deref(),
            d.correlation_id.as_deref()
        ),
        ("AuthorizationFailed", Some("rid-1"), Some("cid-1"))
    );
    let err = c.put::<_, Value>(PATH, API, &json!({})).await.unwrap_err();
    assert!(
        matches!(&err, AzureError::MissingRegistration { namespace, .. } if namespace == "Microsoft.HybridConnectivity"),
        "{err}"
    );
}

#[tokio::test]
async fn delete_treats_missing_as_done_and_follows_location() {
    let server = MockServer::start().await;
    server.push(Reply::json(
        404,
        json!({"error": {"code": "ResourceNotFound", "message": "gone"}}),
    ));
    let loc = server.url("/op/del");
    server.push(
        Reply::status(202)
            .header("location", &loc)
            .header("retry-after", "0"),
    );
    server.push(
        Reply::status(202)
            .header("location", &loc)
            .header("retry-after", "0"),
    );
    server.push(Reply::status(204));
    let c = client(&server, Arc::default());
    c.delete(PATH, API).await.unwrap();
    c.delete(PATH, API).await.unwrap();
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn registration_registers_waits_and_remembers() {
    let server = MockServer::start().await;
    let clock = Arc::new(FakeClock::default());
    server.push(Reply::json(
        200,
        json!({"namespace": "Microsoft.Security", "registrationState": "NotRegistered"}),
    ));
    server.push(Reply::json(
        200,
        json!({"namespace": "Microsoft.Security", "registrationState": "Registering"}),
    ));
    server.push(Reply::json(
        200,
        json!({"namespace": "Microsoft.Security", "registrationState": "Registering"}),
    ));
    server.push(Reply::json(
        200,
        json!({"namespace": "Microsoft.Security", "registrationState": "Registered"}),
    ));
    server.push(Reply::json(
        200,
        json!({"namespace": "Microsoft.AwsConnector", "registrationState": "Registered"}),
    ));
    let c = client(&server, clock.clone());
    c.ensure_registered(&["Microsoft.Security", "Microsoft.AwsConnector"])
        .await
        .unwrap();
    let reqs = server.requests();
    let seen: Vec<String> = reqs
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        seen[1],
        "POST /subscriptions/sub/providers/Microsoft.Security/register?api-version=2021-04-01"
    );
    assert_eq!(seen.len(), 5);
    assert_eq!(clock.sleeps().len(), 1);
    // Already confirmed: no more calls.
    c.ensure_registered(&["Microsoft.Security"]).await.unwrap();
    assert_eq!(server.requests().len(), 5);
}

#[tokio::test]
async fn registration_opt_out_explains_how_to_register() {
    let server = MockServer::start().await;
    server.push(Reply::json(
        200,
        json!({"registrationState": "NotRegistered"}),
    ));
    let cfg = AzureConfig {
        subscription_id: Some("sub".into()),
        register_resource_providers: false,
        endpoints: AzureEndpoints {
            resource_manager: server.base_url.clone(),
            ..Default::default()
        },
        ..Default::default()
    };
    let c = ArmClient::with_credential(cfg, StaticCredential::new("t", Duration::from_secs(3600)))
        .unwrap();
    let err = c
        .ensure_registered(&["Microsoft.Security"])
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("az provider register --namespace Microsoft.Security"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

// ---- token acquisition over TLS (azure_identity refuses plain-http authorities) ----

fn tls_config(server: &MockServer, ca_file: &std::path::Path) -> AzureConfig {
    AzureConfig {
        tenant_id: Some("tenant-1".into()),
        subscription_id: Some("sub".into()),
        client_id: Some("app-1".into()),
        endpoints: AzureEndpoints {
            resource_manager: server.base_url.clone(),
            active_directory: server.base_url.clone(),
        },
        ca_cert_file: Some(ca_file.to_owned()),
        ..Default::default()
    }
}

fn write_ca(pem: &str, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mc-azure-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ca.pem");
    std::fs::write(&path, pem).unwrap();
    path
}

fn token_reply(claims: Value) -> Reply {
    Reply::json(
        200,
        json!({"token_type": "Bearer", "expires_in": 3599, "access_token": jwt(&claims)}),
    )
}

#[tokio::test]
async fn client_secret_token_and_claims_over_trusted_tls() {
    let pki = test_pki();
    let server = MockServer::start_tls(&pki).await;
    server.push(token_reply(
        json!({"tid": "tenant-1", "oid": "obj-1", "appid": "app-1"}),
    ));
    server.push(Reply::json(200, json!({"subscriptionId": "sub"})));
    let mut cfg = tls_config(&server, &write_ca(&pki.ca_pem, "secret"));
    cfg.client_secret = Some(Secret::new("s3cr3t-value"));
    let c = ArmClient::new(cfg).unwrap();
    let claims = c.token_claims().await.unwrap();
    assert_eq!(
        (
            claims.tenant_id.as_str(),
            claims.object_id.as_str(),
            claims.client_id.as_deref()
        ),
        ("tenant-1", "obj-1", Some("app-1"))
    );
    let _: Value = c.get("/subscriptions/sub", "2022-12-01").await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2, "token must be cached");
    assert_eq!(reqs[0].target, "/tenant-1/oauth2/v2.0/token");
    for part in [
        "grant_type=client_credentials",
        "client_id=app-1",
        "client_secret=s3cr3t-value",
        "scope=",
    ] {
        assert!(reqs[0].body.contains(part), "{}", reqs[0].body);
    }
    assert!(
        reqs[1]
            .header("authorization")
            .unwrap()
            .starts_with("Bearer ey")
    );
}

#[tokio::test]
async fn oidc_assertion_token_from_file() {
    let pki = test_pki();
    let server = MockServer::start_tls(&pki).await;
    server.push(token_reply(
        json!({"tid": "tenant-1", "oid": "obj-2", "azp": "app-1"}),
    ));
    let ca = write_ca(&pki.ca_pem, "oidc");
    let token_file = ca.with_file_name("oidc-token");
    std::fs::write(&token_file, "external.jwt.value\n").unwrap();
    let mut cfg = tls_config(&server, &ca);
    cfg.use_oidc = Some(true);
    cfg.oidc_token_file_path = Some(token_file);
    let c = ArmClient::new(cfg).unwrap();
    assert_eq!(c.token_claims().await.unwrap().object_id, "obj-2");
    let body = &server.requests()[0].body;
    assert!(
        body.contains("client_assertion=external.jwt.value"),
        "{body}"
    );
    assert!(
        body.contains(
            "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
        ),
        "{body}"
    );
}

#[tokio::test]
async fn wrong_secret_reports_aadsts_without_the_secret() {
    let pki = test_pki();
    let server = MockServer::start_tls(&pki).await;
    server.push(Reply::json(401, json!({
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.",
        "error_codes": [7000215]
    })));
    let mut cfg = tls_config(&server, &write_ca(&pki.ca_pem, "wrong"));
    cfg.client_secret = Some(Secret::new("wrong-s3cr3t"));
    let c = ArmClient::new(cfg).unwrap();
    let err = c.token_claims().await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, AzureError::Credential { .. }), "{text}");
    assert!(text.contains("AADSTS7000215"), "{text}");
    assert!(
        !text.contains("wrong-s3cr3t") && !format!("{err:?}").contains("wrong-s3cr3t"),
        "{text}"
    );
    assert_eq!(server.requests().len(), 1, "no retry of a rejected secret");
}

#[tokio::test]
async fn untrusted_certificate_fails_fast_with_the_cause() {
    let pki = test_pki();
    let other = test_pki();
    let server = MockServer::start_tls(&pki).await;
    let mut cfg = tls_config(&server, &write_ca(&other.ca_pem, "untrusted"));
    cfg.client_secret = Some(Secret::new("s"));
    let c = ArmClient::new(cfg).unwrap();
    let started = std::time::Instant::now();
    let err = c.token_claims().await.unwrap_err();
    let text = err.to_string();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(text.to_ascii_lowercase().contains("certificate"), "{text}");
}

#[test]
fn new_validates_without_network() {
    let err = ArmClient::new(AzureConfig {
        subscription_id: Some("s".into()),
        client_id: Some("c".into()),
        client_secret: Some(Secret::new("x")),
        ..Default::default()
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("azure.tenant_id is not set"),
        "{err}"
    );
}

#[test]
fn client_debug_hides_secrets() {
    let c = ArmClient::new(AzureConfig {
        tenant_id: Some("t".into()),
        subscription_id: Some("s".into()),
        client_id: Some("c".into()),
        client_secret: Some(Secret::new("debug-s3cr3t")),
        ..Default::default()
    })
    .unwrap();
    assert!(!format!("{c:?}").contains("debug-s3cr3t"));
}
