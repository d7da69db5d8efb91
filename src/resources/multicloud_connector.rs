//! `multicloud_connector`: the multicloud connector enabled by Azure Arc for one AWS account or
//! organization (`Microsoft.HybridConnectivity/publicCloudConnectors`), its solution
//! configurations and the AWS authentication template the service generates for them.

use async_trait::async_trait;

use crate::azure::hybrid_connectivity::{
    PublicCloudConnector, SolutionConfiguration, SolutionProperties, SolutionTypeSettings,
};
use crate::azure::{ArmClient, AzureError};
use crate::protocol::{AttrPath, Diagnostics, PlanContext, Resource, Schema, Value};

use super::clients::ProviderClients;
use super::errors;
use super::multicloud_connector_model::{self as model, ARC_ONBOARDING, INVENTORY};

/// The `multicloud_connector` resource.
#[derive(Debug, Default, Clone, Copy)]
pub struct MulticloudConnectorResource;

pub(crate) const TYPE_NAME: &str = "multicloud_connector";

/// Namespaces the connector and what it projects need.
const NAMESPACES: &[&str] = &[
    "Microsoft.HybridConnectivity",
    "Microsoft.HybridCompute",
    "Microsoft.AwsConnector",
];

const IMPORT_EXAMPLE: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-arc/providers/Microsoft.HybridConnectivity/publicCloudConnectors/aws-prod";

/// Splits a connector id into (subscription, resource group, name).
pub(crate) fn parse_id(id: &str) -> Result<(String, String, String), String> {
    let segments: Vec<&str> = id.trim_end_matches('/').split('/').collect();
    match segments.as_slice() {
        ["", subs, sub, groups, rg, providers, ns, kind, name]
            if subs.eq_ignore_ascii_case("subscriptions")
                && groups.eq_ignore_ascii_case("resourceGroups")
                && providers.eq_ignore_ascii_case("providers")
                && ns.eq_ignore_ascii_case("Microsoft.HybridConnectivity")
                && kind.eq_ignore_ascii_case("publicCloudConnectors")
                && !name.is_empty() =>
        {
            super::validators::guid(sub).map_err(|e| format!("{id:?}: {e}"))?;
            Ok(((*sub).into(), (*rg).into(), (*name).into()))
        }
        _ => Err(format!(
            "{id:?} is not a multicloud connector id; expected \
             /subscriptions/<subscription id>/resourceGroups/<resource group>/providers/\
             Microsoft.HybridConnectivity/publicCloudConnectors/<name>, for example {IMPORT_EXAMPLE}"
        )),
    }
}

#[async_trait]
impl Resource<ProviderClients> for MulticloudConnectorResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        super::multicloud_connector_schema::schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        model::check(config, diags);
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
            clients.check_azure(diags).await;
        }
        let sub = clients.and_then(ProviderClients::default_subscription_id);
        super::multicloud_connector_schema::settle(plan, sub);
    }

    async fn create(
        &self,
        clients: &ProviderClients,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let arm = clients.azure(diags).await?;
        model::check(planned, diags);
        if diags.has_errors() {
            return None;
        }
        let id = match planned.get("id").as_str() {
            Some(id) => id.to_owned(),
            None => format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.HybridConnectivity/publicCloudConnectors/{}",
                arm.subscription_id(),
                text(planned, "resource_group_name"),
                text(planned, "name")
            ),
        };
        if let Err(e) = arm.ensure_registered(NAMESPACES).await {
            errors::azure(
                diags,
                "Cannot register the multicloud connector's resource providers",
                &e,
            );
            return None;
        }
        match arm.public_cloud_connector(&id).await {
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
        let remote = match arm
            .put_public_cloud_connector(&id, &model::connector_body(planned))
            .await
        {
            Ok(r) => r,
            Err(e) => {
                errors::azure_write(diags, "Cannot create the multicloud connector", &e);
                // The PUT may have taken effect though its answer was lost: a connector that
                // exists is kept in state (tainted, with the error) instead of being orphaned.
                match arm.public_cloud_connector(&id).await {
                    Ok(Some(r)) => r,
                    _ => return None,
                }
            }
        };
        let mut state = planned.clone().with_attr("id", id.as_str());
        state.set_attr(
            "connector_primary_identifier",
            remote.properties.connector_primary_identifier.clone(),
        );
        // The connector exists from here on: a later failure keeps it in state (tainted by
        // Terraform) so it is not orphaned.
        apply_solutions(arm, &id, &[], planned, diags).await;
        let template = template(arm, &id, planned, diags).await;
        set_template(&mut state, template);
        Some(state)
    }

    async fn read(
        &self,
        clients: &ProviderClients,
        current: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let arm = clients.azure(diags).await?;
        let id = current.get("id").as_str()?.to_owned();
        let remote = match arm.public_cloud_connector(&id).await {
            Ok(None) => return None,
            Ok(Some(r)) => r,
            Err(e) => {
                errors::azure(diags, "Cannot read the multicloud connector", &e);
                return Some(current.clone());
            }
        };
        let solutions = match arm.solution_configurations(&id).await {
            Ok(s) => s,
            Err(e) => {
                errors::azure(
                    diags,
                    "Cannot read the connector's solution configurations",
                    &e,
                );
                return Some(current.clone());
            }
        };
        let mut state = refreshed(current, &id, &remote, &solutions);
        if state.get("authentication_template").is_null() {
            // Imported: the template is generated once for what the connector has.
            let t = template(arm, &id, &state, diags).await;
            set_template(&mut state, t);
        }
        Some(state)
    }

    async fn update(
        &self,
        clients: &ProviderClients,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let arm = clients.azure(diags).await?;
        model::check(planned, diags);
        if diags.has_errors() {
            return None;
        }
        let id = prior.get("id").as_str()?.to_owned();
        let connector_changed = ["tags", "excluded_account_ids"]
            .iter()
            .any(|k| prior.get(k) != planned.get(k));
        if connector_changed
            && let Err(e) = arm
                .put_public_cloud_connector(&id, &model::connector_body(planned))
                .await
        {
            errors::azure_write(diags, "Cannot update the multicloud connector", &e);
            return None;
        }
        let existing = match arm.solution_configurations(&id).await {
            Ok(s) => s,
            Err(e) => {
                errors::azure(
                    diags,
                    "Cannot read the connector's solution configurations",
                    &e,
                );
                return None;
            }
        };
        if model::solutions(prior) != model::solutions(planned) || existing.is_empty() {
            apply_solutions(arm, &id, &existing, planned, diags).await;
            if diags.has_errors() {
                return None;
            }
        }
        let mut state = planned.clone();
        if state.get("authentication_template").is_unknown() {
            let t = template(arm, &id, planned, diags).await;
            set_template(&mut state, t);
        }
        Some(state)
    }

    async fn delete(&self, clients: &ProviderClients, current: &Value, diags: &mut Diagnostics) {
        let Some(arm) = clients.azure(diags).await else {
            return;
        };
        let Some(id) = current.get("id").as_str() else {
            return;
        };
        // The projection first (see multicloud_connector_cleanup), then the solutions, as the
        // portal does, so the connector's deletion has nothing to leave behind.
        let mut cleanup = super::multicloud_connector_cleanup::enabled(current);
        let all = match arm.solution_configurations(id).await {
            Ok(all) => all,
            Err(AzureError::NotFound(_)) => return,
            Err(e) => {
                errors::azure(
                    diags,
                    "Cannot list the connector's solution configurations",
                    &e,
                );
                return;
            }
        };
        // Without an inventory solution there is no projection of this connector to remove.
        cleanup &= all
            .iter()
            .any(|s| s.properties.solution_type.eq_ignore_ascii_case(INVENTORY));
        if cleanup
            && !super::multicloud_connector_cleanup::delete_projection(arm, &all, diags).await
        {
            return;
        }
        for s in all {
            if let Err(e) = arm.delete_solution_configuration(&s.id).await {
                errors::azure(
                    diags,
                    &format!("Cannot delete the solution configuration {:?}", s.name),
                    &e,
                );
                return;
            }
        }
        if let Err(e) = arm.delete_public_cloud_connector(id).await {
            errors::azure(diags, "Cannot delete the multicloud connector", &e);
            return;
        }
        if cleanup {
            super::multicloud_connector_cleanup::delete_empty_group(arm, current, diags).await;
        }
    }

    async fn import(
        &self,
        _clients: &ProviderClients,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        match parse_id(id) {
            Ok((_, rg, name)) => Some(Value::object([
                ("id", Value::from(id.trim_end_matches('/'))),
                ("resource_group_name", Value::from(rg)),
                ("name", Value::from(name)),
            ])),
            Err(detail) => {
                diags.error(
                    "Invalid import id",
                    format!(
                        "{detail}\n\nImport a multicloud connector by its ARM id:\n  terraform import {TYPE_NAME}.prod {IMPORT_EXAMPLE}"
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

/// Writes the planned solutions and removes the ones no longer planned. An existing
/// configuration of a type is rewritten under its own name.
async fn apply_solutions(
    arm: &ArmClient,
    id: &str,
    existing: &[SolutionConfiguration],
    planned: &Value,
    diags: &mut Diagnostics,
) {
    let wanted = model::solutions(planned);
    for s in &wanted {
        let current = existing.iter().find(|e| {
            e.properties
                .solution_type
                .eq_ignore_ascii_case(&s.solution_type)
        });
        if current.is_some_and(|c| c.properties.solution_settings == s.solution_settings) {
            continue;
        }
        let (name, block) = if s.solution_type == INVENTORY {
            (model::INVENTORY_NAME, "inventory")
        } else {
            (model::ARC_ONBOARDING_NAME, "arc_onboarding")
        };
        let name = current.map_or(name, |c| c.name.as_str());
        let body = SolutionConfiguration {
            properties: SolutionProperties {
                solution_type: s.solution_type.clone(),
                solution_settings: s.solution_settings.clone(),
                status: None,
            },
            ..SolutionConfiguration::default()
        };
        if let Err(e) = arm.put_solution_configuration(id, name, &body).await {
            let mut detail = e.to_string();
            detail.push_str("\n\nCheck the block's settings against the solution's documentation.");
            diags.attribute_error(
                AttrPath::root(block),
                "Cannot write the solution configuration",
                detail,
            );
            return;
        }
    }
    for e in existing {
        let still = wanted.iter().any(|w| {
            w.solution_type
                .eq_ignore_ascii_case(&e.properties.solution_type)
        });
        if !still && let Err(err) = arm.delete_solution_configuration(&e.id).await {
            errors::azure(
                diags,
                &format!("Cannot remove the solution configuration {:?}", e.name),
                &err,
            );
            return;
        }
    }
}

/// Sets the template and the roles taken from it.
fn set_template(state: &mut Value, template: Value) {
    let roles = template
        .as_str()
        .map_or(Value::Null, super::multicloud_connector_roles::roles);
    state.set_attr("aws_roles", roles);
    state.set_attr("authentication_template", template);
}

/// The generated template as a JSON string; null (with an error) when generation fails.
async fn template(arm: &ArmClient, id: &str, value: &Value, diags: &mut Diagnostics) -> Value {
    let solutions: Vec<SolutionTypeSettings> = model::solutions(value);
    match arm.generate_aws_template(id, &solutions).await {
        Ok(t) => Value::from(t.to_string()),
        Err(e) => {
            errors::azure(diags, "Cannot generate the AWS authentication template", &e);
            Value::Null
        }
    }
}

/// State from what Azure holds, keeping the prior spelling where it means the same.
fn refreshed(
    current: &Value,
    id: &str,
    remote: &PublicCloudConnector,
    solutions: &[SolutionConfiguration],
) -> Value {
    let mut state = current.clone();
    let p = &remote.properties;
    state.set_attr("id", id);
    let location = super::locations::as_written(current.get("location").as_str(), &remote.location);
    state.set_attr("location", location);
    state.set_attr("aws_account_id", p.aws_cloud_profile.account_id.as_str());
    state.set_attr(
        "aws_resource_group_name",
        model::aws_resource_group(&p.aws_cloud_profile.account_id),
    );
    let org = p.aws_cloud_profile.is_organizational_account;
    if org || current.get("organization").as_bool().is_some() {
        state.set_attr("organization", org);
    }
    state.set_attr("stack_set_name", model::stack_set_name(org));
    let excluded = &p.aws_cloud_profile.excluded_accounts;
    if !excluded.is_empty() || !current.get("excluded_account_ids").is_null() {
        state.set_attr(
            "excluded_account_ids",
            Value::string_set(excluded.iter().cloned()),
        );
    }
    if !remote.tags.is_empty() || !current.get("tags").is_null() {
        state.set_attr(
            "tags",
            Value::map(
                remote
                    .tags
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from(v.as_str()))),
            ),
        );
    }
    state.set_attr(
        "connector_primary_identifier",
        p.connector_primary_identifier.clone(),
    );
    for (block, solution_type) in [("inventory", INVENTORY), ("arc_onboarding", ARC_ONBOARDING)] {
        let found = solutions.iter().find(|s| {
            s.properties
                .solution_type
                .eq_ignore_ascii_case(solution_type)
        });
        let value = found.map_or(Value::Null, |s| {
            model::block_from_settings(
                solution_type,
                &s.properties.solution_settings,
                current.get(block),
            )
        });
        state.set_attr(block, value);
    }
    state
}
