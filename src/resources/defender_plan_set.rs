//! `multicloud_defender_plan_set`: a validated, reusable declaration of the Defender plans an AWS
//! account gets. Nothing remote: every output is computed at plan time from the configuration,
//! so resources that consume it see known values and a plan change shows the exact diff.

use async_trait::async_trait;

use crate::onboarding::PlanSet;
use crate::protocol::{
    Attribute, Block, Diagnostics, PlanContext, Resource, Schema, Type, Value, json,
};

use super::clients::ProviderClients;
use super::defender_plan_set_outputs as outputs;
use super::defender_plan_set_pricings as pricings;
use super::defender_plan_set_schema as inputs;

/// The `multicloud_defender_plan_set` resource.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefenderPlanSetResource;

const DESCRIPTION: &str = "A validated, reusable declaration of the Microsoft Defender for Cloud plans \
for AWS accounts: Foundational CSPM (always on), Defender CSPM, Defender for Servers, Defender for \
Containers and Defender for Databases, with their options and the access mode. It creates nothing \
remote; with `subscription_id` it also switches on the Defender plans the AWS plans need on that \
Azure subscription (and puts back what it found on destroy). It computes what the onboarding needs: \
the security connector's `offerings` and the IAM roles the plans need (`aws_roles`: name, audience, \
permissions). All outputs are known at plan time when the configuration is, so a change of plans \
shows exactly which roles and offerings change. One plan set can serve many accounts.\n\n\
The CloudFormation templates a portal user would download come from the data source \
`multicloud_aws_onboarding_template`, which takes the same blocks and attributes (see the example). \
The plan set does not keep them in its state: every plan reads the state of every plan set, and the \
templates were most of it. State written by an older version of the provider still holding them \
(`cloudformation_template`, `cloudformation_stackset_template`) is upgraded by dropping them.\n\n\
Import takes the plan set's configuration as JSON (the blocks and attributes as in HCL), since \
there is no remote object to read it from.";

fn computed(name: &str, ty: Type, description: &str) -> Attribute {
    Attribute::new(name, ty).computed().description(description)
}

/// The computed attributes, for when they cannot be computed yet.
const OUTPUT_NAMES: [&str; 3] = ["id", "offerings", "aws_roles"];

/// The schema version: 1 since the CloudFormation templates left the state.
const SCHEMA_VERSION: i64 = 1;

/// Computed attributes of schema version 0 that version 1 no longer has: the CloudFormation
/// templates, which only `multicloud_aws_onboarding_template` renders now.
const REMOVED_IN_V1: [&str; 2] = [
    "cloudformation_template",
    "cloudformation_stackset_template",
];

/// `value` with its computed attributes filled in from its inputs, or `None` (with
/// diagnostics) when the inputs are invalid or not known yet.
fn complete(value: &Value, diags: &mut Diagnostics) -> Option<Value> {
    let plans = inputs::plan_set(value, diags)?;
    Some(with_outputs(value, &plans))
}

/// `value` with the computed attributes of `plans`.
fn with_outputs(value: &Value, plans: &PlanSet) -> Value {
    let mut out = value.clone();
    for (name, v) in outputs::outputs(plans).iter() {
        out.set_attr(name, v.clone());
    }
    out
}

#[async_trait]
impl Resource<ProviderClients> for DefenderPlanSetResource {
    fn type_name(&self) -> &'static str {
        "multicloud_defender_plan_set"
    }

    fn schema(&self) -> Schema {
        let block = inputs::input_schema(Block::new().description(DESCRIPTION));
        let block = pricings::schema(block)
            .attribute(computed(
                "id",
                Type::String,
                "A stable hash of the normalised plan set (`dps-` and 16 hex digits): equal plan sets, \
                 defaults written out or not, have equal ids.",
            ))
            .attribute(computed(
                "offerings",
                Type::String,
                "The `offerings` array of the `Microsoft.Security/securityConnectors` AWS connector \
                 (api-version `2024-08-01-preview`), as canonical JSON. Each role ARN is the placeholder \
                 `<role_arn:KEY>` (KEY as in `aws_roles`), which the security connector replaces with \
                 the real ARN.",
            ))
            .attribute(computed(
                "aws_roles",
                Type::list(inputs::role_type()),
                "The IAM roles the plans need: `key`, `name`, `trust` (`web_identity`, \
                 `web_identity_and_external_account`, `aws_service`, `customer_tenant_oidc` or \
                 `assumed_by_role`), `audience` (the token audience the trust requires, null when not \
                 federated), `offerings` and `arn_fields` (the connector fields that take the role's \
                 ARN), `managed_policy_arns`, `inline_policy_name`, `inline_policy` (JSON) and `trust_policy`: the trust \
                 policy (JSON) with the placeholders `<oidc_provider_arn>`, `<customer_oidc_provider_arn>`, \
                 `<account_id>`, `<customer_tenant_id>` and `<role_arn:KEY>`, which \
                 `multicloud_aws_oidc_trust` fills in for the account it deploys to.",
            ));
        Schema::new(block).with_version(SCHEMA_VERSION)
    }

    fn upgrade_state(&self, version: i64, state: &mut serde_json::Map<String, serde_json::Value>) {
        if version < 1 {
            for name in REMOVED_IN_V1 {
                state.remove(name);
            }
        }
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let _ = inputs::plan_set(config, diags);
        pricings::validate(config, diags);
    }

    async fn modify_plan(
        &self,
        clients: Option<&ProviderClients>,
        plan: &mut PlanContext,
        diags: &mut Diagnostics,
    ) {
        if plan.planned.is_null() {
            return;
        }
        // Every attribute is configuration or derived from it, so the plan is the configuration
        // plus the outputs. Recomputed even when nothing changed, so that a provider upgrade that
        // changes the product knowledge shows up as a plan rather than hiding behind old state.
        // The outputs come from a memo of this process, keyed by the whole normalised plan set
        // (see `defender_plan_set_outputs`): identical plan sets are computed once per process.
        let plans = inputs::plan_set(&plan.config, diags);
        match &plans {
            Some(p) => plan.planned = with_outputs(&plan.config, p),
            None => {
                let mut planned = plan.config.clone();
                for name in OUTPUT_NAMES {
                    planned.set_attr(name, Value::Unknown);
                }
                plan.planned = planned;
            }
        }
        pricings::plan(clients, plans.as_ref(), plan, diags).await;
    }

    async fn create(
        &self,
        clients: &ProviderClients,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let mut out = complete(planned, diags)?;
        pricings::apply(clients, None, &mut out, diags)
            .await
            .then_some(out)
    }

    async fn read(
        &self,
        clients: &ProviderClients,
        current: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let mut state = current.clone();
        pricings::refresh(clients, &mut state, diags).await;
        Some(state)
    }

    async fn update(
        &self,
        clients: &ProviderClients,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let mut out = complete(planned, diags)?;
        pricings::apply(clients, Some(prior), &mut out, diags)
            .await
            .then_some(out)
    }

    async fn delete(&self, clients: &ProviderClients, state: &Value, diags: &mut Diagnostics) {
        pricings::restore(clients, state, diags).await;
    }

    async fn import(
        &self,
        _clients: &ProviderClients,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let ty = self.schema().value_type();
        let value = match json::decode(id.as_bytes(), &ty) {
            Ok(v) if matches!(v, Value::Object(_)) => v,
            Ok(_) | Err(_) => {
                diags.error(
                    "Invalid import id",
                    "A plan set exists only in configuration, so it is imported from its configuration \
                     written as JSON, for example:\n  terraform import multicloud_defender_plan_set.std \
                     '{\"access\":\"default\",\"servers\":{\"plan\":\"P2\"}}'",
                );
                return None;
            }
        };
        let mut out = complete(&value, diags)?;
        pricings::imported(&mut out);
        Some(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::protocol::AttrPath;

    /// A configuration value shaped by the schema: every attribute and block present, null.
    fn config(set: &[(&str, Value)]) -> Value {
        let ty = DefenderPlanSetResource.schema().value_type();
        let mut v = json::decode(b"{}", &ty).unwrap();
        for (k, val) in set {
            v.set_attr(k, val.clone());
        }
        v
    }

    fn servers(plan: Value) -> Value {
        let ty = DefenderPlanSetResource.schema().value_type();
        let mut v = json::decode(br#"{"servers":{}}"#, &ty)
            .unwrap()
            .get("servers")
            .clone();
        v.set_attr("plan", plan);
        v
    }

    async fn plan(cfg: Value, prior: Option<Value>) -> (PlanContext, Diagnostics) {
        let mut ctx = PlanContext {
            prior,
            planned: cfg.clone(),
            config: cfg,
            requires_replace: Vec::new(),
        };
        let mut diags = Diagnostics::new();
        DefenderPlanSetResource
            .modify_plan(None, &mut ctx, &mut diags)
            .await;
        (ctx, diags)
    }

    #[tokio::test]
    async fn known_config_plans_known_outputs() {
        let (ctx, diags) = plan(config(&[("servers", servers("P1".into()))]), None).await;
        assert!(diags.is_empty());
        for name in OUTPUT_NAMES {
            assert!(ctx.planned.get(name).is_fully_known(), "{name}");
        }
        let roles = ctx.planned.get("aws_roles").as_list().unwrap();
        let names: Vec<&str> = roles
            .iter()
            .filter_map(|r| r.get("name").as_str())
            .collect();
        assert_eq!(
            names,
            [
                "CspmMonitorAws",
                "DefenderForCloud-DefenderForServers",
                "DefenderForCloud-ArcAutoProvisioning"
            ]
        );
        assert_eq!(
            roles[0].get("audience").as_str(),
            Some("api://4d8bed1f-eee7-4d8e-b0dc-8462049a4479")
        );
    }

    #[tokio::test]
    async fn unknown_config_leaves_outputs_unknown() {
        let (ctx, diags) = plan(config(&[("servers", servers(Value::Unknown))]), None).await;
        assert!(diags.is_empty());
        for name in OUTPUT_NAMES {
            assert!(ctx.planned.get(name).is_unknown(), "{name}");
        }
        assert!(ctx.planned.get("servers").get("plan").is_unknown());
    }

    #[tokio::test]
    async fn removed_block_is_planned_absent() {
        let (before, _) = plan(config(&[("servers", servers("P2".into()))]), None).await;
        // Terraform 1.0 proposes the prior block; the plan must follow the configuration.
        let mut ctx = PlanContext {
            prior: Some(before.planned.clone()),
            planned: before.planned.clone(),
            config: config(&[]),
            requires_replace: Vec::new(),
        };
        let mut diags = Diagnostics::new();
        DefenderPlanSetResource
            .modify_plan(None, &mut ctx, &mut diags)
            .await;
        assert!(ctx.planned.get("servers").is_null());
        assert_ne!(ctx.planned.get("id"), before.planned.get("id"));
    }

    #[test]
    fn version_0_state_loses_only_the_templates() {
        let schema = DefenderPlanSetResource.schema();
        assert_eq!(schema.version, 1);
        let stored = serde_json::json!({
            "id": "dps-c0dcdb1e2df8ae7c",
            "offerings": "[]",
            "aws_roles": [],
            "servers": null,
            "cloudformation_template": "{\"Resources\":{}}",
            "cloudformation_stackset_template": "{\"Resources\":{}}",
        });
        let mut state = stored.as_object().cloned().unwrap();
        DefenderPlanSetResource.upgrade_state(0, &mut state);
        let mut keys: Vec<&str> = state.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["aws_roles", "id", "offerings", "servers"]);
        let Type::Object(attrs) = schema.value_type() else {
            panic!("a resource's value type is an object");
        };
        for name in REMOVED_IN_V1 {
            assert!(!attrs.contains_key(name), "{name} is still in the schema");
        }
        // State already at version 1 is not touched.
        let mut current = stored.as_object().cloned().unwrap();
        DefenderPlanSetResource.upgrade_state(1, &mut current);
        assert_eq!(current.len(), 6);
    }

    #[test]
    fn invalid_input_is_reported_on_its_attribute() {
        let mut diags = Diagnostics::new();
        DefenderPlanSetResource.validate(&config(&[("servers", servers("P3".into()))]), &mut diags);
        let d = diags.iter().next().expect("a diagnostic");
        assert_eq!(d.summary, "Unsupported value");
        assert_eq!(d.attribute, Some(AttrPath::root("servers").attr("plan")));
    }
}
