//! Between Terraform values and the ARM body of `multicloud_security_connector`: the request a
//! plan becomes, and the state a read produces. The read keeps the configured form of every
//! value Azure only re-cases, re-orders or completes, so those never show up as a diff, while a
//! real change made outside Terraform does.

use std::collections::BTreeMap;

use crate::azure::security_connector::{
    AwsEnvironmentData, AwsOrganizationalData, ENVIRONMENT_AWS, ENVIRONMENT_TYPE_AWS_ACCOUNT,
    MEMBERSHIP_ORGANIZATION, SecurityConnector, SecurityConnectorProperties,
};
use crate::onboarding::RoleKey;
use crate::protocol::Value;

use super::ids::SecurityConnectorId;
use super::security_connector_offerings::{self as offerings, Placeholder};

/// Why a plan cannot become a request (the plan-time checks make these rare: they catch what
/// was unknown during plan).
#[derive(Debug)]
pub(crate) enum BodyError {
    /// `offerings` is not usable JSON.
    Offerings(String),
    /// Placeholders without an ARN.
    Unresolved(Vec<Placeholder>),
}

/// The role ARN map of a value, by key; entries that are not role keys or not strings are left
/// out (the checks report them).
pub(crate) fn role_arn_map(value: &Value) -> BTreeMap<RoleKey, String> {
    value
        .as_map()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((RoleKey::parse(k)?, v.as_str()?.to_owned())))
        .collect()
}

fn strings(value: &Value) -> Option<Vec<String>> {
    value.as_list().map(|_| {
        let mut items = value.as_string_vec();
        items.sort();
        items
    })
}

/// The PUT body for a fully known plan.
pub(crate) fn request(planned: &Value) -> Result<SecurityConnector, BodyError> {
    let text = planned.get("offerings").as_str().unwrap_or_default();
    let parsed = offerings::parse(text).map_err(BodyError::Offerings)?;
    let filled = offerings::fill(&parsed, &role_arn_map(planned.get("role_arns")))
        .map_err(BodyError::Unresolved)?;
    let org = planned.get("organization");
    let organizational_data = (!org.is_null()).then(|| AwsOrganizationalData {
        organization_membership_type: MEMBERSHIP_ORGANIZATION.to_owned(),
        stackset_name: org.get("stackset_name").as_str().map(str::to_owned),
        excluded_account_ids: strings(org.get("excluded_account_ids")),
        parent_hierarchy_id: None,
    });
    let tags = planned
        .get("tags")
        .as_map()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect();
    Ok(SecurityConnector {
        location: super::locations::canonical(planned.get("location").as_str().unwrap_or_default()),
        tags,
        properties: SecurityConnectorProperties {
            hierarchy_identifier: planned.get("aws_account_id").as_str().map(str::to_owned),
            environment_name: Some(ENVIRONMENT_AWS.to_owned()),
            environment_data: Some(AwsEnvironmentData {
                environment_type: ENVIRONMENT_TYPE_AWS_ACCOUNT.to_owned(),
                organizational_data,
                regions: strings(planned.get("regions")),
                // Unknown in the plan when not configured: Azure picks its default.
                scan_interval: planned.get("scan_interval_hours").as_i64(),
                ..AwsEnvironmentData::default()
            }),
            offerings: filled,
            ..SecurityConnectorProperties::default()
        },
        ..SecurityConnector::default()
    })
}

/// The state after a create or update: the plan as planned (Terraform requires every planned
/// value back unchanged), with what only Azure knew filled in. A later read shows any difference.
pub(crate) fn applied(planned: &Value, id: &str, remote: &SecurityConnector) -> Value {
    let mut state = planned.clone();
    state.set_attr("id", id);
    if state.get("scan_interval_hours").is_unknown() {
        state.set_attr(
            "scan_interval_hours",
            Value::from(environment(remote).and_then(|e| e.scan_interval)),
        );
    }
    state
}

/// The state right after `terraform import`; the read that follows fills in the rest.
pub(crate) fn imported(id: &SecurityConnectorId) -> Value {
    Value::object([
        ("id", Value::from(id.to_string())),
        ("name", Value::from(&id.name)),
        ("resource_group_name", Value::from(&id.resource_group_name)),
        ("location", Value::Null),
        ("tags", Value::Null),
        ("aws_account_id", Value::Null),
        ("regions", Value::Null),
        ("scan_interval_hours", Value::Null),
        ("offerings", Value::Null),
        ("role_arns", Value::Null),
        ("organization", Value::Null),
    ])
}

fn environment(remote: &SecurityConnector) -> Option<&AwsEnvironmentData> {
    remote.properties.environment_data.as_ref()
}

/// Whether the connector is an AWS account connector (other environments share the type).
pub(crate) fn is_aws(remote: &SecurityConnector) -> bool {
    remote
        .properties
        .environment_name
        .as_deref()
        .is_some_and(|n| n.eq_ignore_ascii_case(ENVIRONMENT_AWS))
        && environment(remote).is_some_and(|e| {
            e.environment_type
                .eq_ignore_ascii_case(ENVIRONMENT_TYPE_AWS_ACCOUNT)
        })
}

/// `prior` when it says the same as `remote` in other casing.
fn same_text(prior: &Value, remote: &str) -> Value {
    match prior.as_str() {
        Some(p) if p.eq_ignore_ascii_case(remote) => prior.clone(),
        _ => Value::from(remote),
    }
}

/// A list Azure returned, as a set; an absent or empty list keeps a prior null or empty set.
fn string_set(remote: Option<&[String]>, prior: &Value) -> Value {
    match remote {
        Some(items) if !items.is_empty() => Value::string_set(items.iter().cloned()),
        _ if prior.as_list().is_some_and(<[Value]>::is_empty) => prior.clone(),
        Some(_) if !prior.is_null() => Value::Set(Vec::new()),
        _ => Value::Null,
    }
}

/// The state a read produces from what Azure holds, shaped by the prior state.
pub(crate) fn refreshed(remote: &SecurityConnector, prior: &Value) -> Value {
    let env = environment(remote);
    let remote_id = SecurityConnectorId::parse(&remote.id).ok();
    let id = match prior.get("id").as_str() {
        Some(p) if remote.id.is_empty() || p.eq_ignore_ascii_case(&remote.id) => p.to_owned(),
        _ => remote.id.clone(),
    };
    let name = remote_id
        .as_ref()
        .map_or(remote.name.as_str(), |i| i.name.as_str());
    let group = remote_id
        .as_ref()
        .map(|i| same_text(prior.get("resource_group_name"), &i.resource_group_name))
        .unwrap_or_else(|| prior.get("resource_group_name").clone());
    let location = Value::from(super::locations::as_written(
        prior.get("location").as_str(),
        &remote.location,
    ));
    let tags = if remote.tags.is_empty() && prior.get("tags").as_map().is_none_or(|m| m.is_empty())
    {
        prior.get("tags").clone()
    } else {
        Value::map(remote.tags.iter().map(|(k, v)| (k.clone(), Value::from(v))))
    };
    let scan_interval = env
        .and_then(|e| e.scan_interval)
        .map_or_else(|| prior.get("scan_interval_hours").clone(), Value::from);
    let (offerings, role_arns) = refreshed_offerings(&remote.properties.offerings, prior);
    Value::object([
        ("id", Value::from(id)),
        ("name", same_text(prior.get("name"), name)),
        ("resource_group_name", group),
        ("location", location),
        ("tags", tags),
        (
            "aws_account_id",
            Value::from(remote.properties.hierarchy_identifier.clone()),
        ),
        (
            "regions",
            string_set(env.and_then(|e| e.regions.as_deref()), prior.get("regions")),
        ),
        ("scan_interval_hours", scan_interval),
        ("offerings", offerings),
        ("role_arns", role_arns),
        (
            "organization",
            organization(env.and_then(|e| e.organizational_data.as_ref()), prior),
        ),
    ])
}

fn organization(remote: Option<&AwsOrganizationalData>, prior: &Value) -> Value {
    let Some(org) = remote.filter(|o| {
        o.organization_membership_type
            .eq_ignore_ascii_case(MEMBERSHIP_ORGANIZATION)
    }) else {
        return Value::Null;
    };
    let prior = prior.get("organization");
    Value::object([
        (
            "excluded_account_ids",
            string_set(
                org.excluded_account_ids.as_deref(),
                prior.get("excluded_account_ids"),
            ),
        ),
        ("stackset_name", Value::from(org.stackset_name.clone())),
    ])
}

/// `offerings` and `role_arns` after a read. When Azure's offerings are what the configured ones
/// ask for once the ARNs are filled in, the configured text stays; otherwise the state shows
/// Azure's offerings, with placeholders where the ARN is a known role's, so the plan shows the
/// drift. After an import (no prior map) the role map is read off the ARN fields.
fn refreshed_offerings(remote: &[serde_json::Value], prior: &Value) -> (Value, Value) {
    let prior_map = prior.get("role_arns");
    let (arns, arns_value) = if prior_map.is_null() {
        let found = offerings::role_arns_in(remote);
        let value = if found.is_empty() {
            Value::Null
        } else {
            Value::map(found.iter().map(|(k, v)| (k.as_str(), Value::from(v))))
        };
        (found, value)
    } else {
        (role_arn_map(prior_map), prior_map.clone())
    };
    let unchanged = prior
        .get("offerings")
        .as_str()
        .and_then(|text| offerings::parse(text).ok())
        .and_then(|wanted| offerings::fill(&wanted, &arns).ok())
        .is_some_and(|wanted| offerings::equivalent(remote, &wanted));
    let text = if unchanged {
        prior.get("offerings").clone()
    } else {
        Value::from(offerings::canonical(&offerings::with_placeholders(
            remote, &arns,
        )))
    };
    (text, arns_value)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    const ID: &str = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-sec/providers/Microsoft.Security/securityConnectors/aws-prod";
    const OFFERINGS: &str = r#"[{"nativeCloudConnection":{"cloudRoleArn":"<role_arn:cspm_monitor>"},"offeringType":"CspmMonitorAws"},{"defenderForServers":{"cloudRoleArn":"<role_arn:defender_for_servers>"},"offeringType":"DefenderForServersAws","subPlan":{"type":"P1"}}]"#;
    const CSPM: &str = "arn:aws:iam::123456789012:role/CspmMonitorAws";
    const SERVERS: &str = "arn:aws:iam::123456789012:role/DefenderForCloud-DefenderForServers";

    fn planned() -> Value {
        Value::object([
            ("id", Value::from(ID)),
            ("name", Value::from("aws-prod")),
            ("resource_group_name", Value::from("rg-sec")),
            ("location", Value::from("West Europe")),
            ("tags", Value::map([("env", Value::from("prod"))])),
            ("aws_account_id", Value::from("123456789012")),
            ("regions", Value::string_set(["us-east-1", "eu-west-1"])),
            ("scan_interval_hours", Value::from(12_i64)),
            ("offerings", Value::from(OFFERINGS)),
            (
                "role_arns",
                Value::map([
                    ("cspm_monitor", Value::from(CSPM)),
                    ("defender_for_servers", Value::from(SERVERS)),
                ]),
            ),
            ("organization", Value::Null),
        ])
    }

    /// What Azure would hold after the PUT, with the casing and additions ARM is known for.
    fn stored(planned: &Value) -> SecurityConnector {
        let mut c = request(planned).unwrap();
        c.id = ID.replace("resourceGroups/rg-sec", "resourcegroups/RG-SEC");
        c.name = "aws-prod".into();
        c.properties.offerings.reverse();
        c.properties.offerings[0]["description"] = json!("Defender for Servers");
        if let Some(env) = &mut c.properties.environment_data {
            env.account_name = Some("prod".into());
            if let Some(regions) = env.regions.as_mut() {
                regions.reverse();
            }
        }
        c
    }

    #[test]
    fn request_carries_every_setting_with_arns_filled() {
        let body = serde_json::to_value(request(&planned()).unwrap()).unwrap();
        assert_eq!(body["location"], "westeurope");
        assert_eq!(body["tags"], json!({"env": "prod"}));
        let p = &body["properties"];
        assert_eq!(p["hierarchyIdentifier"], "123456789012");
        assert_eq!(p["environmentName"], "AWS");
        assert_eq!(
            p["environmentData"],
            json!({"environmentType": "AwsAccount", "regions": ["eu-west-1", "us-east-1"], "scanInterval": 12})
        );
        assert_eq!(
            p["offerings"][0]["nativeCloudConnection"]["cloudRoleArn"],
            CSPM
        );
        assert_eq!(
            p["offerings"][1]["defenderForServers"]["cloudRoleArn"],
            SERVERS
        );
    }

    #[test]
    fn organization_mode_request() {
        let mut plan = planned();
        plan.set_attr(
            "organization",
            Value::object([
                (
                    "excluded_account_ids",
                    Value::string_set(["222222222222", "111111111111"]),
                ),
                ("stackset_name", Value::Null),
            ]),
        );
        let body = serde_json::to_value(request(&plan).unwrap()).unwrap();
        assert_eq!(
            body["properties"]["environmentData"]["organizationalData"],
            json!({"organizationMembershipType": "Organization", "excludedAccountIds": ["111111111111", "222222222222"]})
        );
        let state = refreshed(&stored(&plan), &plan);
        assert_eq!(state.get("organization"), plan.get("organization"));
    }

    #[test]
    fn missing_arns_keep_the_request_from_being_built() {
        let mut plan = planned();
        plan.set_attr(
            "role_arns",
            Value::map([("cspm_monitor", Value::from(CSPM))]),
        );
        match request(&plan) {
            Err(BodyError::Unresolved(p)) => assert_eq!(p[0].key, "defender_for_servers"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_read_of_what_was_applied_is_the_applied_state() {
        let plan = planned();
        let remote = stored(&plan);
        let applied = applied(&plan, ID, &remote);
        assert_eq!(applied, plan);
        assert_eq!(refreshed(&remote, &applied), applied);
    }

    #[test]
    fn server_defaults_do_not_show_as_changes() {
        let mut plan = planned();
        for name in ["tags", "regions"] {
            plan.set_attr(name, Value::Null);
        }
        plan.set_attr("scan_interval_hours", Value::Unknown);
        let mut remote = stored(&plan);
        // Azure answers with empty collections and its own default interval.
        if let Some(env) = &mut remote.properties.environment_data {
            env.regions = Some(Vec::new());
            env.scan_interval = Some(4);
        }
        let state = applied(&plan, ID, &remote);
        assert_eq!(state.get("scan_interval_hours").as_i64(), Some(4));
        assert_eq!(refreshed(&remote, &state), state);
    }

    #[test]
    fn drift_made_outside_terraform_shows() {
        let plan = planned();
        let mut remote = stored(&plan);
        remote.properties.offerings[0]["subPlan"]["type"] = json!("P2");
        remote.tags.insert("owner".into(), "someone".into());
        if let Some(env) = &mut remote.properties.environment_data {
            env.scan_interval = Some(24);
        }
        let state = refreshed(&remote, &plan);
        assert_eq!(state.get("scan_interval_hours").as_i64(), Some(24));
        assert_eq!(state.get("tags").as_map().map(|m| m.len()), Some(2));
        let shown = state.get("offerings").as_str().unwrap();
        assert_ne!(shown, OFFERINGS);
        // The diff shows the plan change, with placeholders rather than ARNs, and no read-only field.
        assert_eq!(shown, OFFERINGS.replace("\"P1\"", "\"P2\""));
        assert_eq!(state.get("role_arns"), plan.get("role_arns"));
    }

    #[test]
    fn import_recovers_offerings_and_role_map() {
        let plan = planned();
        let remote = stored(&plan);
        let id = SecurityConnectorId::parse(ID).unwrap();
        let state = refreshed(&remote, &imported(&id));
        for name in [
            "id",
            "name",
            "resource_group_name",
            "aws_account_id",
            "regions",
            "tags",
            "offerings",
            "role_arns",
            "scan_interval_hours",
        ] {
            assert_eq!(state.get(name), plan.get(name), "{name}");
        }
        assert_eq!(state.get("location").as_str(), Some("westeurope"));
    }
}
