//! IAM writes whose answer is lost, against a loopback mock IAM endpoint that reads each
//! request and then hangs up (as if it had processed it): idempotent writes are sent again,
//! creates adopt only the object their own lost attempt made, and a lost `CreateAccessKey`
//! leaves no key behind whose secret nobody has.

use super::tests::{client, iam_error, xml};
use super::*;
use crate::aws::resend::MAX_RESENDS;
use crate::http::mock_server::{MockServer, Reply};
use crate::http::retry::tests::FakeClock;
use aws_sdk_iam::primitives::{DateTime, DateTimeFormat};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Attempts the SDK makes per call (the provider's default retry configuration).
const SDK_ATTEMPTS: u32 = crate::aws::config::DEFAULT_MAX_ATTEMPTS;
const NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
const ISSUER: &str = "https://sts.windows.net/33e01921-4d64-4f8c-a055-5bdaffd5e33d/";
const PROVIDER_ARN: &str =
    "arn:aws:iam::123456789012:oidc-provider/sts.windows.net/33e01921-4d64-4f8c-a055-5bdaffd5e33d/";

/// A successful answer of `action` with `result` inside its result element.
fn ok(action: &str, result: &str) -> Reply {
    xml(
        200,
        format!(
            r#"<{action}Response xmlns="{NS}"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>req-ok</RequestId></ResponseMetadata></{action}Response>"#
        ),
    )
}

/// Every attempt of one SDK call hangs up without an answer.
fn lose_every_attempt(server: &MockServer) {
    for _ in 0..SDK_ATTEMPTS {
        server.push(Reply::Drop);
    }
}

fn iso(t: SystemTime) -> String {
    DateTime::from(t)
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default()
}

fn actions(server: &MockServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| {
            r.body
                .split('&')
                .find_map(|p| p.strip_prefix("Action="))
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn an_idempotent_write_is_sent_again_when_every_attempt_lost_its_answer() {
    let server = MockServer::start().await;
    lose_every_attempt(&server);
    server.push(ok("PutRolePolicy", ""));
    let clock = Arc::new(FakeClock::default());
    client(&server, &clock)
        .await
        .put_role_policy("r", "p", r#"{"Version":"2012-10-17","Statement":[]}"#)
        .await
        .unwrap();
    assert_eq!(actions(&server), vec!["PutRolePolicy"; 4]);
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(1)]);
}

#[tokio::test]
async fn a_delete_whose_resend_finds_nothing_was_done_by_the_lost_attempt() {
    let server = MockServer::start().await;
    lose_every_attempt(&server);
    server.push(iam_error(
        "NoSuchEntity",
        "OpenIDConnect provider not found",
    ));
    let clock = Arc::new(FakeClock::default());
    let existed = client(&server, &clock)
        .await
        .delete_oidc_provider(PROVIDER_ARN)
        .await
        .unwrap();
    assert!(!existed, "already gone when the resend arrived");
    assert_eq!(actions(&server), vec!["DeleteOpenIDConnectProvider"; 4]);
}

#[tokio::test]
async fn resending_stops_after_the_bound() {
    let server = MockServer::start().await;
    for _ in 0..(1 + MAX_RESENDS) * SDK_ATTEMPTS {
        server.push(Reply::Drop);
    }
    let clock = Arc::new(FakeClock::default());
    let err = client(&server, &clock)
        .await
        .attach_role_policy("r", "arn:aws:iam::aws:policy/SecurityAudit")
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::Unreachable { .. }), "{err:?}");
    assert_eq!(clock.sleeps().len() as u32, MAX_RESENDS);
}

fn provider(created: SystemTime, audiences: &[&str]) -> [Reply; 2] {
    let members: String = audiences
        .iter()
        .map(|a| format!("<member>{a}</member>"))
        .collect();
    [
        ok(
            "ListOpenIDConnectProviders",
            &format!(
                "<OpenIDConnectProviderList><member><Arn>{PROVIDER_ARN}</Arn></member></OpenIDConnectProviderList>"
            ),
        ),
        ok(
            "GetOpenIDConnectProvider",
            &format!(
                "<Url>{}</Url><ClientIDList>{members}</ClientIDList><ThumbprintList/><CreateDate>{}</CreateDate>",
                &ISSUER["https://".len()..],
                iso(created)
            ),
        ),
    ]
}

fn new_provider() -> NewOidcProvider {
    NewOidcProvider {
        url: ISSUER.into(),
        client_ids: vec!["api://a".into(), "api://b".into()],
        thumbprints: vec![],
        tags: Default::default(),
    }
}

#[tokio::test]
async fn a_provider_made_by_our_own_lost_create_is_adopted() {
    let server = MockServer::start().await;
    // The first attempt made the provider; its answer was lost; the SDK's retry is refused.
    server.push(Reply::Drop);
    server.push(iam_error(
        "EntityAlreadyExists",
        "Provider with url already exists.",
    ));
    for r in provider(SystemTime::now(), &["api://b", "api://a"]) {
        server.push(r);
    }
    let clock = Arc::new(FakeClock::default());
    let arn = client(&server, &clock)
        .await
        .create_oidc_provider(&new_provider())
        .await
        .unwrap();
    assert_eq!(arn, PROVIDER_ARN);
}

#[tokio::test]
async fn a_provider_that_existed_before_the_call_stays_already_existing() {
    for (created, audiences) in [
        // Dated before our call: someone else's, to be imported or reused deliberately.
        (
            SystemTime::now() - Duration::from_secs(3_600),
            vec!["api://a", "api://b"],
        ),
        // Made just now, but not with the audiences we sent.
        (SystemTime::now(), vec!["api://other"]),
    ] {
        let server = MockServer::start().await;
        server.push(iam_error(
            "EntityAlreadyExists",
            "Provider with url already exists.",
        ));
        for r in provider(created, &audiences) {
            server.push(r);
        }
        let clock = Arc::new(FakeClock::default());
        let err = client(&server, &clock)
            .await
            .create_oidc_provider(&new_provider())
            .await
            .unwrap_err();
        assert!(matches!(err, AwsError::AlreadyExists { .. }), "{err:?}");
    }
}

fn keys(ids: &[&str]) -> Reply {
    let members: String = ids
        .iter()
        .map(|id| {
            format!("<member><UserName>u</UserName><AccessKeyId>{id}</AccessKeyId><Status>Active</Status></member>")
        })
        .collect();
    ok(
        "ListAccessKeys",
        &format!(
            "<AccessKeyMetadata>{members}</AccessKeyMetadata><IsTruncated>false</IsTruncated>"
        ),
    )
}

#[tokio::test]
async fn a_lost_access_key_is_deleted_and_the_key_created_again() {
    let server = MockServer::start().await;
    server.push(keys(&["AKIAKEEP"]));
    lose_every_attempt(&server);
    // The lost attempt made AKIALOST, whose secret only its answer held.
    server.push(keys(&["AKIAKEEP", "AKIALOST"]));
    server.push(ok("DeleteAccessKey", ""));
    server.push(ok(
        "CreateAccessKey",
        "<AccessKey><UserName>u</UserName><AccessKeyId>AKIANEW</AccessKeyId><Status>Active</Status><SecretAccessKey>new-secret-value</SecretAccessKey></AccessKey>",
    ));
    server.push(keys(&["AKIAKEEP", "AKIANEW"]));
    let clock = Arc::new(FakeClock::default());
    let key = client(&server, &clock)
        .await
        .create_access_key("u")
        .await
        .unwrap();
    assert_eq!(key.id, "AKIANEW");
    assert_eq!(key.secret.expose(), "new-secret-value");
    let mut expected = vec!["ListAccessKeys"];
    expected.extend(vec!["CreateAccessKey"; SDK_ATTEMPTS as usize]);
    expected.extend([
        "ListAccessKeys",
        "DeleteAccessKey",
        "CreateAccessKey",
        "ListAccessKeys",
    ]);
    assert_eq!(actions(&server), expected);
    let deleted = &server.requests()[1 + SDK_ATTEMPTS as usize + 1];
    assert!(
        deleted.body.contains("AccessKeyId=AKIALOST"),
        "{}",
        deleted.body
    );
}

#[tokio::test]
async fn a_retry_refused_at_the_key_limit_by_our_own_lost_key_deletes_it_and_creates_again() {
    let server = MockServer::start().await;
    // A rotation: the user holds one key; the lost attempt made the second; the SDK's retry
    // is refused because two is the limit.
    server.push(keys(&["AKIAOLD"]));
    server.push(Reply::Drop);
    server.push(iam_error(
        "LimitExceeded",
        "Cannot exceed quota for AccessKeysPerUser: 2",
    ));
    server.push(keys(&["AKIALOST", "AKIAOLD"]));
    server.push(ok("DeleteAccessKey", ""));
    server.push(ok(
        "CreateAccessKey",
        "<AccessKey><UserName>u</UserName><AccessKeyId>AKIANEW</AccessKeyId><Status>Active</Status><SecretAccessKey>rotated-secret-value</SecretAccessKey></AccessKey>",
    ));
    server.push(keys(&["AKIANEW", "AKIAOLD"]));
    let clock = Arc::new(FakeClock::default());
    let key = client(&server, &clock)
        .await
        .create_access_key("u")
        .await
        .unwrap();
    assert_eq!(key.id, "AKIANEW");
    let requests = server.requests();
    assert!(
        requests[4].body.contains("AccessKeyId=AKIALOST"),
        "{}",
        requests[4].body
    );
    assert_eq!(requests.len(), 7);

    // A user who really holds two keys keeps both, and the limit stands.
    let server = MockServer::start().await;
    server.push(keys(&["AKIAONE", "AKIATWO"]));
    server.push(iam_error(
        "LimitExceeded",
        "Cannot exceed quota for AccessKeysPerUser: 2",
    ));
    server.push(keys(&["AKIAONE", "AKIATWO"]));
    let err = client(&server, &clock)
        .await
        .create_access_key("u")
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::LimitExceeded { .. }), "{err:?}");
    assert_eq!(
        server.requests().len(),
        3,
        "nothing deleted, nothing resent"
    );
}
