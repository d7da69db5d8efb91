//! Pure parts of the IAM layer (policy decoding, retry predicates, the propagation wait with a
//! fake clock) and the client's retries against a loopback mock IAM endpoint.

use super::oidc::provider_key;
use super::*;
use crate::aws::{AwsClients, AwsConfig, AwsEndpoints};
use crate::http::mock_server::{MockServer, Reply};
use crate::http::retry::tests::FakeClock;
use crate::secret::Secret;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

fn api(code: &str, message: &str) -> AwsError {
    crate::aws::error::classify_service_error("Op", code.into(), message.into(), None)
}

#[test]
fn decodes_url_encoded_documents() {
    let raw = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Action%22%3A%22s3%3AGet%2A%22%2C%22Condition%22%3A%7B%22StringLike%22%3A%7B%22k%22%3A%22a+b%22%7D%7D%7D%5D%7D";
    let doc = decode_policy_document(raw).unwrap();
    assert_eq!(
        doc,
        r#"{"Version":"2012-10-17","Statement":[{"Action":"s3:Get*","Condition":{"StringLike":{"k":"a+b"}}}]}"#
    );
    // Already-decoded documents (some emulators) stay intact, literal % included.
    let plain = r#"{"Statement":[{"Resource":"arn:aws:s3:::b/100%25"}]}"#;
    assert_eq!(decode_policy_document(plain).unwrap(), plain);
    assert!(decode_policy_document("%FF%FE").is_err());
}

#[test]
fn policy_equality_ignores_order_and_whitespace() {
    assert!(policy_documents_equal(
        r#"{"Version":"2012-10-17","Statement":[]}"#,
        "{ \"Statement\": [], \"Version\": \"2012-10-17\" }"
    ));
    assert!(!policy_documents_equal(
        r#"{"Statement":[{"Effect":"Allow"}]}"#,
        r#"{"Statement":[{"Effect":"Deny"}]}"#
    ));
}

#[test]
fn provider_key_drops_only_the_scheme() {
    assert_eq!(
        provider_key("https://sts.windows.net/t/"),
        "sts.windows.net/t/"
    );
    assert_eq!(
        provider_key("token.actions.example"),
        "token.actions.example"
    );
}

#[test]
fn retry_predicates_match_only_the_named_symptoms() {
    assert!(is_invalid_principal(&api(
        "MalformedPolicyDocument",
        "Invalid principal in policy: \"Federated\":\"arn:aws:iam::1:oidc-provider/x\""
    )));
    assert!(!is_invalid_principal(&api(
        "MalformedPolicyDocument",
        "Syntax errors in policy."
    )));
    assert!(!is_invalid_principal(&api(
        "InvalidInput",
        "Invalid principal in policy"
    )));
    assert!(is_delete_conflict(&api(
        "DeleteConflict",
        "must detach all policies first"
    )));
    assert!(!is_delete_conflict(&api("ConcurrentModification", "x")));
}

fn fake_wait(clock: &Arc<FakeClock>) -> PropagationWait {
    PropagationWait::new(PROPAGATION_TIMEOUT).with_clock(clock.clone())
}

#[tokio::test]
async fn wait_retries_the_named_error_then_succeeds() {
    let clock = Arc::new(FakeClock::default());
    let calls = AtomicU32::new(0);
    let out = fake_wait(&clock)
        .retry_while(
            "CreateRole",
            || async {
                if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                    Err(api(
                        "MalformedPolicyDocument",
                        "Invalid principal in policy",
                    ))
                } else {
                    Ok("created")
                }
            },
            is_invalid_principal,
            |e| e,
        )
        .await;
    assert_eq!(out.unwrap(), "created");
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert_eq!(
        clock.sleeps(),
        [500, 1000, 2000].map(Duration::from_millis).to_vec()
    );
}

#[tokio::test]
async fn wait_fails_at_once_on_an_unrelated_error() {
    let clock = Arc::new(FakeClock::default());
    let calls = AtomicU32::new(0);
    let out: Result<(), _> = fake_wait(&clock)
        .retry_while(
            "CreateRole",
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(api("MalformedPolicyDocument", "Syntax errors in policy."))
            },
            is_invalid_principal,
            |e| e,
        )
        .await;
    assert!(matches!(out, Err(AwsError::MalformedPolicy { .. })));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn wait_gives_up_when_the_budget_is_spent() {
    let clock = Arc::new(FakeClock::default());
    let calls = AtomicU32::new(0);
    let out: Result<(), _> = PropagationWait::new(Duration::from_secs(20))
        .with_clock(clock.clone())
        .retry_while(
            "DeleteRole",
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(api("DeleteConflict", "must detach all policies first"))
            },
            is_delete_conflict,
            |e| e,
        )
        .await;
    assert!(matches!(out, Err(AwsError::Conflict { .. })));
    let slept: Duration = clock.sleeps().iter().sum();
    assert!(slept <= Duration::from_secs(20), "{slept:?}");
    // 0.5 + 1 + 2 + 4 + 5 + 5 = 17.5 s; the next 5 s would cross 20 s.
    assert_eq!(calls.load(Ordering::SeqCst), 7);
}

/// An IAM answer with an XML body.
pub(super) fn xml(status: u16, body: String) -> Reply {
    Reply::Respond {
        status,
        headers: vec![("content-type".into(), "text/xml".into())],
        body,
    }
}

/// An IAM error answer with `code`.
pub(super) fn iam_error(code: &str, message: &str) -> Reply {
    // The SDK takes the request id from the header, as IAM sends it.
    let mut reply = xml(
        400,
        format!(
            r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>req-{code}</RequestId></ErrorResponse>"#
        ),
    );
    if let Reply::Respond { headers, .. } = &mut reply {
        headers.push(("x-amzn-requestid".into(), format!("req-{code}")));
    }
    reply
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[]}"#;

fn created_role() -> Reply {
    xml(
        200,
        r#"<CreateRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateRoleResult><Role>
<Path>/</Path><RoleName>r</RoleName><RoleId>AROAEXAMPLE</RoleId><Arn>arn:aws:iam::123456789012:role/r</Arn>
<CreateDate>2026-01-01T00:00:00Z</CreateDate><AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D</AssumeRolePolicyDocument>
</Role></CreateRoleResult><ResponseMetadata><RequestId>req-ok</RequestId></ResponseMetadata></CreateRoleResponse>"#
            .to_owned(),
    )
}

/// An IAM client of `server` whose propagation waits run on `clock`.
pub(super) async fn client(server: &MockServer, clock: &Arc<FakeClock>) -> IamClient {
    let config = AwsConfig {
        region: Some("us-east-1".into()),
        access_key: Some("AKIDEXAMPLE".into()),
        secret_key: Some(Secret::new("iam-test-secret")),
        endpoints: AwsEndpoints {
            iam: Some(server.base_url.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    AwsClients::new(&config)
        .await
        .unwrap()
        .iam()
        .with_wait(fake_wait(clock))
}

fn new_role() -> NewRole {
    NewRole {
        name: "r".into(),
        trust_policy: TRUST.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn create_role_waits_out_invalid_principal() {
    let server = MockServer::start().await;
    for _ in 0..2 {
        server.push(iam_error(
            "MalformedPolicyDocument",
            "Invalid principal in policy: \"Federated\":\"arn:aws:iam::123456789012:oidc-provider/x\"",
        ));
    }
    server.push(created_role());
    let clock = Arc::new(FakeClock::default());
    let role = client(&server, &clock)
        .await
        .create_role(&new_role())
        .await
        .unwrap();
    assert_eq!(role.arn, "arn:aws:iam::123456789012:role/r");
    assert_eq!(role.trust_policy, TRUST);
    assert_eq!(server.requests().len(), 3);
    assert_eq!(clock.sleeps().len(), 2);
}

#[tokio::test]
async fn create_role_maps_already_exists_without_retrying() {
    let server = MockServer::start().await;
    server.push(iam_error(
        "EntityAlreadyExists",
        "Role with name r already exists.",
    ));
    let clock = Arc::new(FakeClock::default());
    let err = client(&server, &clock)
        .await
        .create_role(&new_role())
        .await
        .unwrap_err();
    match &err {
        AwsError::AlreadyExists {
            operation,
            request_id,
            ..
        } => {
            assert_eq!(operation, "CreateRole");
            assert_eq!(request_id.as_deref(), Some("req-EntityAlreadyExists"));
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert!(!err.to_string().contains("iam-test-secret"));
    // CreateRole once, then GetRole to see whether a lost answer of our own made the role: the
    // mock has no role to show, so the role is someone else's and the error stands.
    assert_eq!(server.requests().len(), 2);
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn get_role_opt_turns_no_such_entity_into_none() {
    let server = MockServer::start().await;
    server.push(iam_error(
        "NoSuchEntity",
        "The role with name r cannot be found.",
    ));
    let clock = Arc::new(FakeClock::default());
    assert_eq!(
        client(&server, &clock)
            .await
            .get_role_opt("r")
            .await
            .unwrap(),
        None
    );
}
