//! The trust's pure parts: configuration checks, planning without a cloud, role ordering and
//! the state round trip.

use std::collections::BTreeMap;

use super::iam::creation_order;
use super::model::{ProviderState, RoleSpec};
use super::schema::{Deployment, trust_config};
use super::state::Deployed;
use super::*;
use crate::onboarding::{self, PlanSet, PlanSetSpec};
use crate::protocol::{AttrPath, json};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const ACCOUNT: &str = "123456789012";

/// The trust's configuration for `plans`, every attribute present.
fn config_for(plans: &PlanSet, extra: &[(&str, Value)]) -> Value {
    let ty = AwsOidcTrustResource.schema().value_type();
    let mut v = json::decode(b"{}", &ty).unwrap();
    v.set_attr("tenant_id", TENANT);
    let roles = super::super::defender_plan_set_schema::roles_value(plans);
    // Terraform drops the plan set's extra attributes when it converts to the trust's type.
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
    for (k, val) in extra {
        v.set_attr(k, val.clone());
    }
    v
}

fn every_plan() -> PlanSet {
    PlanSet::new(&PlanSetSpec {
        defender_cspm: Some(Default::default()),
        servers: Some(Default::default()),
        containers: Some(Default::default()),
        databases: Some(Default::default()),
        ..Default::default()
    })
    .unwrap()
}

async fn plan(config: Value, prior: Option<Value>) -> (PlanContext, Diagnostics) {
    let mut ctx = PlanContext {
        prior,
        planned: config.clone(),
        config,
        requires_replace: Vec::new(),
    };
    let mut diags = Diagnostics::new();
    AwsOidcTrustResource
        .modify_plan(None, &mut ctx, &mut diags)
        .await;
    (ctx, diags)
}

fn deployed(config: &schema::TrustConfig) -> Deployed {
    let provider = |url: String, auds: Vec<&str>| ProviderState {
        arn: iam::provider_arn("aws", ACCOUNT, &url),
        url,
        client_ids: auds.into_iter().map(str::to_owned).collect(),
        created: true,
        added_client_ids: Vec::new(),
    };
    let providers = config
        .required_providers()
        .into_iter()
        .map(|(issuer, auds)| {
            provider(
                issuer.url(TENANT),
                auds.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    Deployed {
        account_id: ACCOUNT.into(),
        partition: "aws".into(),
        providers,
        roles: config.roles.clone(),
        stack_id: None,
    }
}

#[test]
fn plan_set_roles_are_a_valid_configuration() {
    let mut diags = Diagnostics::new();
    let config = trust_config(&config_for(&every_plan(), &[]), &mut diags).expect("valid");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(config.deployment, Deployment::Iam);
    assert_eq!(config.roles.len(), onboarding::RoleKey::ALL.len());
    assert_eq!(
        config.required_providers().len(),
        2,
        "Microsoft's tenant and the customer's"
    );
}

#[test]
fn bad_roles_are_reported_on_their_element() {
    let mut cfg = config_for(&every_plan(), &[]);
    let mut roles = cfg.get("roles").as_list().unwrap().to_vec();
    roles[1].set_attr("name", "x".repeat(65));
    let first_key = roles[0].get("key").clone();
    roles[2].set_attr("key", first_key);
    roles[3].set_attr("inline_policy", "{not json");
    cfg.set_attr("roles", Value::list(roles));
    let mut diags = Diagnostics::new();
    assert!(trust_config(&cfg, &mut diags).is_none());
    let at: Vec<(String, AttrPath)> = diags
        .iter()
        .map(|d| (d.summary.clone(), d.attribute.clone().unwrap()))
        .collect();
    let path = |i: i64, a: &str| AttrPath::root("roles").index(i).attr(a);
    assert!(
        at.contains(&("Invalid role name".into(), path(1, "name"))),
        "{at:?}"
    );
    assert!(
        at.contains(&("Duplicate role key".into(), path(2, "key"))),
        "{at:?}"
    );
    assert!(
        at.contains(&("Invalid policy".into(), path(3, "inline_policy"))),
        "{at:?}"
    );
}

#[tokio::test]
async fn without_a_cloud_the_account_and_arns_are_known_after_apply() {
    let (ctx, diags) = plan(config_for(&every_plan(), &[]), None).await;
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(ctx.planned.get("deployment").as_str(), Some("iam"));
    assert!(ctx.planned.get("stack_name").is_null());
    for unknown in [
        "account_id",
        "role_arns",
        "oidc_provider_arn",
        "oidc_providers",
        "id",
    ] {
        assert!(ctx.planned.get(unknown).is_unknown(), "{unknown}");
    }
    let (cfn, _) = plan(
        config_for(
            &every_plan(),
            &[("deployment", Value::from("cloudformation"))],
        ),
        None,
    )
    .await;
    assert_eq!(
        cfn.planned.get("stack_name").as_str(),
        Some(schema::DEFAULT_STACK_NAME)
    );
    assert_eq!(
        cfn.planned.get("id").as_str(),
        Some("cloudformation:DefenderForCloud-OidcTrust")
    );
}

#[tokio::test]
async fn an_applied_trust_plans_no_change_and_known_arns() {
    let cfg_value = config_for(&every_plan(), &[]);
    let config = trust_config(&cfg_value, &mut Diagnostics::new()).unwrap();
    let state = deployed(&config).to_state(&config);
    let (ctx, diags) = plan(cfg_value.clone(), Some(state.clone())).await;
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(ctx.planned, state, "nothing changes");
    assert!(ctx.requires_replace.is_empty());

    // One plan fewer: the role ARNs are still known, the providers are recomputed at apply
    // only when their audiences change.
    let fewer = PlanSet::new(&PlanSetSpec {
        servers: Some(Default::default()),
        ..Default::default()
    })
    .unwrap();
    let (ctx, _) = plan(config_for(&fewer, &[]), Some(state.clone())).await;
    let arns = ctx.planned.get("role_arns").as_map().unwrap().clone();
    assert_eq!(
        arns.get("cspm_monitor").and_then(Value::as_str),
        Some("arn:aws:iam::123456789012:role/CspmMonitorAws")
    );
    assert!(!arns.contains_key("ciem"));
    assert!(ctx.planned.get("oidc_providers").is_unknown());
    assert!(ctx.planned.get("customer_oidc_provider_arn").is_null());
    assert!(ctx.requires_replace.is_empty());

    // Switching the deployment replaces the trust.
    let (ctx, _) = plan(
        config_for(
            &every_plan(),
            &[("deployment", Value::from("cloudformation"))],
        ),
        Some(state),
    )
    .await;
    assert!(ctx.requires_replace.contains(&AttrPath::root("deployment")));
}

#[test]
fn roles_are_created_after_the_roles_their_trust_names() {
    let config = trust_config(&config_for(&every_plan(), &[]), &mut Diagnostics::new()).unwrap();
    let mut reversed = config.roles.clone();
    reversed.reverse();
    let order: Vec<&str> = creation_order(&reversed)
        .iter()
        .map(|r| r.key.as_str())
        .collect();
    let pos = |k: &str| order.iter().position(|o| *o == k).unwrap();
    assert!(pos("ciem_oidc") < pos("ciem"), "{order:?}");
    assert_eq!(order.len(), reversed.len());
}

#[test]
fn state_round_trips() {
    let config = trust_config(
        &config_for(
            &every_plan(),
            &[("tags", Value::map([("a", Value::from("b"))]))],
        ),
        &mut Diagnostics::new(),
    )
    .unwrap();
    let d = deployed(&config);
    let state = d.to_state(&config);
    assert_eq!(Deployed::from_state(&state).unwrap(), d);
    let again = trust_config(&state, &mut Diagnostics::new()).unwrap();
    assert_eq!(again.roles, config.roles);
    assert_eq!(
        again.tags,
        Some(BTreeMap::from([("a".to_owned(), "b".to_owned())]))
    );
    let values = d.values(TENANT, &config.roles);
    let rendered: Vec<String> = config
        .roles
        .iter()
        .map(|r: &RoleSpec| onboarding::render_trust_policy(&r.trust_policy, &values).unwrap())
        .collect();
    assert!(
        rendered.iter().all(|p| !p.contains('<')),
        "every placeholder is filled"
    );
}

#[tokio::test]
async fn a_trust_without_microsofts_issuer_still_has_an_id() {
    // Roles that no Defender token reaches (e.g. an Arc template's service roles).
    let mut cfg = config_for(&every_plan(), &[]);
    let roles: Vec<Value> = cfg
        .get("roles")
        .as_list()
        .unwrap()
        .iter()
        .filter(|r| r.get("trust").as_str() == Some("aws_service"))
        .cloned()
        .collect();
    assert!(!roles.is_empty());
    cfg.set_attr("roles", Value::list(roles));
    let (ctx, diags) = plan(cfg.clone(), None).await;
    assert!(diags.is_empty(), "{diags:?}");
    assert!(
        ctx.planned.get("id").is_unknown(),
        "known after apply, never null"
    );
    assert!(ctx.planned.get("oidc_provider_arn").is_null());

    let config = trust_config(&cfg, &mut Diagnostics::new()).unwrap();
    let state = deployed(&config).to_state(&config);
    assert_eq!(state.get("id").as_str(), Some(ACCOUNT));
    let (ctx, _) = plan(cfg, Some(state)).await;
    assert_eq!(ctx.planned.get("id").as_str(), Some(ACCOUNT));
}
