//! `multicloud_aws_onboarding_template`: renders the CloudFormation authentication template for a
//! set of Defender plans without deploying anything, for teams that deploy it with their own
//! pipeline or review it first.

use async_trait::async_trait;

use crate::protocol::{AttrPath, Attribute, Block, DataSource, Diagnostics, Schema, Value};

use super::clients::ProviderClients;
use super::defender_plan_set_schema as inputs;
use super::validators;

/// The `multicloud_aws_onboarding_template` data source.
#[derive(Debug, Default, Clone, Copy)]
pub struct AwsOnboardingTemplateDataSource;

fn computed(name: &str, description: &str) -> Attribute {
    Attribute::string(name).computed().description(description)
}

#[async_trait]
impl DataSource<ProviderClients> for AwsOnboardingTemplateDataSource {
    fn type_name(&self) -> &'static str {
        "multicloud_aws_onboarding_template"
    }

    fn schema(&self) -> Schema {
        let block = inputs::input_schema(Block::new().description(
            "Renders the CloudFormation template that creates the OIDC trust and IAM roles Defender for \
             Cloud needs for a set of plans, without deploying it. Takes the same blocks and attributes \
             as `multicloud_defender_plan_set`, so it renders the templates of the plans a plan set \
             declares (the plan set itself does not store them); with `tenant_id` the template's \
             `CustomerTenantId` parameter defaults to it, so the template deploys as is.",
        ))
        .attribute(
            Attribute::string("tenant_id")
                .optional()
                .description("The customer's Entra ID tenant id; becomes the default of the `CustomerTenantId` parameter."),
        )
        .attribute(computed("id", "The plan set's id, as `multicloud_defender_plan_set` computes it."))
        .attribute(computed("cloudformation_template", "The template for a stack in one account (JSON)."))
        .attribute(computed(
            "cloudformation_stackset_template",
            "The template for an organization's member accounts, deployed as a StackSet (JSON).",
        ));
        Schema::new(block)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let _ = inputs::plan_set(config, diags);
        if let Some(t) = config.get("tenant_id").as_str()
            && let Err(detail) = validators::guid(t)
        {
            diags.attribute_error(AttrPath::root("tenant_id"), "Invalid tenant_id", detail);
        }
    }

    async fn read(
        &self,
        _clients: &ProviderClients,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        self.validate(config, diags);
        if diags.has_errors() {
            return None;
        }
        let plans = inputs::plan_set(config, diags)?;
        let (single, stackset) = inputs::templates(&plans, config.get("tenant_id").as_str());
        let mut out = config.clone();
        out.set_attr("id", plans.id());
        out.set_attr("cloudformation_template", single);
        out.set_attr("cloudformation_stackset_template", stackset);
        Some(out)
    }
}
