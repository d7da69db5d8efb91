//! Checks the security connector service makes beyond the schema: the properties a connector
//! cannot exist without, consistency between environment and offerings, AWS identifiers, and
//! properties that cannot change after creation. Runs only on bodies that passed the schema.

use std::collections::BTreeSet;

use serde_json::Value;

use super::connector::service_error_for;
use crate::errors::ArmError;

/// `environmentName` -> the `environmentType` and the offering-type suffix that go with it.
const ENVIRONMENTS: &[(&str, &str, &str)] = &[
    ("AWS", "AwsAccount", "Aws"),
    ("GCP", "GcpProject", "Gcp"),
    ("Github", "GithubScope", "Github"),
    ("AzureDevOps", "AzureDevOpsScope", "AzureDevOps"),
    ("GitLab", "GitlabScope", "GitLab"),
    ("DockerHub", "DockerHubOrganization", "DockerHub"),
    ("JFrog", "JFrogArtifactory", "JFrog"),
];

fn str_at<'a>(body: &'a Value, pointer: &str) -> Option<&'a str> {
    body.pointer(pointer).and_then(Value::as_str)
}

/// A 12-digit AWS account id.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `arn:<partition>:iam::<account>:role/[<path>/]<name>`; returns (partition, account, name).
pub(crate) fn parse_role_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (lit, partition, service, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    let ok = lit == "arn"
        && partition.starts_with("aws")
        && service == "iam"
        && region.is_empty()
        && is_account_id(account)
        && name_ok;
    ok.then_some((partition, account, name))
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, ...: the shape of an AWS region name.
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase());
    let num = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [geo, dir, n] => geo.len() == 2 && word(geo) && word(dir) && num(n),
        [geo, gov, dir, n] => geo.len() == 2 && word(geo) && word(gov) && word(dir) && num(n),
        _ => false,
    }
}

/// Every `cloudRoleArn` string in an offering, with its path.
pub(crate) fn role_arns(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                let p = format!("{path}.{k}");
                if k == "cloudRoleArn"
                    && let Some(s) = v.as_str()
                {
                    out.push((p, s.to_string()));
                } else {
                    role_arns(v, &p, out);
                }
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                role_arns(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The service's checks on a complete (PUT, or PATCH-merged) body.
pub(crate) fn check(body: &Value) -> Result<(), ArmError> {
    let Some(name) = str_at(body, "/properties/environmentName") else {
        return Err(service_error_for(
            "properties.environmentName",
            "properties.environmentName is required to create a security connector.",
        ));
    };
    let Some(&(_, env_type, suffix)) = ENVIRONMENTS.iter().find(|(n, _, _)| *n == name) else {
        return Err(service_error_for(
            "properties.environmentName",
            format!("A security connector cannot be created for environment '{name}'."),
        ));
    };
    let hierarchy = str_at(body, "/properties/hierarchyIdentifier").unwrap_or_default();
    if hierarchy.is_empty() {
        return Err(service_error_for(
            "properties.hierarchyIdentifier",
            "properties.hierarchyIdentifier is required (the AWS account id, GCP project number, ...).",
        ));
    }
    let Some(actual_type) = str_at(body, "/properties/environmentData/environmentType") else {
        return Err(service_error_for(
            "properties.environmentData",
            format!("properties.environmentData with environmentType '{env_type}' is required."),
        ));
    };
    if actual_type != env_type {
        return Err(service_error_for(
            "properties.environmentData.environmentType",
            format!(
                "environmentType '{actual_type}' does not match environmentName '{name}'; expected '{env_type}'."
            ),
        ));
    }
    check_offerings(body, name, suffix)?;
    if env_type == "AwsAccount" {
        check_aws(body, hierarchy)?;
    }
    Ok(())
}

fn check_offerings(body: &Value, env_name: &str, suffix: &str) -> Result<(), ArmError> {
    let offerings = body
        .pointer("/properties/offerings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    for (i, o) in offerings.iter().enumerate() {
        let t = o
            .get("offeringType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let target = format!("properties.offerings[{i}].offeringType");
        if !t.ends_with(suffix) {
            return Err(service_error_for(
                &target,
                format!(
                    "Offering '{t}' cannot be used on a connector for environment '{env_name}'."
                ),
            ));
        }
        if !seen.insert(t.to_string()) {
            return Err(service_error_for(
                &target,
                format!("Offering '{t}' appears more than once."),
            ));
        }
    }
    Ok(())
}

fn check_aws(body: &Value, account: &str) -> Result<(), ArmError> {
    if !is_account_id(account) {
        return Err(service_error_for(
            "properties.hierarchyIdentifier",
            format!("'{account}' is not an AWS account id (12 digits)."),
        ));
    }
    let env = body
        .pointer("/properties/environmentData")
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(n) = env.get("scanInterval").and_then(Value::as_i64)
        && !(1..=24).contains(&n)
    {
        return Err(service_error_for(
            "properties.environmentData.scanInterval",
            format!("scanInterval must be between 1 and 24 hours; got {n}."),
        ));
    }
    for (i, r) in env
        .get("regions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let r = r.as_str().unwrap_or_default();
        if !is_region(r) {
            return Err(service_error_for(
                &format!("properties.environmentData.regions[{i}]"),
                format!("'{r}' is not an AWS region name."),
            ));
        }
    }
    let excluded = env
        .pointer("/organizationalData/excludedAccountIds")
        .and_then(Value::as_array);
    for (i, a) in excluded.into_iter().flatten().enumerate() {
        let a = a.as_str().unwrap_or_default();
        if !is_account_id(a) {
            return Err(service_error_for(
                &format!("properties.environmentData.organizationalData.excludedAccountIds[{i}]"),
                format!("'{a}' is not an AWS account id (12 digits)."),
            ));
        }
    }
    let mut arns = Vec::new();
    if let Some(o) = body.pointer("/properties/offerings") {
        role_arns(o, "properties.offerings", &mut arns);
    }
    for (path, arn) in arns {
        if parse_role_arn(&arn).is_none() {
            return Err(service_error_for(
                &path,
                format!("'{arn}' is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)."),
            ));
        }
    }
    Ok(())
}

/// Properties fixed at creation: the environment and the account or project it stands for.
/// UNVERIFIED against the service, which does not publish this; neither the portal nor the
/// CLI offers a way to change them.
pub(crate) fn check_immutable(old: &Value, new: &Value) -> Result<(), ArmError> {
    for (pointer, target) in [
        (
            "/properties/hierarchyIdentifier",
            "properties.hierarchyIdentifier",
        ),
        ("/properties/environmentName", "properties.environmentName"),
        (
            "/properties/environmentData/environmentType",
            "properties.environmentData.environmentType",
        ),
    ] {
        let (before, after) = (str_at(old, pointer), str_at(new, pointer));
        if before.is_some() && before != after {
            return Err(ArmError::bad_request(
                "PropertyChangeNotAllowed",
                format!(
                    "Changing property '{target}' is not allowed: it is '{}' and cannot become '{}'. Delete and recreate the connector instead.",
                    before.unwrap_or_default(),
                    after.unwrap_or_default()
                ),
                Some(target),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_and_regions_are_recognised() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/path/CspmMonitorAws"),
            Some(("aws", "123456789012", "CspmMonitorAws"))
        );
        assert!(parse_role_arn("<role_arn:cspm_monitor>").is_none());
        assert!(parse_role_arn("arn:aws:iam::12345:role/x").is_none());
        assert!(parse_role_arn("arn:aws:iam::123456789012:user/x").is_none());
        for r in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-4",
        ] {
            assert!(is_region(r), "{r}");
        }
        for r in ["us-east", "US-EAST-1", "useast1", ""] {
            assert!(!is_region(r), "{r}");
        }
    }
}
