//! The provider's CloudFormation client (`terraform_provider_multicloud::aws::CloudFormationClient`)
//! against moto with the project's extension: the stack the OIDC trust resource deploys in
//! its `cloudformation` mode (an OIDC provider and a role trusting it), created, updated,
//! failed and deleted, with IAM checked after every step.

// Test code: a failed call should fail the test with its error, which unwrap prints.
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::time::Duration;

use crate::common::moto_alone::start_with_runtime as start;
use acceptance_tests::skip_unless_acc;
use serde_json::json;
use terraform_provider_multicloud::aws::cloudformation::{
    NewStack, OperationKind, StackStatus, StackWait,
};
use terraform_provider_multicloud::aws::iam::policy_documents_equal;
use terraform_provider_multicloud::aws::{
    AwsClients, AwsConfig, AwsEndpoints, AwsError, CloudFormationClient, IamClient,
};
use terraform_provider_multicloud::secret::Secret;

const SECURITY_AUDIT: &str = "arn:aws:iam::aws:policy/SecurityAudit";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
/// A managed policy that exists nowhere: attaching it fails in AWS as in moto.
const MISSING_POLICY: &str = "arn:aws:iam::aws:policy/NoSuchPolicyAnywhere";
const ISSUER: &str = "https://sts.windows.net/cfn-tenant/";
const ROLE: &str = "DefenderCspmCfn";

/// Runs async client code; moto's own (blocking) helpers are called between these blocks.
fn run<F: Future>(rt: &tokio::runtime::Runtime, f: F) -> F::Output {
    rt.block_on(f)
}

async fn clients(moto_url: &str) -> (CloudFormationClient, IamClient) {
    let config = AwsConfig {
        region: Some("us-east-1".into()),
        access_key: Some("AKIACFNCLIENTTEST".into()),
        secret_key: Some(Secret::new("cfn-client-test-secret")),
        endpoints: AwsEndpoints {
            iam: Some(moto_url.to_owned()),
            sts: Some(moto_url.to_owned()),
            cloudformation: Some(moto_url.to_owned()),
            ..Default::default()
        },
        ..Default::default()
    };
    let aws = AwsClients::new(&config).await.expect("AWS clients");
    // moto settles every operation before answering; short polls keep the test quick.
    let wait = StackWait::new(Duration::from_secs(60))
        .with_delays(Duration::from_millis(20), Duration::from_millis(200));
    (aws.cloudformation().with_wait(wait), aws.iam())
}

/// The single-account trust stack: an OIDC provider and a role federated to it, with the
/// audience condition, managed policies and (optionally) an inline policy.
fn template(audience: &str, managed: &[&str], inline: bool) -> String {
    let key = ISSUER.trim_start_matches("https://");
    let mut role = json!({
        "RoleName": ROLE,
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": {"Ref": "Provider"}},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {format!("{key}:aud"): audience}}}]},
        "ManagedPolicyArns": managed,
    });
    if inline {
        role["Policies"] = json!([{"PolicyName": "inline", "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}]);
    }
    json!({
        "Resources": {
            "Provider": {"Type": "AWS::IAM::OIDCProvider", "Properties": {
                "Url": ISSUER, "ClientIdList": [audience], "ThumbprintList": []}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": role}},
        "Outputs": {
            "RoleArn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}},
            "ProviderArn": {"Value": {"Fn::GetAtt": ["Provider", "Arn"]}}}
    })
    .to_string()
}

fn trust_has_audience(iam_trust: &str, provider_arn: &str, audience: &str) -> bool {
    let key = ISSUER.trim_start_matches("https://");
    let expected = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {format!("{key}:aud"): audience}}}]});
    policy_documents_equal(iam_trust, &expected.to_string())
}

#[test]
fn acc_aws_cloudformation_client_lifecycle() {
    skip_unless_acc!();
    let (moto, _dir, rt) = start();
    let first = template("api://aud-1", &[SECURITY_AUDIT], true);
    let provider_arn = run(&rt, async {
        let (cfn, iam) = clients(moto.url()).await;
        assert_eq!(cfn.describe_stack_opt("trust").await.unwrap(), None);

        let stack = cfn
            .create_stack_and_wait(&NewStack::new("trust", &first).with_tag("owner", "test"))
            .await
            .unwrap();
        assert_eq!(stack.status, StackStatus::CreateComplete);
        assert_eq!(stack.name, "trust");
        assert_eq!(stack.tags.get("owner").map(String::as_str), Some("test"));
        let role_arn = stack.outputs.get("RoleArn").expect("RoleArn output");
        assert!(role_arn.ends_with(&format!(":role/{ROLE}")), "{role_arn}");
        let provider_arn = stack
            .outputs
            .get("ProviderArn")
            .expect("ProviderArn output")
            .clone();
        assert!(provider_arn.ends_with(":oidc-provider/sts.windows.net/cfn-tenant/"));

        // IAM holds what the template declares.
        let provider = iam
            .get_oidc_provider_opt(&provider_arn)
            .await
            .unwrap()
            .expect("provider");
        assert_eq!(provider.client_ids, ["api://aud-1"]);
        let role = iam.get_role_opt(ROLE).await.unwrap().expect("role");
        assert!(
            trust_has_audience(&role.trust_policy, &provider_arn, "api://aud-1"),
            "{}",
            role.trust_policy
        );
        let attached = iam.list_attached_role_policies(ROLE).await.unwrap();
        assert_eq!(
            attached.iter().map(|p| p.arn.as_str()).collect::<Vec<_>>(),
            [SECURITY_AUDIT]
        );
        assert_eq!(iam.list_role_policies(ROLE).await.unwrap(), ["inline"]);

        let body = cfn.get_template_body("trust").await.unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
            serde_json::from_str::<serde_json::Value>(&first).unwrap()
        );
        let mut resources = cfn.list_stack_resources("trust").await.unwrap();
        resources.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
        let kinds: Vec<(&str, &str)> = resources
            .iter()
            .map(|r| (r.logical_id.as_str(), r.resource_type.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("Provider", "AWS::IAM::OIDCProvider"),
                ("Role", "AWS::IAM::Role")
            ]
        );
        assert_eq!(resources[1].physical_id.as_deref(), Some(ROLE));

        // Update: a new audience (provider and trust policy), other managed policies, no
        // inline policy.
        let second = template("api://aud-2", &[READ_ONLY], false);
        let update = cfn
            .update_stack_and_wait(&NewStack::new("trust", &second).with_tag("owner", "test"))
            .await
            .unwrap();
        assert!(update.changed);
        assert_eq!(update.stack.status, StackStatus::UpdateComplete);
        let provider = iam
            .get_oidc_provider_opt(&provider_arn)
            .await
            .unwrap()
            .expect("provider");
        assert_eq!(provider.client_ids, ["api://aud-2"]);
        let role = iam.get_role_opt(ROLE).await.unwrap().expect("role");
        assert!(
            trust_has_audience(&role.trust_policy, &provider_arn, "api://aud-2"),
            "{}",
            role.trust_policy
        );
        let attached = iam.list_attached_role_policies(ROLE).await.unwrap();
        assert_eq!(
            attached.iter().map(|p| p.arn.as_str()).collect::<Vec<_>>(),
            [READ_ONLY]
        );
        assert!(iam.list_role_policies(ROLE).await.unwrap().is_empty());

        // The same template again: nothing to do, in both forms of the call.
        let again = NewStack::new("trust", &second).with_tag("owner", "test");
        let noop = cfn.update_stack_and_wait(&again).await.unwrap();
        assert!(!noop.changed);
        assert_eq!(noop.stack.status, StackStatus::UpdateComplete);
        assert!(!cfn.update_stack(&again).await.unwrap());
        provider_arn
    });
    assert_eq!(moto.cloudformation_stack_names(), ["trust"]);

    run(&rt, async {
        let (cfn, iam) = clients(moto.url()).await;
        assert!(cfn.delete_stack_and_wait("trust").await.unwrap());
        assert_eq!(cfn.describe_stack_opt("trust").await.unwrap(), None);
        assert_eq!(iam.get_role_opt(ROLE).await.unwrap(), None);
        assert_eq!(
            iam.get_oidc_provider_opt(&provider_arn).await.unwrap(),
            None
        );
        assert!(
            !cfn.delete_stack_and_wait("trust").await.unwrap(),
            "second delete is a no-op"
        );
        assert!(!cfn.delete_stack("trust").await.unwrap());
    });
    assert!(moto.cloudformation_stack_names().is_empty());
    assert!(moto.iam_role_names().is_empty());
    assert!(moto.iam_oidc_provider_arns().is_empty());
}

#[test]
fn acc_aws_cloudformation_client_failed_create_rolls_back() {
    skip_unless_acc!();
    let (moto, _dir, rt) = start();
    run(&rt, async {
        let (cfn, _iam) = clients(moto.url()).await;
        let bad = NewStack::new("trust", template("api://aud-1", &[MISSING_POLICY], false));
        let err = cfn.create_stack_and_wait(&bad).await.unwrap_err();
        let failure = err
            .stack_failure()
            .unwrap_or_else(|| panic!("expected StackFailed, got {err:?}"));
        assert_eq!(failure.status, StackStatus::RollbackComplete);
        assert_eq!(failure.operation, OperationKind::Create);
        assert_eq!(failure.failed_logical_ids(), ["Role"]);
        let text = err.to_string();
        assert!(text.contains("ended in ROLLBACK_COMPLETE"), "{text}");
        assert!(
            text.contains("Role (AWS::IAM::Role) CREATE_FAILED"),
            "{text}"
        );
        assert!(text.contains(MISSING_POLICY), "{text}");
        assert!(text.contains("can only be deleted"), "{text}");
        assert!(!text.contains("cfn-client-test-secret"));

        // The stack is left in ROLLBACK_COMPLETE: not updatable, its name still taken.
        let stuck = cfn
            .describe_stack_opt("trust")
            .await
            .unwrap()
            .expect("stack");
        assert!(stuck.status.is_failed_create());
        let good = NewStack::new("trust", template("api://aud-1", &[SECURITY_AUDIT], false));
        let update = cfn.update_stack(&good).await.unwrap_err();
        assert!(matches!(update, AwsError::Invalid { .. }), "{update:?}");
        assert!(
            update.to_string().contains("can only be deleted"),
            "{update}"
        );
        let create = cfn.create_stack(&good).await.unwrap_err();
        assert!(
            matches!(create, AwsError::AlreadyExists { .. }),
            "{create:?}"
        );

        // Recovery: the failed stack is deleted, then the create goes through.
        let removed = cfn
            .delete_failed_create("trust")
            .await
            .unwrap()
            .expect("removed");
        assert_eq!(removed.status, StackStatus::RollbackComplete);
        assert!(removed.status_reason.unwrap_or_default().contains("[Role]"));
        let stack = cfn.create_stack_and_wait(&good).await.unwrap();
        assert_eq!(stack.status, StackStatus::CreateComplete);
        assert_eq!(
            cfn.delete_failed_create("trust").await.unwrap(),
            None,
            "a healthy stack is left alone"
        );
    });
    // The rollback removed the provider it had created; the retry created one again.
    assert_eq!(moto.iam_role_names(), [ROLE]);
    assert_eq!(moto.iam_oidc_provider_arns().len(), 1);
}

#[test]
fn acc_aws_cloudformation_client_failed_update_and_delete() {
    skip_unless_acc!();
    let (moto, _dir, rt) = start();
    let provider_arn = run(&rt, async {
        let (cfn, iam) = clients(moto.url()).await;
        let stack = cfn
            .create_stack_and_wait(&NewStack::new(
                "trust",
                template("api://aud-1", &[SECURITY_AUDIT], false),
            ))
            .await
            .unwrap();
        let provider_arn = stack.outputs["ProviderArn"].clone();

        // A failing update is rolled back; the error shows the update's events only.
        let bad = NewStack::new("trust", template("api://aud-2", &[MISSING_POLICY], false));
        let err = cfn.update_stack_and_wait(&bad).await.unwrap_err();
        let failure = err
            .stack_failure()
            .unwrap_or_else(|| panic!("expected StackFailed, got {err:?}"));
        assert_eq!(failure.status, StackStatus::UpdateRollbackComplete);
        assert_eq!(failure.failed_logical_ids(), ["Role"]);
        assert!(
            failure
                .events
                .iter()
                .all(|e| !e.status.starts_with("CREATE_")),
            "events of the earlier create leaked in: {:?}",
            failure.events
        );
        let text = err.to_string();
        assert!(
            text.contains("Role (AWS::IAM::Role) UPDATE_FAILED"),
            "{text}"
        );
        assert!(text.contains(MISSING_POLICY), "{text}");
        // IAM is back to the previous template.
        let role = iam.get_role_opt(ROLE).await.unwrap().expect("role");
        assert!(
            trust_has_audience(&role.trust_policy, &provider_arn, "api://aud-1"),
            "{}",
            role.trust_policy
        );
        let attached = iam.list_attached_role_policies(ROLE).await.unwrap();
        assert_eq!(
            attached.iter().map(|p| p.arn.as_str()).collect::<Vec<_>>(),
            [SECURITY_AUDIT]
        );

        // The stack is healthy again and takes the next good update.
        let good = NewStack::new("trust", template("api://aud-1", &[READ_ONLY], false));
        assert!(cfn.update_stack_and_wait(&good).await.unwrap().changed);

        // A policy attached outside the stack blocks the role's deletion, as in AWS.
        iam.attach_role_policy(ROLE, SECURITY_AUDIT).await.unwrap();
        let err = cfn.delete_stack_and_wait("trust").await.unwrap_err();
        let failure = err
            .stack_failure()
            .unwrap_or_else(|| panic!("expected StackFailed, got {err:?}"));
        assert_eq!(failure.status, StackStatus::DeleteFailed);
        assert_eq!(failure.operation, OperationKind::Delete);
        assert_eq!(failure.failed_logical_ids(), ["Role"]);
        assert!(err.to_string().contains("DeleteConflict"), "{err}");
        let left = cfn
            .describe_stack_opt("trust")
            .await
            .unwrap()
            .expect("stack kept");
        assert_eq!(left.status, StackStatus::DeleteFailed);

        iam.detach_role_policy(ROLE, SECURITY_AUDIT).await.unwrap();
        assert!(cfn.delete_stack_and_wait("trust").await.unwrap());
        provider_arn
    });
    assert!(moto.cloudformation_stack_names().is_empty());
    assert!(moto.iam_role_names().is_empty());
    assert!(!moto.iam_oidc_provider_arns().contains(&provider_arn));
}

#[test]
fn acc_aws_cloudformation_client_throttled_polls_are_retried() {
    skip_unless_acc!();
    let (moto, _dir, rt) = start();
    moto.reset_calls();
    moto.add_fault(json!({"service": "cloudformation", "action": "DescribeStacks", "count": 2}));
    let stack = run(&rt, async {
        let (cfn, _iam) = clients(moto.url()).await;
        cfn.create_stack_and_wait(&NewStack::new("trust", template("api://aud-1", &[], false)))
            .await
            .unwrap()
    });
    assert_eq!(stack.status, StackStatus::CreateComplete);
    assert_eq!(
        moto.call_count("cloudformation", "DescribeStacks"),
        3,
        "two throttled by the SDK's retryer, one served"
    );
}
