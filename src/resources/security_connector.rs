//! `multicloud_security_connector`: Defender for Cloud's connector for one AWS account (or an
//! AWS Organizations management account), `Microsoft.Security/securityConnectors`.

use async_trait::async_trait;

use crate::azure::ArmClient;
use crate::azure::security_connector::SecurityConnector;
use crate::protocol::{
    AttrPath, Attribute, Block, Diagnostics, NestedBlock, PlanContext, Resource, Schema, Type,
    Value,
};

use super::clients::ProviderClients;
use super::errors;
use super::ids::SecurityConnectorId;
use super::security_connector_checks as checks;
use super::security_connector_prerequisites as prerequisites;
use super::security_connector_state::{self as state, BodyError};

/// The `multicloud_security_connector` resource.
#[derive(Debug, Default, Clone, Copy)]
pub struct SecurityConnectorResource;

pub(crate) const TYPE_NAME: &str = "multicloud_security_connector";

/// The namespace the connector lives in, registered before the first create.
const NAMESPACE: &str = "Microsoft.Security";

const DESCRIPTION: &str = "Connects an AWS account to Microsoft Defender for Cloud: the native AWS \
connector (`Microsoft.Security/securityConnectors`, api-version `2024-08-01-preview`). The \
offerings (which Defender plans are on, and how) come from a `multicloud_defender_plan_set`; the \
IAM role ARNs they need come from the AWS trust (`multicloud_aws_oidc_trust`) and are put into the \
right offering fields here, so a missing role is a plan-time error that names the offering.\n\n\
Defender for Cloud connects each AWS account once: creating a connector for an account that another \
connector in the subscription already connects fails and names that connector. The connector is \
available in the Azure commercial cloud only, and scans regions of the AWS public cloud only. \
A connector that already exists must be imported.\n\n\
Some AWS plans need a Defender plan on the Azure subscription too (Defender for Servers at the same \
sub-plan for Servers, Defender for SQL servers on machines for Databases; Owner for Arc \
auto-provisioning). When the offerings are new or changed, the plan reads the subscription and \
warns on `offerings` about what is missing and how to enable it; a plan set with \
`subscription_id` enables them in the same apply.";

const OFFERINGS: &str = "The connector's offerings as JSON: the `offerings` attribute of a \
`multicloud_defender_plan_set`. Each `<role_arn:KEY>` placeholder in it is replaced by \
`role_arns[KEY]` before the connector is written. Azure's additions (read-only descriptions, \
empty defaults) and its ordering of the offerings are not differences; a change made outside \
Terraform is shown in the plan.";

const ROLE_ARNS: &str = "The ARNs of the IAM roles the offerings need, by role key \
(`cspm_monitor`, `defender_for_servers`, `arc_auto_provisioning`, ... as in the plan set's \
`aws_roles`): normally `multicloud_aws_oidc_trust.<name>.role_arns`. Every role the enabled \
offerings need must be present. Roles must be in the AWS commercial partition.";

fn string(name: &str, description: &str) -> Attribute {
    Attribute::string(name).description(description)
}

#[async_trait]
impl Resource<ProviderClients> for SecurityConnectorResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        let organization = Block::new()
            .description(
                "Connect an AWS Organizations management account: Defender for Cloud then creates a \
                 connector for every member account it discovers, and for new ones. Omit the block to \
                 connect a single account. Changing it is an in-place update.",
            )
            .attribute(
                Attribute::set("excluded_account_ids", Type::String)
                    .optional()
                    .description("Member accounts (12-digit ids) Defender for Cloud leaves out."),
            )
            .attribute(
                string(
                    "stackset_name",
                    "The name of the CloudFormation StackSet that deploys the roles to the member accounts.",
                )
                .optional(),
            );
        Schema::new(
            Block::new()
                .description(DESCRIPTION)
                .attribute(
                    string(
                        "id",
                        "The ARM id: `/subscriptions/<subscription>/resourceGroups/<resource group>/providers/Microsoft.Security/securityConnectors/<name>`.",
                    )
                    .computed()
                    .use_state_for_unknown(),
                )
                .attribute(
                    string("name", "The connector's name.")
                        .required()
                        .force_new(),
                )
                .attribute(
                    string(
                        "resource_group_name",
                        "The existing resource group the connector is created in, in the provider's \
                         subscription.",
                    )
                    .required()
                    .force_new(),
                )
                .attribute(
                    string(
                        "location",
                        "The Azure region of the connector resource, for example `westeurope` (display \
                         names such as `West Europe` are the same region). National cloud regions are \
                         rejected; respelling the region is not a change.",
                    )
                    .required()
                    .force_new(),
                )
                .attribute(
                    Attribute::map("tags", Type::String)
                        .optional()
                        .description("Tags of the connector resource."),
                )
                .attribute(
                    string(
                        "aws_account_id",
                        "The AWS account to connect (12 digits): the management account when \
                         `organization` is set.",
                    )
                    .required()
                    .force_new(),
                )
                .attribute(
                    Attribute::set("regions", Type::String)
                        .optional()
                        .description(
                            "The AWS regions to scan, for example `[\"us-east-1\", \"eu-west-1\"]`. \
                             Omit it to scan every region, as the portal does by default.",
                        ),
                )
                .attribute(
                    Attribute::int("scan_interval_hours")
                        .optional()
                        .computed()
                        .use_state_for_unknown()
                        .description(
                            "How often Defender for Cloud scans the account: 4, 6, 12 or 24 hours, as \
                             the portal offers. When omitted, Defender for Cloud's default applies and \
                             is shown here; removing it later keeps the current interval.",
                        ),
                )
                .attribute(string("offerings", OFFERINGS).required())
                .attribute(
                    Attribute::map("role_arns", Type::String)
                        .optional()
                        .description(ROLE_ARNS),
                )
                .block(NestedBlock::single("organization", organization)),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        checks::check(config, diags);
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
        if let Some(clients) = clients {
            // A provider pointed at a national cloud fails here, at plan time, with the reason.
            clients.check_azure(diags).await;
        }
        match &plan.prior {
            None => {
                // The id is known before apply, so resources and outputs using it plan with it.
                let sub = clients.and_then(ProviderClients::default_subscription_id);
                if let (Some(sub), Some(rg), Some(name)) = (
                    sub,
                    plan.config.get("resource_group_name").as_str(),
                    plan.config.get("name").as_str(),
                ) {
                    let id = SecurityConnectorId {
                        subscription_id: sub,
                        resource_group_name: rg.to_owned(),
                        name: name.to_owned(),
                    };
                    plan.planned.set_attr("id", id.to_string());
                }
            }
            Some(prior) => {
                // `West Europe` and `westeurope` are one region: writing it differently is an
                // in-place update, not a new connector.
                let same_region = match (
                    prior.get("location").as_str(),
                    plan.planned.get("location").as_str(),
                ) {
                    (Some(a), Some(b)) => super::locations::same(a, b),
                    _ => false,
                };
                if same_region {
                    plan.requires_replace
                        .retain(|p| *p != AttrPath::root("location"));
                }
            }
        }
        if let Some(clients) = clients {
            prerequisites::warn_missing(clients, plan, diags).await;
        }
    }

    async fn create(
        &self,
        clients: &ProviderClients,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let arm = clients.azure(diags).await?;
        let body = body(planned, diags)?;
        let id = match planned.get("id").as_str() {
            Some(id) => id.to_owned(),
            None => SecurityConnectorId {
                subscription_id: arm.subscription_id().to_owned(),
                resource_group_name: text(planned, "resource_group_name"),
                name: text(planned, "name"),
            }
            .to_string(),
        };
        if let Err(e) = arm.ensure_registered(&[NAMESPACE]).await {
            errors::azure(diags, "Cannot register Microsoft.Security", &e);
            return None;
        }
        match arm.security_connector(&id).await {
            Ok(None) => {}
            Ok(Some(_)) => {
                errors::already_exists(diags, &id, TYPE_NAME);
                return None;
            }
            Err(e) => {
                errors::azure(diags, "Cannot check whether the connector exists", &e);
                return None;
            }
        }
        let account = text(planned, "aws_account_id");
        if !account_is_free(arm, &id, &account, diags).await {
            return None;
        }
        match arm.put_security_connector(&id, &body).await {
            Ok(remote) => Some(state::applied(planned, &id, &remote)),
            Err(e) => {
                errors::azure_write(diags, "Cannot create the security connector", &e);
                // A PUT whose answer was lost (or that failed after ARM stored the connector)
                // may still have created it: keep it in state, tainted, rather than leave it
                // for the next apply to trip over as "already exists".
                match arm.security_connector(&id).await {
                    Ok(Some(remote)) => Some(state::applied(planned, &id, &remote)),
                    _ => None,
                }
            }
        }
    }

    async fn read(
        &self,
        clients: &ProviderClients,
        current: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let arm = clients.azure(diags).await?;
        let id = current.get("id").as_str()?.to_owned();
        match arm.security_connector(&id).await {
            Ok(None) => None,
            Ok(Some(remote)) if !state::is_aws(&remote) => {
                diags.error(
                    "Not an AWS connector",
                    format!(
                        "{id} connects a {} environment; {TYPE_NAME} manages AWS account connectors only.",
                        remote
                            .properties
                            .environment_name
                            .as_deref()
                            .unwrap_or("non-AWS")
                    ),
                );
                None
            }
            Ok(Some(remote)) => Some(state::refreshed(&remote, current)),
            Err(e) => {
                errors::azure(diags, "Cannot read the security connector", &e);
                Some(current.clone())
            }
        }
    }

    async fn update(
        &self,
        clients: &ProviderClients,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let arm = clients.azure(diags).await?;
        let body = body(planned, diags)?;
        let id = prior.get("id").as_str()?.to_owned();
        match arm.put_security_connector(&id, &body).await {
            Ok(remote) => Some(state::applied(planned, &id, &remote)),
            Err(e) => {
                errors::azure_write(diags, "Cannot update the security connector", &e);
                None
            }
        }
    }

    async fn delete(&self, clients: &ProviderClients, current: &Value, diags: &mut Diagnostics) {
        let Some(arm) = clients.azure(diags).await else {
            return;
        };
        let Some(id) = current.get("id").as_str() else {
            return;
        };
        if let Err(e) = arm.delete_security_connector(id).await {
            errors::azure(diags, "Cannot delete the security connector", &e);
        }
    }

    async fn import(
        &self,
        _clients: &ProviderClients,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        match SecurityConnectorId::parse(id) {
            Ok(parsed) => Some(state::imported(&parsed)),
            Err(detail) => {
                diags.error(
                    "Invalid import id",
                    format!(
                        "{detail}\n\nImport a security connector by its ARM id, for example:\n  terraform \
                         import {TYPE_NAME}.prod /subscriptions/00000000-0000-0000-0000-000000000000/\
                         resourceGroups/rg-security/providers/Microsoft.Security/securityConnectors/aws-prod"
                    ),
                );
                None
            }
        }
    }
}

fn text(value: &Value, name: &str) -> String {
    value.get(name).as_str().unwrap_or_default().to_owned()
}

/// The request for a fully known plan; what plan could not check (values unknown then) is
/// checked now and reported as at plan time.
fn body(planned: &Value, diags: &mut Diagnostics) -> Option<SecurityConnector> {
    checks::check(planned, diags);
    if diags.has_errors() {
        return None;
    }
    match state::request(planned) {
        Ok(body) => Some(body),
        Err(BodyError::Offerings(detail)) => {
            diags.attribute_error(AttrPath::root("offerings"), "Invalid offerings", detail);
            None
        }
        Err(BodyError::Unresolved(places)) => {
            checks::report_unresolved(&places, diags);
            None
        }
    }
}

/// Defender for Cloud connects an AWS account once: another connector in the subscription for
/// the same account means this one cannot work, so it is named rather than created beside it.
async fn account_is_free(
    arm: &ArmClient,
    id: &str,
    account: &str,
    diags: &mut Diagnostics,
) -> bool {
    let Ok(target) = SecurityConnectorId::parse(id) else {
        return true;
    };
    let all = match arm
        .security_connectors_in_subscription(&target.subscription_id)
        .await
    {
        Ok(all) => all,
        Err(e) => {
            errors::azure(
                diags,
                "Cannot list the subscription's security connectors",
                &e,
            );
            return false;
        }
    };
    let other = all.iter().find(|c| {
        state::is_aws(c)
            && !target.same_as(&c.id)
            && c.properties
                .hierarchy_identifier
                .as_deref()
                .is_some_and(|h| h == account)
    });
    let Some(other) = other else { return true };
    diags.attribute_error(
        AttrPath::root("aws_account_id"),
        "AWS account already connected",
        format!(
            "AWS account {account} is already connected to Defender for Cloud by the security connector \
             {:?} ({}). Defender for Cloud connects each AWS account only once. Manage that connector \
             instead (import it with `terraform import {TYPE_NAME}.<name> {}`), or delete it first.",
            other.name, other.id, other.id
        ),
    );
    false
}

#[cfg(test)]
#[path = "security_connector_tests.rs"]
mod tests;
