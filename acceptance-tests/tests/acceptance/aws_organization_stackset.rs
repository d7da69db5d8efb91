//! The provider's Organizations and StackSet clients against moto with the project's
//! extension: an organization with nested OUs is read back, the trusted-access pre-flight
//! fails with the fix until access is enabled, and the plan set's StackSet template is
//! deployed to every member account but the excluded ones, updated, and removed. A second
//! scenario does the same walk and deployment at 1,000 accounts (seeded in one request through
//! the moto extension) and prints the timings and API calls of each step.

// Test code: a failed call should fail the test with its error, which unwrap prints.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use crate::common::moto_alone::start_with_runtime as start;
use crate::common::organization::{create_account_in, create_ou};
use acceptance_tests::{Moto, skip_unless_acc};
use terraform_provider_multicloud::aws::cloudformation::{
    CloudFormationClient, OperationPreferences, StackSetSpec, StackSetTargets, StackWait,
};
use terraform_provider_multicloud::aws::organizations::STACKSETS_SERVICE_PRINCIPAL;
use terraform_provider_multicloud::aws::{
    AwsClients, AwsConfig, AwsEndpoints, AwsError, OrganizationsClient,
};
use terraform_provider_multicloud::onboarding::{PlanSet, TemplateKind, cloudformation_template};
use terraform_provider_multicloud::secret::Secret;

const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const REGION: &str = "us-east-1";
const STACK_SET: &str = "MDCOnboardingStackSet";

async fn clients(moto_url: &str) -> (OrganizationsClient, CloudFormationClient) {
    let config = AwsConfig {
        region: Some(REGION.into()),
        access_key: Some("AKIAORGSCLIENTTEST".into()),
        secret_key: Some(Secret::new("orgs-client-test-secret")),
        endpoints: AwsEndpoints {
            sts: Some(moto_url.to_owned()),
            cloudformation: Some(moto_url.to_owned()),
            organizations: Some(moto_url.to_owned()),
            ..Default::default()
        },
        ..Default::default()
    };
    let aws = AwsClients::new(&config).await.expect("AWS clients");
    // moto settles every operation before answering; short polls keep the test quick.
    let wait = StackWait::new(Duration::from_secs(300))
        .with_delays(Duration::from_millis(20), Duration::from_millis(200));
    (aws.organizations(), aws.stacksets().with_wait(wait))
}

/// Creates `member-<n>` and moves it from the root to `parent`; returns its id.
async fn create_account(orgs: &OrganizationsClient, root: &str, parent: &str, n: usize) -> String {
    create_account_in(orgs, root, parent, &format!("member-{n}")).await
}

fn stack_set_template() -> String {
    cloudformation_template(
        &PlanSet::foundational(),
        TemplateKind::StackSet,
        Some(TENANT),
    )
}

#[test]
fn acc_aws_organization_stackset_lifecycle() {
    skip_unless_acc!();
    let (moto, _dir, rt) = start();
    rt.block_on(async {
        let (orgs, cfn) = clients(moto.url()).await;
        orgs.sdk().create_organization().send().await.unwrap();
        let root = orgs.root().await.unwrap().id;
        // root > prod > prod-eu > prod-eu-data; root > dev
        let prod = create_ou(&orgs, &root, "prod").await;
        let prod_eu = create_ou(&orgs, &prod, "prod-eu").await;
        let data = create_ou(&orgs, &prod_eu, "prod-eu-data").await;
        let dev = create_ou(&orgs, &root, "dev").await;
        let mut members = Vec::new();
        for (n, parent) in [&root, &prod, &prod_eu, &data, &data, &dev, &dev, &prod]
            .into_iter()
            .enumerate()
        {
            members.push(create_account(&orgs, &root, parent, n).await);
        }

        // The tree as the data source reads it.
        let tree = orgs.tree().await.unwrap();
        let management = tree.organization.management_account_id.clone();
        assert_eq!(tree.root.id, root);
        assert_eq!(tree.organizational_units.len(), 4);
        let parent_of = |ou: &str| {
            tree.organizational_units
                .iter()
                .find(|o| o.id == ou)
                .map(|o| o.parent_id.clone())
        };
        assert_eq!(parent_of(&data), Some(prod_eu.clone()));
        assert_eq!(parent_of(&prod_eu), Some(prod.clone()));
        assert_eq!(
            tree.accounts.len(),
            members.len() + 1,
            "members + management"
        );
        let acc = |id: &str| tree.accounts.iter().find(|a| a.id == id).unwrap();
        assert_eq!(acc(&members[3]).parent_id, data);
        assert_eq!(acc(&management).parent_id, root);
        assert_eq!(acc(&members[1]).status, "ACTIVE");
        let under_prod = orgs.list_accounts_recursive(&prod).await.unwrap();
        assert_eq!(under_prod.len(), 5, "{under_prod:?}");

        // Pre-flight: trusted access off fails with the fix and creates nothing.
        let err = orgs.require_stacksets_trusted_access().await.unwrap_err();
        assert!(
            matches!(err, AwsError::TrustedAccessDisabled { .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("aws organizations enable-aws-service-access"),
            "{text}"
        );
        assert!(text.contains(STACKSETS_SERVICE_PRINCIPAL), "{text}");
        let spec = StackSetSpec::new(STACK_SET, stack_set_template());
        let err = cfn.create_stack_set(&spec).await.unwrap_err();
        assert!(
            matches!(err, AwsError::TrustedAccessDisabled { .. }),
            "{err:?}"
        );
        assert!(
            cfn.describe_stack_set(STACK_SET, spec.call_as)
                .await
                .unwrap()
                .is_none()
        );

        orgs.enable_stacksets_trusted_access().await.unwrap();
        orgs.require_stacksets_trusted_access().await.unwrap();

        // Targets: the whole organization minus two accounts; never the management account.
        let excluded = vec![members[3].clone(), members[6].clone()];
        let plan = tree.shape().deployment_plan(&[], &excluded).unwrap();
        assert_eq!(plan.organizational_unit_ids, std::slice::from_ref(&root));
        assert_eq!(plan.member_accounts.len(), members.len() - 2);
        assert!(!plan.member_accounts.contains(&management));
        let targets = StackSetTargets {
            organizational_unit_ids: plan.organizational_unit_ids.clone(),
            excluded_accounts: plan.excluded_accounts.clone(),
            regions: vec![REGION.into()],
        };
        let prefs = OperationPreferences::default();

        let id = cfn.create_stack_set(&spec).await.unwrap();
        assert!(id.starts_with(STACK_SET), "{id}");
        let set = cfn
            .describe_stack_set(STACK_SET, spec.call_as)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(set.permission_model, "SERVICE_MANAGED");
        assert_eq!(set.auto_deployment, Some(true));
        assert_eq!(set.retain_stacks_on_account_removal, Some(false));

        let op = cfn
            .create_stack_instances(STACK_SET, &targets, &prefs, spec.call_as)
            .await
            .unwrap();
        let done = cfn
            .wait_for_stack_set_operation(STACK_SET, &op, spec.call_as)
            .await
            .unwrap();
        assert_eq!(done.status, "SUCCEEDED");
        let results = cfn
            .list_stack_set_operation_results(STACK_SET, &op, spec.call_as)
            .await
            .unwrap();
        assert_eq!(results.len(), plan.member_accounts.len());
        assert!(
            results.iter().all(|r| r.status == "SUCCEEDED"),
            "{results:?}"
        );
        let instances = cfn
            .list_stack_instances(STACK_SET, spec.call_as)
            .await
            .unwrap();
        let accounts: Vec<_> = instances.iter().map(|i| i.account.clone()).collect();
        assert_eq!(accounts, plan.member_accounts);

        // Update rolls out to every instance.
        let mut updated = spec.clone();
        updated.template_body = cloudformation_template(
            &PlanSet::foundational(),
            TemplateKind::StackSet,
            Some("99999999-2222-3333-4444-555555555555"),
        );
        updated.description = Some("updated".into());
        let op = cfn.update_stack_set(&updated, &prefs).await.unwrap();
        cfn.wait_for_stack_set_operation(STACK_SET, &op, spec.call_as)
            .await
            .unwrap();
        let results = cfn
            .list_stack_set_operation_results(STACK_SET, &op, spec.call_as)
            .await
            .unwrap();
        assert_eq!(results.len(), plan.member_accounts.len(), "{results:?}");
        let set = cfn
            .describe_stack_set(STACK_SET, spec.call_as)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(set.template_body, updated.template_body);
        assert_eq!(set.description.as_deref(), Some("updated"));

        // Delete by the same targets, then the StackSet.
        let op = cfn
            .delete_stack_instances(STACK_SET, &targets, false, &prefs, spec.call_as)
            .await
            .unwrap();
        cfn.wait_for_stack_set_operation(STACK_SET, &op, spec.call_as)
            .await
            .unwrap();
        assert!(
            cfn.list_stack_instances(STACK_SET, spec.call_as)
                .await
                .unwrap()
                .is_empty()
        );
        cfn.delete_stack_set(STACK_SET, spec.call_as).await.unwrap();
        assert!(
            cfn.describe_stack_set(STACK_SET, spec.call_as)
                .await
                .unwrap()
                .is_none()
        );
        cfn.delete_stack_set(STACK_SET, spec.call_as).await.unwrap();
    });
}

#[test]
fn acc_aws_stackset_failed_instances_name_accounts() {
    skip_unless_acc!();
    let (moto, _dir, rt) = start();
    rt.block_on(async {
        let (orgs, cfn) = clients(moto.url()).await;
        orgs.sdk().create_organization().send().await.unwrap();
        orgs.enable_stacksets_trusted_access().await.unwrap();
        let root = orgs.root().await.unwrap().id;
        let ou = create_ou(&orgs, &root, "workloads").await;
        let a = create_account(&orgs, &root, &ou, 1).await;
        let b = create_account(&orgs, &root, &ou, 2).await;
        // A managed policy that exists nowhere: attaching it fails in every account.
        let template = serde_json::json!({"Resources": {"Role": {"Type": "AWS::IAM::Role",
            "Properties": {"RoleName": "Broken",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
                "ManagedPolicyArns": ["arn:aws:iam::aws:policy/NoSuchPolicyAnywhere"]}}}})
        .to_string();
        let spec = StackSetSpec::new("Broken", template);
        cfn.create_stack_set(&spec).await.unwrap();
        let targets = StackSetTargets {
            organizational_unit_ids: vec![ou.clone()],
            excluded_accounts: vec![],
            regions: vec![REGION.into()],
        };
        let op = cfn
            .create_stack_instances(
                "Broken",
                &targets,
                &OperationPreferences::default(),
                spec.call_as,
            )
            .await
            .unwrap();
        let err = cfn
            .wait_for_stack_set_operation("Broken", &op, spec.call_as)
            .await
            .unwrap_err();
        let AwsError::StackSetFailed(f) = &err else {
            panic!("expected StackSetFailed, got {err:?}");
        };
        assert_eq!(f.operation.status, "FAILED");
        let failed: Vec<_> = f.failed.iter().map(|r| r.account.clone()).collect();
        let mut expected = vec![a, b];
        expected.sort();
        assert_eq!(failed, expected);
        let text = err.to_string();
        assert!(
            text.contains(&format!("account {} in {REGION}: FAILED", expected[0])),
            "{text}"
        );
        assert!(text.contains("NoSuchPolicyAnywhere"), "{text}");
    });
}

/// 1,000 member accounts in 10 OUs (five of them nested one level), seeded through the moto
/// extension: the tree walk, the StackSet deployment to every account but two excluded ones,
/// and its removal, each printed with its wall time and the API calls it made.
#[test]
fn acc_aws_organization_at_1000_accounts() {
    skip_unless_acc!();
    const ACCOUNTS: usize = 1000;
    let (moto, _dir, rt) = start();
    let (orgs, cfn, root, ous) = rt.block_on(async {
        let (orgs, cfn) = clients(moto.url()).await;
        orgs.sdk().create_organization().send().await.unwrap();
        orgs.enable_stacksets_trusted_access().await.unwrap();
        let root = orgs.root().await.unwrap().id;
        let mut ous = Vec::new();
        for i in 0..5 {
            let top = create_ou(&orgs, &root, &format!("top-{i}")).await;
            let nested = create_ou(&orgs, &top, &format!("nested-{i}")).await;
            ous.push(top);
            ous.push(nested);
        }
        (orgs, cfn, root, ous)
    });
    let started = Instant::now();
    let parents: Vec<&str> = ous.iter().map(String::as_str).collect();
    let members = moto.seed_accounts(ACCOUNTS, &parents).ids();
    println!(
        "organization scale: seeded {} accounts in {:.2} s",
        members.len(),
        started.elapsed().as_secs_f64()
    );
    let timed = Timer::new(&moto);

    // moto's counters are read with a blocking client, so every step runs in its own block_on.
    let tree = rt.block_on(orgs.tree()).unwrap();
    timed.report("organization tree walk", ACCOUNTS);
    assert_eq!(tree.accounts.len(), ACCOUNTS + 1);
    assert_eq!(tree.organizational_units.len(), 10);
    let management = &tree.organization.management_account_id;
    assert!(
        tree.accounts
            .iter()
            .all(|a| a.parent_id != root || &a.id == management)
    );

    let excluded = vec![members[0].clone(), members[1].clone()];
    let plan = tree.shape().deployment_plan(&[], &excluded).unwrap();
    assert_eq!(plan.member_accounts.len(), ACCOUNTS - 2);
    let targets = StackSetTargets {
        organizational_unit_ids: plan.organizational_unit_ids.clone(),
        excluded_accounts: plan.excluded_accounts.clone(),
        regions: vec![REGION.into()],
    };
    let spec = StackSetSpec::new(STACK_SET, stack_set_template());
    let prefs = OperationPreferences::default();
    let op = rt.block_on(async {
        cfn.create_stack_set(&spec).await.unwrap();
        let op = cfn
            .create_stack_instances(STACK_SET, &targets, &prefs, spec.call_as)
            .await
            .unwrap();
        cfn.wait_for_stack_set_operation(STACK_SET, &op, spec.call_as)
            .await
            .unwrap();
        op
    });
    timed.report("StackSet created and deployed", ACCOUNTS - 2);

    let (instances, results) = rt.block_on(async {
        let instances = cfn
            .list_stack_instances(STACK_SET, spec.call_as)
            .await
            .unwrap();
        let results = cfn
            .list_stack_set_operation_results(STACK_SET, &op, spec.call_as)
            .await
            .unwrap();
        (instances, results)
    });
    timed.report("instances and operation results listed", instances.len());
    assert_eq!(instances.len(), ACCOUNTS - 2);
    assert_eq!(results.len(), ACCOUNTS - 2);
    assert!(results.iter().all(|r| r.status == "SUCCEEDED"));
    assert!(!instances.iter().any(|i| excluded.contains(&i.account)));

    rt.block_on(async {
        let op = cfn
            .delete_stack_instances(STACK_SET, &targets, false, &prefs, spec.call_as)
            .await
            .unwrap();
        cfn.wait_for_stack_set_operation(STACK_SET, &op, spec.call_as)
            .await
            .unwrap();
        cfn.delete_stack_set(STACK_SET, spec.call_as).await.unwrap();
    });
    timed.report("instances and StackSet deleted", ACCOUNTS - 2);
    let gone = rt
        .block_on(cfn.describe_stack_set(STACK_SET, spec.call_as))
        .unwrap();
    assert!(gone.is_none());
}

/// Wall time and moto's call counts since the previous report.
struct Timer<'a> {
    moto: &'a Moto,
    since: std::cell::Cell<Instant>,
}

impl<'a> Timer<'a> {
    fn new(moto: &'a Moto) -> Self {
        moto.reset_calls();
        Self {
            moto,
            since: std::cell::Cell::new(Instant::now()),
        }
    }

    /// Prints what the step named `what` over `accounts` accounts took, then restarts.
    fn report(&self, what: &str, accounts: usize) {
        let wall = self.since.get().elapsed();
        let calls = self.moto.calls();
        let calls: std::collections::BTreeMap<&str, u64> = calls
            .as_object()
            .unwrap()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.as_u64()?)))
            .collect();
        let total: u64 = calls.values().sum();
        println!(
            "organization scale: {what} ({accounts} accounts): {:.2} s wall, {total} API calls {calls:?}",
            wall.as_secs_f64()
        );
        self.moto.reset_calls();
        self.since.set(Instant::now());
    }
}
