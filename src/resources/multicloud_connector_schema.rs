//! `multicloud_connector`'s schema and the plan adjustments that make every value known at plan
//! time (solution defaults, the projection resource group, the template when solutions stay).

use crate::protocol::{Attribute, Block, NestedBlock, PlanContext, Schema, Type, Value};

use super::multicloud_connector_model::{self as model, SYNC_HOURS};

const DESCRIPTION: &str = "Connects an AWS account (or an AWS Organizations management account) to \
Azure through the multicloud connector enabled by Azure Arc \
(`Microsoft.HybridConnectivity/publicCloudConnectors`, api-version `2024-12-01`), with its \
solutions: `inventory {}` projects the account's AWS resources into Azure, `arc_onboarding {}` \
Arc-enables its EC2 instances. Each block is one solution configuration of the connector; adding or \
removing a block adds or removes the solution in place.\n\n\
The connector works once the authentication template it generates (`authentication_template`, a \
CloudFormation template) is deployed in the AWS account, as a stack (and, for organizations, as the \
StackSet `AzureArcMultiCloudStackset`). `multicloud_aws_oidc_trust` deploys it from `aws_roles` \
(`deployment = \"cloudformation\"` for the stack); for an organization, give its \
`organization {}` block `stack_set_name = multicloud_connector.<name>.stack_set_name` and the \
connector's `excluded_account_ids`, and run with the management account's credentials.\n\n\
The inventory projects the AWS resources into the resource group `aws_<account id>` \
(`aws_resource_group_name`): `Microsoft.AwsConnector/*` resources, and EC2 instances as \
`Microsoft.HybridCompute/machines`. The service keeps them when the connector is deleted; \
destroy deletes them (and the group once empty) unless `delete_inventory_on_destroy = false`.\n\n\
The resource providers `Microsoft.HybridConnectivity`, `Microsoft.HybridCompute` and \
`Microsoft.AwsConnector` are registered when needed (Contributor on the subscription). A connector \
that already exists must be imported.";

fn sync_attributes(block: Block, what: &str) -> Block {
    block
        .attribute(
            Attribute::set("regions", Type::String)
                .optional()
                .description(format!(
                    "The AWS regions to scan for {what}, for example `[\"us-east-1\"]`. Omit it to scan every region."
                )),
        )
        .attribute(
            Attribute::bool("periodic_sync")
                .optional()
                .computed()
                .use_state_for_unknown()
                .description(
                    "Whether the account is scanned again periodically (default `true`); `false` scans it once.",
                ),
        )
        .attribute(
            Attribute::int("sync_interval_hours")
                .optional()
                .computed()
                .use_state_for_unknown()
                .description(format!(
                    "Hours between periodic scans, {} to {} (default 1). Only with periodic sync; null without.",
                    SYNC_HOURS.start(),
                    SYNC_HOURS.end()
                )),
        )
}

/// The resource schema.
pub(crate) fn schema() -> Schema {
    let inventory = sync_attributes(
        Block::new().description(
            "The Inventory solution (`Microsoft.AssetManagement`): scans the account and projects its \
             resources into `aws_resource_group_name`. Needs read access to the account (the template's \
             inventory role).",
        ),
        "resources",
    )
    .attribute(
        Attribute::set("services", Type::String)
            .optional()
            .description(format!(
                "The AWS services to scan, from {}. Omit it to scan every service.",
                model::INVENTORY_SERVICES
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
    );
    let arc = sync_attributes(
        Block::new().description(
            "The Arc onboarding solution (`Microsoft.HybridCompute.Onboard`): installs the Azure \
             Connected Machine agent on the account's EC2 instances through SSM. Needs EC2 write \
             access (the template's onboarding role).",
        ),
        "EC2 instances",
    )
    .attribute(
        Attribute::string("connectivity")
            .optional()
            .computed()
            .use_state_for_unknown()
            .description(
                "How the agent reaches Azure: `public` (public endpoints, the default) or `proxy` \
                 (through `proxy_url`).",
            ),
    )
    .attribute(Attribute::string("proxy_url").optional().description(
        "The proxy server the EC2 instances reach Azure through, an http(s) URL such as \
         `http://proxy.example.com:3128`. Required with `connectivity = \"proxy\"`, not allowed otherwise.",
    ));
    let computed = |a: Attribute| a.computed().use_state_for_unknown();
    Schema::new(
        Block::new()
            .description(DESCRIPTION)
            .attribute(computed(Attribute::string("id")).description(
                "The ARM id: `/subscriptions/<subscription>/resourceGroups/<resource group>/providers/Microsoft.HybridConnectivity/publicCloudConnectors/<name>`.",
            ))
            .attribute(
                Attribute::string("name")
                    .required()
                    .force_new()
                    .description("The connector's name: 3 to 63 letters, digits or hyphens, unique in the resource group."),
            )
            .attribute(
                Attribute::string("resource_group_name")
                    .required()
                    .force_new()
                    .description("The existing resource group the connector is created in, in the provider's subscription."),
            )
            .attribute(
                Attribute::string("location")
                    .required()
                    .force_new()
                    .description(format!(
                        "The Azure region of the connector, one of {}.",
                        model::SUPPORTED_LOCATIONS.join(", ")
                    )),
            )
            .attribute(
                Attribute::string("aws_account_id")
                    .required()
                    .force_new()
                    .description("The AWS account to connect (12 digits); the management account with `organization`. Changing it replaces the connector."),
            )
            .attribute(
                Attribute::bool("organization")
                    .optional()
                    .force_new()
                    .description("Whether `aws_account_id` is an organization's management account whose member accounts are connected too (default `false`). Changing it replaces the connector."),
            )
            .attribute(
                Attribute::set("excluded_account_ids", Type::String)
                    .optional()
                    .description("Member accounts (12 digits) left out of an organization connection."),
            )
            .attribute(
                Attribute::map("tags", Type::String)
                    .optional()
                    .description("Tags of the connector resource."),
            )
            .attribute(computed(Attribute::string("connector_primary_identifier")).description(
                "The identifier Azure gave the connector; the authentication template's roles trust tokens for it.",
            ))
            .attribute(computed(Attribute::string("stack_set_name")).description(
                "For an organization (`organization = true`), the name the connector's \
                 documentation gives the StackSet that deploys `authentication_template` to the \
                 member accounts, `AzureArcMultiCloudStackset`; null otherwise. Pass it to \
                 `multicloud_aws_oidc_trust`'s `organization { stack_set_name = ... }`.",
            ))
            .attribute(
                Attribute::bool(super::multicloud_connector_cleanup::ATTRIBUTE)
                    .optional()
                    .description(
                        "Whether destroy also deletes the Azure representations of the AWS \
                         resources the inventory synced into `aws_resource_group_name` (default \
                         `true`), and that group when nothing else is left in it. The service \
                         itself keeps them when the connector is deleted: syncs stop and the \
                         copies go stale. Set `false` to keep them.",
                    ),
            )
            .attribute(computed(Attribute::string("aws_resource_group_name")).description(
                "The resource group (`aws_<account id>`) the inventory and Arc-enabled EC2 instances land in.",
            ))
            .attribute(Attribute::string("authentication_template").computed().description(
                "The CloudFormation template (JSON) Azure generated for the connector and its solutions: \
                 deploy it in the AWS account (for example with `aws_cloudformation_stack`). It changes \
                 when the solutions change.",
            ))
            .attribute(Attribute::list("aws_roles", role_type()).computed().description(
                "The IAM roles of `authentication_template`, in the shape `multicloud_aws_oidc_trust` \
                 takes as `roles` (`key`, `name`, `trust`, `audience`, `managed_policy_arns`, \
                 `inline_policy_name`, `inline_policy`, `trust_policy`): roles trusting the template's \
                 OIDC provider become `customer_tenant_oidc` roles, the others `aws_service` roles. \
                 Other template resources (such as an instance profile) are not part of it; deploy the \
                 template itself to get them.",
            ))
            .block(NestedBlock::single("inventory", inventory))
            .block(NestedBlock::single("arc_onboarding", arc)),
    )
}

/// One element of `aws_roles`: the trust's role shape.
fn role_type() -> Type {
    Type::object([
        ("key", Type::String),
        ("name", Type::String),
        ("trust", Type::String),
        ("audience", Type::String),
        ("managed_policy_arns", Type::list(Type::String)),
        ("inline_policy_name", Type::String),
        ("inline_policy", Type::String),
        ("trust_policy", Type::String),
    ])
}

/// Fills the solution defaults into a planned block so the plan shows what apply writes.
fn settle_block(block: &mut Value, arc: bool) {
    if block.is_null() || block.is_unknown() {
        return;
    }
    if block.get("periodic_sync").is_unknown() {
        block.set_attr("periodic_sync", true);
    }
    let periodic = block.get("periodic_sync").as_bool();
    if periodic == Some(false) {
        block.set_attr("sync_interval_hours", Value::Null);
    } else if periodic == Some(true)
        && (block.get("sync_interval_hours").is_null()
            || block.get("sync_interval_hours").is_unknown())
    {
        block.set_attr("sync_interval_hours", 1_i64);
    }
    if arc && block.get("connectivity").is_unknown() {
        block.set_attr("connectivity", "public");
    }
}

/// Plan adjustments beyond the generic plan.
pub(crate) fn settle(plan: &mut PlanContext, subscription_id: Option<String>) {
    for (name, arc) in [("inventory", false), ("arc_onboarding", true)] {
        if let Some(block) = plan.planned.get_mut(name) {
            // A configured interval wins over a kept one; the block's interval follows
            // periodic_sync when only that changed.
            let configured = plan.config.get(name).get("sync_interval_hours").clone();
            if configured.is_null()
                && plan.config.get(name).get("periodic_sync").as_bool() == Some(true)
                && block.get("sync_interval_hours").is_null()
            {
                block.set_attr("sync_interval_hours", Value::Unknown);
            }
            settle_block(block, arc);
        }
    }
    if !plan.planned.get("organization").is_unknown() {
        let org = plan.planned.get("organization").as_bool() == Some(true);
        plan.planned
            .set_attr("stack_set_name", model::stack_set_name(org));
    }
    if let Some(account) = plan.planned.get("aws_account_id").as_str() {
        let rg = model::aws_resource_group(account);
        plan.planned.set_attr("aws_resource_group_name", rg);
    }
    match &plan.prior {
        None => {
            if let (Some(sub), Some(rg), Some(name)) = (
                subscription_id,
                plan.config.get("resource_group_name").as_str(),
                plan.config.get("name").as_str(),
            ) {
                let id = format!(
                    "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.HybridConnectivity/publicCloudConnectors/{name}"
                );
                plan.planned.set_attr("id", id);
            }
        }
        Some(prior) => {
            let same_solutions = plan.planned.get("inventory").is_fully_known()
                && plan.planned.get("arc_onboarding").is_fully_known()
                && model::solutions(prior) == model::solutions(&plan.planned);
            // Kept when the solutions stay, regenerated otherwise (also when only a block was
            // removed, which the generic plan does not see as a change).
            for name in ["authentication_template", "aws_roles"] {
                let value = if same_solutions && plan.requires_replace.is_empty() {
                    prior.get(name).clone()
                } else {
                    Value::Unknown
                };
                plan.planned.set_attr(name, value);
            }
        }
    }
}
