//! `multicloud_defender_plan_set`: a validated, reusable declaration of the Defender plans an AWS
//! account gets. Nothing remote: every output is computed at plan time from the configuration,
//! so resources that consume it see known values and a plan change shows the exact diff.

use async_trait::async_trait;

use crate::onboarding::{self, PlanSet};
use crate::protocol::{
    Attribute, Block, Diagnostics, PlanContext, Resource, Schema, Type, Value, json,
};

use super::clients::ProviderClients;
use super::defender_plan_set_schema as inputs;

/// The `multicloud_defender_plan_set` resource.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefenderPlanSetResource;

const DESCRIPTION: &str = "A validated, reusable declaration of the Microsoft Defender for Cloud plans \
for AWS accounts: Foundational CSPM (always on), Defender CSPM, Defender for Servers, Defender for \
Containers and Defender for Databases, with their options and the access mode. It creates nothing \
remote. It computes what the onboarding needs: the security connector's `offerings`, the IAM roles \
the plans need (`aws_roles`: name, audience, permissions) and the CloudFormation templates a portal \
user would download. All outputs are known at plan time when the configuration is, so a change of \
plans shows exactly which roles and offerings change. One plan set can serve many accounts.\n\n\
Import takes the plan set's configuration as JSON (the blocks and attributes as in HCL), since \
there is no remote object to read it from.";

fn computed(name: &str, ty: Type, description: &str) -> Attribute {
    Attribute::new(name, ty).computed().description(description)
}

/// The computed attributes for `plans`.
fn outputs(plans: &PlanSet) -> [(&'static str, Value); 5] {
    let (single, stackset) = inputs::templates(plans, None);
    [
        ("id", Value::from(plans.id())),
        (
            "offerings",
            Value::from(onboarding::offerings_json(plans, &Default::default())),
        ),
        ("aws_roles", inputs::roles_value(plans)),
        ("cloudformation_template", Value::from(single)),
        ("cloudformation_stackset_template", Value::from(stackset)),
    ]
}

/// `value` with its computed attributes filled in from its inputs, or `None` (with
/// diagnostics) when the inputs are invalid or not known yet.
fn complete(value: &Value, diags: &mut Diagnostics) -> Option<Value> {
    let plans = inputs::plan_set(value, diags)?;
    let mut out = value.clone();
    for (name, v) in outputs(&plans) {
        out.set_attr(name, v);
    }
    Some(out)
}

#[async_trait]
impl Resource<ProviderClients> for DefenderPlanSetResource {
    fn type_name(&self) -> &'static str {
        "multicloud_defender_plan_set"
    }

    fn schema(&self) -> Schema {
        let block = inputs::input_schema(Block::new().description(DESCRIPTION))
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
                 ARN), `managed_policy_arns`, `inline_policy_name` and `inline_policy` (JSON).",
            ))
            .attribute(computed(
                "cloudformation_template",
                Type::String,
                "The CloudFormation template (JSON) that creates the OIDC provider and the roles in one \
                 account, as the portal's download does. The customer's Entra ID tenant is its \
                 `CustomerTenantId` parameter.",
            ))
            .attribute(computed(
                "cloudformation_stackset_template",
                Type::String,
                "The same objects as a StackSet template for an organization's member accounts (no \
                 outputs).",
            ));
        Schema::new(block)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let _ = inputs::plan_set(config, diags);
    }

    async fn modify_plan(
        &self,
        _clients: Option<&ProviderClients>,
        plan: &mut PlanContext,
        diags: &mut Diagnostics,
    ) {
        if plan.planned.is_null() {
            return;
        }
        // Recomputed even when the configuration is unchanged, so that a provider upgrade that
        // changes the product knowledge shows up as a plan rather than hiding behind old state.
        if let Some(planned) = complete(&plan.planned, diags) {
            plan.planned = planned;
        }
    }

    async fn create(
        &self,
        _clients: &ProviderClients,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        complete(planned, diags)
    }

    async fn read(
        &self,
        _clients: &ProviderClients,
        current: &Value,
        _diags: &mut Diagnostics,
    ) -> Option<Value> {
        Some(current.clone())
    }

    async fn update(
        &self,
        _clients: &ProviderClients,
        _prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        complete(planned, diags)
    }

    async fn delete(&self, _clients: &ProviderClients, _state: &Value, _diags: &mut Diagnostics) {}

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
        complete(&value, diags)
    }
}
