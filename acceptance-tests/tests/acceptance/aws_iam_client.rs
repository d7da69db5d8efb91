//! The provider's IAM client (`terraform_provider_multicloud::aws::IamClient`) against moto
//! with the project's extension: the calls the OIDC trust resource makes, end to end.

// Test code: a failed call should fail the test with its error, which unwrap prints.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::future::Future;

use crate::common::moto_alone::start_with_runtime as start;
use acceptance_tests::skip_unless_acc;
use serde_json::json;
use terraform_provider_multicloud::aws::iam::{NewOidcProvider, NewRole, policy_documents_equal};
use terraform_provider_multicloud::aws::{
    AwsClients, AwsConfig, AwsEndpoints, AwsError, IamClient,
};
use terraform_provider_multicloud::secret::Secret;

const SECURITY_AUDIT: &str = "arn:aws:iam::aws:policy/SecurityAudit";

/// Runs async client code; moto's own (blocking) helpers are called between these blocks.
fn run<F: Future>(rt: &tokio::runtime::Runtime, f: F) -> F::Output {
    rt.block_on(f)
}

async fn iam(moto_url: &str) -> IamClient {
    let config = AwsConfig {
        region: Some("us-east-1".into()),
        access_key: Some("AKIAIAMCLIENTTEST".into()),
        secret_key: Some(Secret::new("iam-client-test-secret")),
        endpoints: AwsEndpoints {
            iam: Some(moto_url.to_owned()),
            sts: Some(moto_url.to_owned()),
            ..Default::default()
        },
        ..Default::default()
    };
    AwsClients::new(&config).await.expect("AWS clients").iam()
}

fn trust(provider_arn: &str, aud: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"sts.windows.net/tenant-1/:aud": aud}}}]})
    .to_string()
}

const INLINE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/100%/*"}]}"#;

#[test]
fn acc_aws_iam_client_lifecycle() {
    skip_unless_acc!();
    let (moto, _dir, rt) = start();
    let url = "https://sts.windows.net/tenant-1/";
    let provider_arn = run(&rt, async {
        let iam = iam(moto.url()).await;
        assert_eq!(iam.find_oidc_provider_by_url(url).await.unwrap(), None);
        let arn = iam
            .create_oidc_provider(&NewOidcProvider {
                url: url.into(),
                client_ids: vec!["api://aud-a".into()],
                tags: BTreeMap::from([("owner".into(), "test".into())]),
                ..Default::default()
            })
            .await
            .unwrap();
        // One provider per URL: a second create is AlreadyExists, and find reuses it.
        let again = iam
            .create_oidc_provider(&NewOidcProvider {
                url: url.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert!(matches!(again, AwsError::AlreadyExists { .. }), "{again:?}");
        let found = iam
            .find_oidc_provider_by_url(url)
            .await
            .unwrap()
            .expect("found");
        assert_eq!(found.arn, arn);
        assert_eq!(found.url, "sts.windows.net/tenant-1/");
        assert_eq!(found.client_ids, ["api://aud-a"]);
        assert_eq!(found.tags.get("owner").map(String::as_str), Some("test"));
        iam.add_oidc_client_id(&arn, "api://aud-b").await.unwrap();
        let p = iam
            .get_oidc_provider_opt(&arn)
            .await
            .unwrap()
            .expect("provider");
        assert_eq!(p.client_ids, ["api://aud-a", "api://aud-b"]);

        let role = iam
            .create_role_with_policies(
                &NewRole {
                    name: "DefenderCspm".into(),
                    description: Some("test role".into()),
                    trust_policy: trust(&arn, "api://aud-a"),
                    max_session_duration: Some(3600),
                    tags: BTreeMap::from([("k".into(), "v".into())]),
                    ..Default::default()
                },
                &BTreeMap::from([("inline".into(), INLINE.into())]),
                &[SECURITY_AUDIT.into()],
            )
            .await
            .unwrap();
        assert!(role.arn.ends_with(":role/DefenderCspm"), "{}", role.arn);
        let read = iam.wait_role_visible("DefenderCspm").await.unwrap();
        assert!(policy_documents_equal(
            &read.trust_policy,
            &trust(&arn, "api://aud-a")
        ));
        assert_eq!(read.description.as_deref(), Some("test role"));
        let doc = iam
            .get_role_policy_opt("DefenderCspm", "inline")
            .await
            .unwrap();
        assert!(policy_documents_equal(&doc.expect("inline policy"), INLINE));
        assert_eq!(
            iam.list_role_policies("DefenderCspm").await.unwrap(),
            ["inline"]
        );
        let attached = iam
            .list_attached_role_policies("DefenderCspm")
            .await
            .unwrap();
        assert_eq!(attached.len(), 1);
        assert_eq!(attached[0].arn, SECURITY_AUDIT);

        iam.update_trust_policy("DefenderCspm", &trust(&arn, "api://aud-b"))
            .await
            .unwrap();
        let read = iam
            .get_role_opt("DefenderCspm")
            .await
            .unwrap()
            .expect("role");
        assert!(policy_documents_equal(
            &read.trust_policy,
            &trust(&arn, "api://aud-b")
        ));
        arn
    });
    assert_eq!(moto.iam_role_names(), ["DefenderCspm"]);

    run(&rt, async {
        let iam = iam(moto.url()).await;
        assert!(iam.delete_role("DefenderCspm").await.unwrap());
        assert_eq!(iam.get_role_opt("DefenderCspm").await.unwrap(), None);
        assert!(
            !iam.delete_role("DefenderCspm").await.unwrap(),
            "second delete is a no-op"
        );
        assert_eq!(
            iam.get_role_policy_opt("DefenderCspm", "inline")
                .await
                .unwrap(),
            None
        );
        assert!(iam.delete_oidc_provider(&provider_arn).await.unwrap());
        assert_eq!(
            iam.get_oidc_provider_opt(&provider_arn).await.unwrap(),
            None
        );
        assert!(!iam.delete_oidc_provider(&provider_arn).await.unwrap());
    });
    assert!(moto.iam_role_names().is_empty());
    assert!(moto.iam_oidc_provider_arns().is_empty());
}

#[test]
fn acc_aws_iam_client_compensates_a_failed_policy_step() {
    skip_unless_acc!();
    let (moto, _dir, rt) = start();
    let err = run(&rt, async {
        iam(moto.url())
            .await
            .create_role_with_policies(
                &NewRole {
                    name: "HalfCreated".into(),
                    trust_policy: trust("arn:aws:iam::123456789012:oidc-provider/x", "a"),
                    ..Default::default()
                },
                &BTreeMap::new(),
                &["arn:aws:iam::aws:policy/NoSuchPolicyAnywhere".into()],
            )
            .await
            .unwrap_err()
    });
    assert!(err.is_not_found(), "{err:?}");
    assert!(
        moto.iam_role_names().is_empty(),
        "the role must be deleted again"
    );
}

#[test]
fn acc_aws_iam_client_throttling_is_retried() {
    skip_unless_acc!();
    let (moto, _dir, rt) = start();
    moto.query(
        "iam",
        "CreateRole",
        &[
            ("RoleName", "throttled"),
            (
                "AssumeRolePolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[]}"#,
            ),
        ],
    );
    moto.reset_calls();
    moto.add_fault(json!({"service": "iam", "action": "GetRole", "count": 2}));
    let role = run(&rt, async {
        iam(moto.url())
            .await
            .get_role_opt("throttled")
            .await
            .unwrap()
    });
    assert_eq!(role.map(|r| r.name).as_deref(), Some("throttled"));
    assert_eq!(
        moto.call_count("iam", "GetRole"),
        3,
        "two throttled, one served"
    );

    // More throttling than the retryer's attempts: a Throttled error naming the operation.
    moto.reset_calls();
    moto.add_fault(json!({"service": "iam", "action": "GetRole", "count": 10}));
    let err = run(&rt, async {
        iam(moto.url())
            .await
            .get_role_opt("throttled")
            .await
            .unwrap_err()
    });
    assert!(matches!(err, AwsError::Throttled { .. }), "{err:?}");
    assert!(err.to_string().contains("GetRole"), "{err}");
    assert_eq!(moto.call_count("iam", "GetRole"), 3);
}

#[test]
fn acc_aws_iam_client_adopts_a_role_whose_every_answer_was_lost() {
    skip_unless_acc!();
    let (moto, _dir, rt) = start();
    // The first attempt makes the role and loses its answer; the SDK's two retries are
    // dropped too, so the call ends with no answer at all while the role exists.
    moto.add_fault(
        json!({"service": "iam", "action": "CreateRole", "count": 1, "drop_after": true}),
    );
    moto.add_fault(json!({"service": "iam", "action": "CreateRole", "count": 2, "drop": true}));
    let new = NewRole {
        name: "Unanswered".into(),
        trust_policy: trust("arn:aws:iam::123456789012:oidc-provider/x", "a"),
        ..Default::default()
    };
    let role = run(&rt, async {
        iam(moto.url()).await.create_role(&new).await.unwrap()
    });
    assert_eq!(role.name, "Unanswered");
    assert_eq!(moto.call_count("iam", "CreateRole"), 3);
    assert_eq!(moto.iam_role_names(), ["Unanswered"]);

    // A role someone else made earlier with that name is still refused, answers or not.
    moto.add_fault(json!({"service": "iam", "action": "CreateRole", "count": 3, "drop": true}));
    std::thread::sleep(std::time::Duration::from_secs(3));
    let err = run(&rt, async {
        iam(moto.url()).await.create_role(&new).await.unwrap_err()
    });
    assert!(matches!(err, AwsError::Unreachable { .. }), "{err:?}");
}
