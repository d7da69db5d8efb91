//! The organization block's pure parts: its checks with their attribute paths, the defaults,
//! and the member-account template.

use super::organization_schema::{DEFAULT_STACK_SET_NAME, is_target_id, org_config};
use super::organization_template::member_template;
use super::schema::trust_config;
use super::*;
use crate::aws::cloudformation::{CallAs, RegionConcurrency};
use crate::onboarding::{PlanSet, PlanSetSpec};
use crate::protocol::{AttrPath, json};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

fn config(deployment: &str, block: Value) -> Value {
    let ty = AwsOidcTrustResource.schema().value_type();
    let mut v = json::decode(b"{}", &ty).unwrap();
    v.set_attr("tenant_id", TENANT);
    let plans = PlanSet::new(&PlanSetSpec {
        defender_cspm: Some(Default::default()),
        servers: Some(Default::default()),
        ..Default::default()
    })
    .unwrap();
    let roles = super::super::defender_plan_set_schema::roles_value(&plans);
    let keep = [
        "key",
        "name",
        "trust",
        "audience",
        "managed_policy_arns",
        "inline_policy_name",
        "inline_policy",
        "trust_policy",
    ];
    let roles = Value::list(
        roles
            .as_list()
            .unwrap()
            .iter()
            .map(|r| Value::object(keep.iter().map(|k| (*k, r.get(k).clone())))),
    );
    v.set_attr("roles", roles);
    v.set_attr("deployment", deployment);
    v.set_attr(BLOCK, block);
    v
}

fn paths(diags: &Diagnostics) -> Vec<String> {
    diags
        .iter()
        .filter_map(|d| d.attribute.as_ref().map(ToString::to_string))
        .collect()
}

#[test]
fn defaults_apply_when_the_block_is_empty() {
    let mut diags = Diagnostics::new();
    let org = org_config(
        &config("cloudformation", Value::object::<&str>([])),
        &mut diags,
    )
    .unwrap()
    .unwrap();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(org.stack_set_name, DEFAULT_STACK_SET_NAME);
    assert!(org.target_ou_ids.is_empty() && org.excluded_account_ids.is_empty());
    assert!(org.auto_deployment && !org.retain_stacks && !org.enable_trusted_access);
    assert_eq!(org.regions_or("eu-west-1"), ["eu-west-1"]);
    assert_eq!(org.call_as, CallAs::ManagementAccount);
    assert_eq!(org.preferences.max_concurrent_percentage, 100);
    assert_eq!(org.preferences.failure_tolerance_percentage, 10);
    assert_eq!(
        org.preferences.region_concurrency,
        RegionConcurrency::Parallel
    );
    let none = org_config(&config("cloudformation", Value::Null), &mut diags).unwrap();
    assert!(none.is_none());
}

#[test]
fn every_invalid_input_is_reported_on_its_attribute() {
    let block = Value::object([
        ("stack_set_name", Value::from("1bad name")),
        (
            "target_ou_ids",
            Value::string_list(["ou-ab12-cdef3456", "OU-nope"]),
        ),
        (
            "excluded_account_ids",
            Value::string_list(["123456789012", "12345"]),
        ),
        ("max_concurrent_percentage", Value::from(0_i64)),
        ("failure_tolerance_percentage", Value::from(101_i64)),
        ("region_concurrency", Value::from("RANDOM")),
        ("call_as", Value::from("ROOT")),
    ]);
    let mut diags = Diagnostics::new();
    assert!(org_config(&config("cloudformation", block), &mut diags).is_err());
    assert_eq!(
        paths(&diags),
        [
            "organization.stack_set_name",
            "organization.target_ou_ids[1]",
            "organization.excluded_account_ids[1]",
            "organization.max_concurrent_percentage",
            "organization.failure_tolerance_percentage",
            "organization.region_concurrency",
            "organization.call_as",
        ]
    );
    let text: Vec<String> = diags.iter().map(|d| d.detail.clone()).collect();
    assert!(text[2].contains("12-digit"), "{text:?}");
    assert!(
        text[6].contains("\"SELF\" or \"DELEGATED_ADMIN\""),
        "{text:?}"
    );
}

#[test]
fn the_block_needs_the_cloudformation_deployment() {
    let mut diags = Diagnostics::new();
    AwsOidcTrustResource.validate(&config("iam", Value::object::<&str>([])), &mut diags);
    assert_eq!(paths(&diags), ["organization"]);
    let d = diags.iter().next().unwrap();
    assert!(
        d.detail.contains("deployment = \"cloudformation\""),
        "{d:?}"
    );
    assert_eq!(d.attribute, Some(AttrPath::root("organization")));
}

#[test]
fn target_ids_have_the_organizations_shape() {
    for ok in ["r-ab12", "ou-ab12-cdef3456", "ou-a1b2c3-0123456789abcdef"] {
        assert!(is_target_id(ok), "{ok}");
    }
    for bad in [
        "",
        "r-",
        "r-AB12",
        "ou-ab12",
        "ou-ab12-short",
        "o-abcd1234",
        "123456789012",
    ] {
        assert!(!is_target_id(bad), "{bad}");
    }
}

#[test]
fn member_template_is_account_neutral_and_declares_its_providers() {
    let mut diags = Diagnostics::new();
    let cfg = trust_config(&config("cloudformation", Value::Null), &mut diags).unwrap();
    let text = member_template(&cfg).unwrap();
    let t: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(t.get("Outputs").is_none(), "{text}");
    let resources = t["Resources"].as_object().unwrap();
    assert_eq!(
        resources["MicrosoftOidcProvider"]["Type"],
        "AWS::IAM::OIDCProvider"
    );
    let roles: Vec<_> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::IAM::Role")
        .collect();
    assert_eq!(roles.len(), cfg.roles.len());
    let docs: Vec<&str> = roles
        .iter()
        .map(|r| {
            r["Properties"]["AssumeRolePolicyDocument"]["Fn::Sub"]
                .as_str()
                .unwrap()
        })
        .collect();
    for doc in &docs {
        assert!(!doc.contains('<'), "no placeholder left: {doc}");
    }
    // Federated roles name their account's own provider and the customer's tenant.
    let federated: Vec<&&str> = docs
        .iter()
        .filter(|d| d.contains("AssumeRoleWithWebIdentity"))
        .collect();
    assert!(!federated.is_empty());
    for doc in federated {
        assert!(
            doc.contains("arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/"),
            "{doc}"
        );
        assert!(doc.contains(TENANT), "{doc}");
    }
    // Deterministic: the same configuration renders the same template (no spurious updates).
    assert_eq!(member_template(&cfg).unwrap(), text);
}

#[test]
fn import_ids_name_the_stack_and_optionally_the_stack_set() {
    use super::organization_import::split_id;
    assert_eq!(split_id("defender-trust"), ("defender-trust", None));
    assert_eq!(
        split_id("defender-trust:MDCOnboardingStackSet"),
        ("defender-trust", Some("MDCOnboardingStackSet"))
    );
    // A second colon stays in the StackSet part, where import rejects it.
    assert_eq!(split_id("a:b:c"), ("a", Some("b:c")));
}

/// The member accounts a plan shows, without clients (no organization can be read).
fn planned_members(prior: Option<Value>, block: Value) -> Value {
    let config = config("cloudformation", block);
    let mut plan = PlanContext {
        prior,
        planned: config.clone(),
        config,
        requires_replace: Vec::new(),
    };
    let mut diags = Diagnostics::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(super::organization_plan::modify_plan(
        None, &mut plan, &mut diags,
    ));
    assert!(diags.is_empty(), "{diags:?}");
    plan.planned.get(BLOCK).get("member_account_ids").clone()
}

fn prior_state(block: Value, members: &[&str], in_sync: bool) -> Value {
    let mut block = block;
    block.set_attr(
        "member_account_ids",
        Value::string_list(members.iter().map(|m| (*m).to_owned())),
    );
    block.set_attr("in_sync", in_sync);
    block.set_attr("stack_set_id", "MDCOnboardingStackSet:1");
    config("cloudformation", block)
}

fn excluding(ids: &[&str]) -> Value {
    Value::object([(
        "excluded_account_ids",
        Value::string_list(ids.iter().map(|i| (*i).to_owned())),
    )])
}

#[test]
fn member_accounts_are_planned_without_reading_the_organization_unless_targets_change() {
    let members = ["111111111111", "222222222222"];
    // A new StackSet: known after apply.
    assert!(planned_members(None, excluding(&[])).is_unknown());
    // Unchanged configuration: as refreshed, so auto-deployed accounts make no change.
    let prior = prior_state(excluding(&["333333333333"]), &members, true);
    assert_eq!(
        planned_members(Some(prior), excluding(&["333333333333"])),
        Value::string_list(members.iter().map(|m| (*m).to_owned()))
    );
    // Failed instances in state: the apply deploys them again and may add accounts.
    let prior = prior_state(excluding(&["333333333333"]), &members, false);
    assert!(planned_members(Some(prior), excluding(&["333333333333"])).is_unknown());
    // Exclusions changed: the organization is read to show the accounts (here it cannot be).
    let prior = prior_state(excluding(&["333333333333"]), &members, true);
    assert!(planned_members(Some(prior), excluding(&["111111111111"])).is_unknown());
}

#[test]
fn a_reorder_of_the_same_targets_and_exclusions_keeps_the_refreshed_accounts() {
    let members = ["111111111111", "222222222222"];
    let block = |excluded: [&str; 2], ous: [&str; 2]| {
        let mut block = excluding(&excluded);
        block.set_attr(
            "target_ou_ids",
            Value::string_list(ous.iter().map(|o| (*o).to_owned())),
        );
        block
    };
    let (a, b) = ("333333333333", "444444444444");
    let (x, y) = ("ou-ab12-11111111", "ou-ab12-22222222");
    // As an import reads them back (sorted) and as a configuration may order them: the same
    // accounts, so the plan keeps them instead of walking the organization again.
    let prior = prior_state(block([a, b], [x, y]), &members, true);
    assert_eq!(
        planned_members(Some(prior), block([b, a], [y, x])),
        Value::string_list(members.iter().map(|m| (*m).to_owned()))
    );
    // A different set is still a change.
    let prior = prior_state(block([a, b], [x, y]), &members, true);
    assert!(planned_members(Some(prior), block([a, "555555555555"], [y, x])).is_unknown());
}
