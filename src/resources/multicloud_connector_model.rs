//! `multicloud_connector`'s mapping between Terraform values and the HybridConnectivity API:
//! plan-time checks, the solution blocks as solution settings (every value a string, as the API
//! types them) and back, and the connector body.

use std::collections::BTreeMap;

use crate::azure::hybrid_connectivity::{
    AwsCloudProfile, ConnectorProperties, HOST_TYPE_AWS, PublicCloudConnector, SolutionTypeSettings,
};
use crate::protocol::{AttrPath, Diagnostics, Value};

use super::{validators, value_checks};

/// Solution type of the inventory solution.
pub(crate) const INVENTORY: &str = "Microsoft.AssetManagement";
/// Solution type of Arc onboarding of EC2 instances.
pub(crate) const ARC_ONBOARDING: &str = "Microsoft.HybridCompute.Onboard";
/// Name of the solution configuration each block writes (when none of its type exists yet).
pub(crate) const INVENTORY_NAME: &str = "inventory";
/// See [`INVENTORY_NAME`].
pub(crate) const ARC_ONBOARDING_NAME: &str = "arc-onboarding";

/// AWS services the inventory solution scans, as the solution's settings name them.
pub(crate) const INVENTORY_SERVICES: &[&str] = &[
    "apigateway",
    "cloudfront",
    "cloudtrail",
    "dynamodb",
    "ec2",
    "ecr",
    "ecs",
    "eks",
    "elasticloadbalancing",
    "iam",
    "kms",
    "lambda",
    "rds",
    "s3",
    "sns",
    "sqs",
];

/// Azure regions the connector resource can be created in.
pub(crate) const SUPPORTED_LOCATIONS: &[&str] = &[
    "australiaeast",
    "brazilsouth",
    "canadacentral",
    "centralus",
    "eastus",
    "eastus2",
    "northeurope",
    "southeastasia",
    "uksouth",
    "westeurope",
    "westus2",
    "westus3",
];

/// The StackSet name the connector's documentation prescribes for organizations: the
/// authentication template deployed to the member accounts under this name.
pub(crate) const ORGANIZATION_STACK_SET_NAME: &str = "AzureArcMultiCloudStackset";

/// `stack_set_name` of a connector: the prescribed StackSet for organizations, null otherwise.
pub(crate) fn stack_set_name(organization: bool) -> Value {
    if organization {
        Value::from(ORGANIZATION_STACK_SET_NAME)
    } else {
        Value::Null
    }
}

/// Hours between periodic syncs the portal offers.
pub(crate) const SYNC_HOURS: std::ops::RangeInclusive<i64> = 1..=24;
/// The default of `periodic_sync` and `sync_interval_hours`.
const DEFAULT_SYNC_HOURS: i64 = 1;

/// `connectivity` values and the API's names for them.
const CONNECTIVITY: &[(&str, &str)] = &[("public", "PublicEndpoint"), ("proxy", "ProxyServer")];

/// Plan-time checks; unknown values are skipped (checked again at apply).
pub(crate) fn check(config: &Value, diags: &mut Diagnostics) {
    if let Some(location) = config.get("location").as_str() {
        let canonical = super::locations::canonical(location);
        if !SUPPORTED_LOCATIONS.contains(&canonical.as_str()) {
            diags.attribute_error(
                AttrPath::root("location"),
                "Unsupported region",
                format!(
                    "{location:?} is not a region the multicloud connector is offered in; use one of {}.",
                    SUPPORTED_LOCATIONS.join(", ")
                ),
            );
        }
    }
    if let Some(rg) = config.get("resource_group_name").as_str()
        && let Err(detail) = validators::resource_group_name(rg)
    {
        diags.attribute_error(
            AttrPath::root("resource_group_name"),
            "Invalid resource group name",
            detail,
        );
    }
    for (k, v) in config.get("tags").as_map().into_iter().flatten() {
        if let Err(detail) = validators::azure_tag(k, v.as_str().unwrap_or_default()) {
            diags.attribute_error(AttrPath::root("tags").key(k), "Invalid tag", detail);
        }
    }
    if let Some(account) = config.get("aws_account_id").as_str()
        && let Err(e) = validators::aws_account_id(account)
    {
        diags.attribute_error(
            AttrPath::root("aws_account_id"),
            "Invalid AWS account id",
            e,
        );
    }
    if let Some(name) = config.get("name").as_str() {
        let ok = (3..=63).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            diags.attribute_error(
                AttrPath::root("name"),
                "Invalid connector name",
                format!("{name:?} must be 3 to 63 letters, digits or hyphens."),
            );
        }
    }
    if config.get("organization").as_bool() != Some(true)
        && !config
            .get("excluded_account_ids")
            .as_string_vec()
            .is_empty()
    {
        diags.attribute_error(
            AttrPath::root("excluded_account_ids"),
            "Excluded accounts need an organization",
            "excluded_account_ids only applies to an organization connection; set organization = true or remove it.",
        );
    }
    for id in config.get("excluded_account_ids").as_string_vec() {
        if let Err(e) = validators::aws_account_id(&id) {
            diags.attribute_error(
                AttrPath::root("excluded_account_ids"),
                "Invalid AWS account id",
                e,
            );
        }
    }
    let inventory = config.get("inventory");
    let arc = config.get("arc_onboarding");
    if inventory.is_null() && arc.is_null() {
        diags.attribute_error(
            AttrPath::root("inventory"),
            "No solution",
            "Add an `inventory {}` block, an `arc_onboarding {}` block, or both: a connector without a solution does nothing.",
        );
    }
    if !inventory.is_null() {
        check_common("inventory", inventory, diags);
        for s in inventory.get("services").as_string_vec() {
            if !INVENTORY_SERVICES.contains(&s.as_str()) {
                diags.attribute_error(
                    AttrPath::root("inventory").attr("services"),
                    "Unknown AWS service",
                    format!(
                        "{s:?} is not an AWS service the inventory scans; use some of {} (omit services to scan all).",
                        INVENTORY_SERVICES.join(", ")
                    ),
                );
            }
        }
    }
    if !arc.is_null() {
        check_common("arc_onboarding", arc, diags);
        check_connectivity(arc, diags);
    }
}

fn check_common(block: &str, value: &Value, diags: &mut Diagnostics) {
    for r in value.get("regions").as_string_vec() {
        if let Err(e) = validators::aws_region(&r) {
            diags.attribute_error(
                AttrPath::root(block).attr("regions"),
                "Invalid AWS region",
                e,
            );
        }
    }
    let hours = value.get("sync_interval_hours");
    if let Err(detail) = value_checks::whole_number_in(hours, SYNC_HOURS) {
        diags.attribute_error(
            AttrPath::root(block).attr("sync_interval_hours"),
            "Sync interval out of range",
            format!("{detail} Hours between scans run from 1 to 24."),
        );
    } else if hours.as_i64().is_some() && value.get("periodic_sync").as_bool() == Some(false) {
        diags.attribute_error(
            AttrPath::root(block).attr("sync_interval_hours"),
            "Interval without periodic sync",
            "sync_interval_hours only applies with periodic_sync = true; remove it or enable periodic sync.",
        );
    }
}

fn check_connectivity(arc: &Value, diags: &mut Diagnostics) {
    let path = || AttrPath::root("arc_onboarding");
    let method = arc.get("connectivity");
    let proxy_url = arc.get("proxy_url");
    if let Some(m) = method.as_str()
        && !CONNECTIVITY.iter().any(|(k, _)| *k == m)
    {
        diags.attribute_error(
            path().attr("connectivity"),
            "Invalid connectivity method",
            format!("{m:?} is not `public` or `proxy`."),
        );
        return;
    }
    if let Some(url) = proxy_url.as_str()
        && let Err(e) = validators::http_url(url)
    {
        diags.attribute_error(path().attr("proxy_url"), "Invalid proxy URL", e);
    }
    if method.is_unknown() || proxy_url.is_unknown() {
        return;
    }
    let proxy = method.as_str() == Some("proxy");
    if proxy && proxy_url.is_null() {
        diags.attribute_error(
            path().attr("proxy_url"),
            "Proxy URL required",
            "connectivity = \"proxy\" needs proxy_url, the proxy server the EC2 instances reach Azure through, for example http://proxy.example.com:3128.",
        );
    } else if !proxy && !proxy_url.is_null() {
        diags.attribute_error(
            path().attr("proxy_url"),
            "Proxy URL without proxy",
            "proxy_url only applies with connectivity = \"proxy\"; set it or remove proxy_url.",
        );
    }
}

fn joined(value: &Value) -> Option<String> {
    let mut items = value.as_string_vec();
    items.sort();
    (!value.is_null()).then(|| items.join(","))
}

fn sync_settings(block: &Value, settings: &mut BTreeMap<String, String>) {
    let periodic = block.get("periodic_sync").as_bool().unwrap_or(true);
    settings.insert("periodicSync".into(), periodic.to_string());
    if periodic {
        let hours = block
            .get("sync_interval_hours")
            .as_i64()
            .unwrap_or(DEFAULT_SYNC_HOURS);
        settings.insert("periodicSyncTime".into(), hours.to_string());
    }
    if let Some(regions) = joined(block.get("regions")) {
        settings.insert("cloudProviderRegions".into(), regions);
    }
}

/// The solutions of a fully known value (plan or state), in a stable order.
pub(crate) fn solutions(value: &Value) -> Vec<SolutionTypeSettings> {
    let mut out = Vec::new();
    let inventory = value.get("inventory");
    if !inventory.is_null() {
        let mut settings = BTreeMap::new();
        sync_settings(inventory, &mut settings);
        if let Some(services) = joined(inventory.get("services")) {
            settings.insert("cloudProviderServiceTypes".into(), services);
        }
        out.push(SolutionTypeSettings {
            solution_type: INVENTORY.into(),
            solution_settings: settings,
        });
    }
    let arc = value.get("arc_onboarding");
    if !arc.is_null() {
        let mut settings = BTreeMap::new();
        sync_settings(arc, &mut settings);
        let method = arc.get("connectivity").as_str().unwrap_or("public");
        let api = CONNECTIVITY
            .iter()
            .find(|(k, _)| *k == method)
            .map_or("PublicEndpoint", |(_, v)| *v);
        settings.insert("connectivityMethod".into(), api.into());
        if let Some(url) = arc.get("proxy_url").as_str() {
            settings.insert("proxyServerUrl".into(), url.into());
        }
        out.push(SolutionTypeSettings {
            solution_type: ARC_ONBOARDING.into(),
            solution_settings: settings,
        });
    }
    out
}

fn list_of(settings: &BTreeMap<String, String>, key: &str) -> Value {
    settings.get(key).map_or(Value::Null, |v| {
        Value::string_set(v.split(',').map(str::trim).filter(|s| !s.is_empty()))
    })
}

/// The block for remote settings. `prior` (the block in state) is kept when it already asks for
/// exactly these settings, so defaults left out of the configuration stay out.
pub(crate) fn block_from_settings(
    solution_type: &str,
    settings: &BTreeMap<String, String>,
    prior: &Value,
) -> Value {
    if !prior.is_null() {
        let wanted = solutions(&Value::object([(
            if solution_type == INVENTORY {
                "inventory"
            } else {
                "arc_onboarding"
            },
            prior.clone(),
        )]));
        if wanted
            .first()
            .is_some_and(|w| &w.solution_settings == settings)
        {
            return prior.clone();
        }
    }
    let periodic = settings.get("periodicSync").map(|v| v == "true");
    let hours = settings
        .get("periodicSyncTime")
        .and_then(|h| h.parse::<i64>().ok());
    let mut block = Value::object([
        ("regions", list_of(settings, "cloudProviderRegions")),
        ("periodic_sync", Value::from(periodic.unwrap_or(true))),
        ("sync_interval_hours", Value::from(hours)),
    ]);
    if solution_type == INVENTORY {
        block.set_attr("services", list_of(settings, "cloudProviderServiceTypes"));
    } else {
        let method = settings
            .get("connectivityMethod")
            .and_then(|m| CONNECTIVITY.iter().find(|(_, v)| v == m))
            .map_or("public", |(k, _)| *k);
        block.set_attr("connectivity", method);
        block.set_attr(
            "proxy_url",
            settings.get("proxyServerUrl").map(String::as_str),
        );
    }
    block
}

/// The connector body for a fully known plan.
pub(crate) fn connector_body(planned: &Value) -> PublicCloudConnector {
    let tags = planned
        .get("tags")
        .as_map()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let mut excluded = planned.get("excluded_account_ids").as_string_vec();
    excluded.sort();
    PublicCloudConnector {
        id: String::new(),
        location: super::locations::canonical(planned.get("location").as_str().unwrap_or_default()),
        tags,
        properties: ConnectorProperties {
            host_type: HOST_TYPE_AWS.into(),
            aws_cloud_profile: AwsCloudProfile {
                account_id: planned
                    .get("aws_account_id")
                    .as_str()
                    .unwrap_or_default()
                    .into(),
                excluded_accounts: excluded,
                is_organizational_account: planned.get("organization").as_bool().unwrap_or(false),
            },
            provisioning_state: None,
            connector_primary_identifier: None,
        },
    }
}

/// The resource group the service projects the account's resources into.
pub(crate) fn aws_resource_group(account_id: &str) -> String {
    format!("aws_{account_id}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "multicloud_connector_model_tests.rs"]
mod tests;
