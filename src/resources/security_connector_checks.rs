//! Plan-time checks of `multicloud_security_connector`: each problem is reported on the
//! attribute that holds it, with the fix. Unknown values are skipped; the same checks run again
//! at apply, when everything is known.

use std::collections::{BTreeMap, BTreeSet};

use crate::onboarding::RoleKey;
use crate::protocol::{AttrPath, Diagnostics, Value};

use super::security_connector_offerings::{self as offerings, Placeholder};
use super::validators;

/// The scan intervals the portal offers, in hours (the API accepts 1 to 24).
pub(crate) const SCAN_INTERVALS: [i64; 4] = [4, 6, 12, 24];

/// Checks a connector name. The API defines no pattern; this is ARM's rule for names in a path
/// (no `/`, `?`, `#`, `%` and the like) in the portal's shape: letters, digits, `-`, `_`, `.`.
pub(crate) fn connector_name(value: &str) -> Result<(), String> {
    let ok = (1..=128).contains(&value.len())
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && !value.ends_with('.')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not a valid connector name; use 1 to 128 letters, digits, hyphens, \
             underscores or periods, starting with a letter or digit and not ending with a period"
        ))
    }
}

/// AWS region prefixes outside the commercial partition (GovCloud, China, the isolated and
/// European sovereign partitions): Defender for Cloud scans the AWS public cloud only.
const NON_COMMERCIAL_REGION_PREFIXES: [&str; 5] = ["us-gov-", "cn-", "us-iso", "eu-isoe-", "eusc-"];

/// Checks a region to scan: an AWS region name in the commercial partition.
pub(crate) fn commercial_region(value: &str) -> Result<(), String> {
    validators::aws_region(value)?;
    if NON_COMMERCIAL_REGION_PREFIXES
        .iter()
        .any(|p| value.starts_with(p))
    {
        return Err(format!(
            "{value:?} is not in the AWS commercial partition; Defender for Cloud's AWS connector scans \
             regions of the AWS public cloud only (not GovCloud, China or the isolated and sovereign \
             partitions)"
        ));
    }
    Ok(())
}

/// Checks a role ARN for the connector: an IAM role in the commercial `aws` partition.
pub(crate) fn commercial_role_arn(value: &str) -> Result<(), String> {
    validators::iam_role_arn(value)?;
    if !value.starts_with("arn:aws:") {
        return Err(format!(
            "{value:?} is not in the AWS commercial partition (arn:aws:...); Defender for Cloud's AWS \
             connector supports the AWS public cloud only"
        ));
    }
    Ok(())
}

/// Checks a CloudFormation StackSet name: a letter, then letters, digits and hyphens, at most 128.
pub(crate) fn stackset_name(value: &str) -> Result<(), String> {
    let ok = (1..=128).contains(&value.len())
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not a StackSet name; CloudFormation allows a letter followed by up to 127 \
             letters, digits and hyphens"
        ))
    }
}

type Check = fn(&str) -> Result<(), String>;

/// Every configuration check.
pub(crate) fn check(config: &Value, diags: &mut Diagnostics) {
    let string_checks: [(&str, Check, &str); 4] = [
        ("name", connector_name, "Invalid name"),
        (
            "resource_group_name",
            validators::resource_group_name,
            "Invalid resource group name",
        ),
        ("location", validators::azure_location, "Invalid location"),
        (
            "aws_account_id",
            validators::aws_account_id,
            "Invalid AWS account id",
        ),
    ];
    for (name, check, summary) in string_checks {
        if let Some(v) = config.get(name).as_str()
            && let Err(detail) = check(v)
        {
            diags.attribute_error(AttrPath::root(name), summary, detail);
        }
    }
    if let Some(location) = config.get("location").as_str()
        && let Some(cloud) = validators::national_cloud_location(location)
    {
        diags.attribute_error(
            AttrPath::root("location"),
            "National clouds are not supported",
            format!(
                "{location:?} is a region of {cloud}. Defender for Cloud's AWS connector is available in \
                 the Azure commercial cloud only, not in the national clouds (Azure Government, Azure \
                 operated by 21Vianet); choose a commercial region such as westeurope or eastus."
            ),
        );
    }
    for region in config.get("regions").as_string_vec() {
        if let Err(detail) = commercial_region(&region) {
            diags.attribute_error(AttrPath::root("regions"), "Invalid region", detail);
        }
    }
    if let Value::Number(n) = config.get("scan_interval_hours") {
        let ok = n.as_i64().is_some_and(|h| SCAN_INTERVALS.contains(&h));
        if !ok {
            diags.attribute_error(
                AttrPath::root("scan_interval_hours"),
                "Invalid scan interval",
                format!("Got {n}; Defender for Cloud scans AWS every 4, 6, 12 or 24 hours."),
            );
        }
    }
    check_tags(config.get("tags"), diags);
    check_organization(config, diags);
    check_offerings_and_arns(config, diags);
}

fn check_tags(tags: &Value, diags: &mut Diagnostics) {
    let Some(map) = tags.as_map() else { return };
    if map.len() > validators::MAX_AZURE_TAGS {
        diags.attribute_error(
            AttrPath::root("tags"),
            "Too many tags",
            format!(
                "{} tags given; an Azure resource carries at most {}.",
                map.len(),
                validators::MAX_AZURE_TAGS
            ),
        );
    }
    for (k, v) in map {
        if let Err(detail) = validators::azure_tag(k, v.as_str().unwrap_or_default()) {
            diags.attribute_error(AttrPath::root("tags").key(k), "Invalid tag", detail);
        }
    }
}

fn check_organization(config: &Value, diags: &mut Diagnostics) {
    let org = config.get("organization");
    let path = AttrPath::root("organization");
    if let Some(name) = org.get("stackset_name").as_str()
        && let Err(detail) = stackset_name(name)
    {
        diags.attribute_error(
            path.clone().attr("stackset_name"),
            "Invalid StackSet name",
            detail,
        );
    }
    let account = config.get("aws_account_id").as_str();
    for id in org.get("excluded_account_ids").as_string_vec() {
        let at = path.clone().attr("excluded_account_ids");
        if let Err(detail) = validators::aws_account_id(&id) {
            diags.attribute_error(at, "Invalid excluded account id", detail);
        } else if Some(id.as_str()) == account {
            diags.attribute_error(
                at,
                "Management account excluded",
                format!(
                    "{id} is the management account this connector connects; only member accounts can \
                     be excluded. Remove it from excluded_account_ids."
                ),
            );
        }
    }
}

/// The role ARNs given, by key: `None` while the map itself is unknown. Unknown ARNs keep their
/// key (its presence is what matters at plan time) with an empty ARN.
fn role_arns(config: &Value, diags: &mut Diagnostics) -> Option<BTreeMap<RoleKey, String>> {
    let value = config.get("role_arns");
    if value.is_unknown() {
        return None;
    }
    let account = config
        .get("aws_account_id")
        .as_str()
        .filter(|a| validators::aws_account_id(a).is_ok());
    let mut out = BTreeMap::new();
    for (name, arn) in value.as_map().into_iter().flatten() {
        let at = AttrPath::root("role_arns").key(name);
        let Some(key) = RoleKey::parse(name) else {
            let known: Vec<&str> = RoleKey::ALL.iter().map(|k| k.as_str()).collect();
            diags.attribute_error(
                at,
                "Unknown role key",
                format!(
                    "{name:?} is not a role key; the keys are those of a multicloud_defender_plan_set's \
                     aws_roles: {}",
                    known.join(", ")
                ),
            );
            continue;
        };
        // A null entry gives no role: the offerings that need it report it missing.
        if arn.is_null() {
            continue;
        }
        if let Some(text) = arn.as_str() {
            if let Err(detail) = commercial_role_arn(text) {
                diags.attribute_error(at, "Invalid role ARN", detail);
            } else if let Some(account) = account
                && text.split(':').nth(4) != Some(account)
            {
                diags.attribute_warning(
                    at,
                    "Role in another account",
                    format!(
                        "{text} is a role in another AWS account than {account}, the account this \
                         connector connects; Defender for Cloud assumes the roles of the connected \
                         account, so this role is unlikely to work."
                    ),
                );
            }
        }
        out.insert(key, arn.as_str().unwrap_or_default().to_owned());
    }
    Some(out)
}

fn check_offerings_and_arns(config: &Value, diags: &mut Diagnostics) {
    let arns = role_arns(config, diags);
    let Some(text) = config.get("offerings").as_str() else {
        return;
    };
    let parsed = match offerings::parse(text) {
        Ok(p) => p,
        Err(detail) => {
            diags.attribute_error(AttrPath::root("offerings"), "Invalid offerings", detail);
            return;
        }
    };
    // While the map is unknown only placeholders no role could fill are certain to be wrong.
    let unresolved: Vec<Placeholder> = offerings::placeholders(&parsed)
        .into_iter()
        .filter(|p| match (p.role_key(), &arns) {
            (None, _) => true,
            (Some(key), Some(arns)) => !arns.contains_key(&key),
            (Some(_), None) => false,
        })
        .collect();
    report_unresolved(&unresolved, diags);
}

/// One diagnostic per role key, naming every offering and field that needs it.
pub(crate) fn report_unresolved(unresolved: &[Placeholder], diags: &mut Diagnostics) {
    let mut by_key: BTreeMap<&str, Vec<&Placeholder>> = BTreeMap::new();
    for p in unresolved {
        by_key.entry(p.key.as_str()).or_default().push(p);
    }
    for (key, places) in by_key {
        let offerings: BTreeSet<&str> = places.iter().map(|p| p.offering.as_str()).collect();
        let fields: Vec<String> = places
            .iter()
            .map(|p| format!("{}.{}", p.offering, p.field))
            .collect();
        let offerings: Vec<&str> = offerings.into_iter().collect();
        if RoleKey::parse(key).is_none() {
            diags.attribute_error(
                AttrPath::root("offerings"),
                "Unknown role placeholder",
                format!(
                    "The offerings hold the placeholder <role_arn:{key}> (in {}), but no role has the key \
                     {key:?}. Use the offerings of a multicloud_defender_plan_set unchanged.",
                    fields.join(", ")
                ),
            );
            continue;
        }
        diags.attribute_error(
            AttrPath::root("role_arns"),
            "Missing role ARN",
            format!(
                "The enabled offering {} needs the ARN of the role {key:?} (in {}), but role_arns has no \
                 {key:?} entry. Pass the role ARNs of the AWS trust that created the plan set's roles, \
                 for example role_arns = multicloud_aws_oidc_trust.<name>.role_arns, or add the entry.",
                offerings.join(" and "),
                fields.join(", ")
            ),
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::protocol::Diagnostic;

    fn base() -> Value {
        Value::object([
            ("name", Value::from("aws-prod")),
            ("resource_group_name", Value::from("rg-sec")),
            ("location", Value::from("West Europe")),
            ("aws_account_id", Value::from("123456789012")),
            ("regions", Value::string_set(["eu-west-1", "us-east-1"])),
            ("scan_interval_hours", Value::from(12_i64)),
            ("tags", Value::map([("env", Value::from("prod"))])),
            (
                "offerings",
                Value::from(
                    r#"[{"offeringType":"CspmMonitorAws","nativeCloudConnection":{"cloudRoleArn":"<role_arn:cspm_monitor>"}},{"offeringType":"DefenderForServersAws","defenderForServers":{"cloudRoleArn":"<role_arn:defender_for_servers>"},"arcAutoProvisioning":{"enabled":true,"cloudRoleArn":"<role_arn:arc_auto_provisioning>"}}]"#,
                ),
            ),
            (
                "role_arns",
                Value::map([
                    (
                        "cspm_monitor",
                        Value::from("arn:aws:iam::123456789012:role/CspmMonitorAws"),
                    ),
                    (
                        "defender_for_servers",
                        Value::from(
                            "arn:aws:iam::123456789012:role/DefenderForCloud-DefenderForServers",
                        ),
                    ),
                    (
                        "arc_auto_provisioning",
                        Value::from(
                            "arn:aws:iam::123456789012:role/DefenderForCloud-ArcAutoProvisioning",
                        ),
                    ),
                ]),
            ),
            ("organization", Value::Null),
        ])
    }

    fn run(config: &Value) -> Vec<Diagnostic> {
        let mut diags = Diagnostics::new();
        check(config, &mut diags);
        diags.iter().cloned().collect()
    }

    fn only(config: &Value) -> Diagnostic {
        let all = run(config);
        assert_eq!(all.len(), 1, "{all:#?}");
        all.into_iter().next().unwrap()
    }

    #[test]
    fn a_complete_valid_configuration_passes() {
        assert!(run(&base()).is_empty(), "{:#?}", run(&base()));
    }

    #[test]
    fn unknown_values_are_not_checked_yet() {
        let mut config = base();
        for name in [
            "name",
            "offerings",
            "role_arns",
            "scan_interval_hours",
            "regions",
        ] {
            config.set_attr(name, Value::Unknown);
        }
        assert!(run(&config).is_empty());
        // Keys known, an ARN still unknown: the key counts as present.
        let mut config = base();
        let mut arns = config.get("role_arns").clone();
        arns.set_attr("cspm_monitor", Value::Unknown);
        config.set_attr("role_arns", arns);
        assert!(run(&config).is_empty());
    }

    #[test]
    fn each_bad_value_is_reported_on_its_attribute() {
        let cases: Vec<(&str, Value, AttrPath, &str)> = vec![
            (
                "name",
                "aws/prod".into(),
                AttrPath::root("name"),
                "not a valid connector name",
            ),
            (
                "resource_group_name",
                "rg.".into(),
                AttrPath::root("resource_group_name"),
                "resource group",
            ),
            (
                "location",
                "west_europe".into(),
                AttrPath::root("location"),
                "not an Azure location",
            ),
            (
                "aws_account_id",
                "12345".into(),
                AttrPath::root("aws_account_id"),
                "exactly 12 digits",
            ),
            (
                "scan_interval_hours",
                8_i64.into(),
                AttrPath::root("scan_interval_hours"),
                "4, 6, 12 or 24",
            ),
            (
                "regions",
                Value::string_set(["eu-west-1", "mars-1"]),
                AttrPath::root("regions"),
                "not an AWS region",
            ),
            (
                "tags",
                Value::map([("a?b", Value::from("x"))]),
                AttrPath::root("tags").key("a?b"),
                "does not allow",
            ),
            (
                "offerings",
                "[{".into(),
                AttrPath::root("offerings"),
                "not valid JSON",
            ),
        ];
        for (name, value, path, needle) in cases {
            let mut config = base();
            config.set_attr(name, value);
            let d = only(&config);
            assert_eq!(d.attribute, Some(path), "{name}: {d:?}");
            assert!(d.detail.contains(needle), "{name}: {}", d.detail);
        }
    }

    #[test]
    fn national_clouds_and_other_aws_partitions_are_rejected_with_the_reason() {
        let mut config = base();
        config.set_attr("location", "usgovvirginia");
        let d = only(&config);
        assert_eq!(d.summary, "National clouds are not supported");
        assert!(d.detail.contains("Azure Government"), "{}", d.detail);
        let mut config = base();
        config.set_attr("regions", Value::string_set(["us-gov-west-1"]));
        assert!(only(&config).detail.contains("AWS public cloud only"));
        let mut config = base();
        let mut arns = config.get("role_arns").clone();
        arns.set_attr(
            "cspm_monitor",
            "arn:aws-cn:iam::123456789012:role/CspmMonitorAws",
        );
        config.set_attr("role_arns", arns);
        let d = only(&config);
        assert_eq!(
            d.attribute,
            Some(AttrPath::root("role_arns").key("cspm_monitor"))
        );
        assert!(d.detail.contains("commercial partition"), "{}", d.detail);
    }

    #[test]
    fn a_missing_arn_names_the_offering_and_the_key() {
        let mut config = base();
        let mut arns = config.get("role_arns").clone();
        if let Value::Map(m) = &mut arns {
            m.remove("defender_for_servers");
        }
        config.set_attr("role_arns", arns);
        let d = only(&config);
        assert_eq!(d.summary, "Missing role ARN");
        assert_eq!(d.attribute, Some(AttrPath::root("role_arns")));
        for part in [
            "DefenderForServersAws",
            "\"defender_for_servers\"",
            "DefenderForServersAws.defenderForServers.cloudRoleArn",
            "multicloud_aws_oidc_trust",
        ] {
            assert!(d.detail.contains(part), "{part}: {}", d.detail);
        }
        // No map at all: every role is missing, one diagnostic per key.
        let mut config = base();
        config.set_attr("role_arns", Value::Null);
        assert_eq!(run(&config).len(), 3);
    }

    #[test]
    fn role_map_keys_and_accounts_are_checked() {
        let mut config = base();
        let mut arns = config.get("role_arns").clone();
        arns.set_attr("cspm", "arn:aws:iam::123456789012:role/CspmMonitorAws");
        config.set_attr("role_arns", arns);
        let d = only(&config);
        assert_eq!(d.summary, "Unknown role key");
        assert!(d.detail.contains("cspm_monitor"), "{}", d.detail);
        let mut config = base();
        let mut arns = config.get("role_arns").clone();
        arns.set_attr(
            "cspm_monitor",
            "arn:aws:iam::999999999999:role/CspmMonitorAws",
        );
        config.set_attr("role_arns", arns);
        let d = only(&config);
        assert_eq!(d.severity, crate::protocol::Severity::Warning);
    }

    #[test]
    fn organization_block() {
        let mut config = base();
        config.set_attr(
            "organization",
            Value::object([
                ("stackset_name", Value::from("1bad")),
                (
                    "excluded_account_ids",
                    Value::string_set(["123456789012", "42"]),
                ),
            ]),
        );
        let all = run(&config);
        let summaries: Vec<&str> = all.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "Invalid StackSet name",
                "Management account excluded",
                "Invalid excluded account id"
            ]
        );
    }

    #[test]
    fn names() {
        for ok in ["aws-prod", "a", "Aws_01.x"] {
            assert!(connector_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-x", "x.", "a b", "a/b", &"a".repeat(129)] {
            assert!(connector_name(bad).is_err(), "{bad}");
        }
        assert!(stackset_name("MDC-Onboarding").is_ok());
        assert!(stackset_name("MDC_Onboarding").is_err());
    }
}
