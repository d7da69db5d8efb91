//! The service's own checks of solution settings, after the payload passed the schema. The API
//! types `solutionSettings` as a map of strings; the keys and allowed values per solution type
//! are what the `solutionTypes` catalogue publishes. Where public material does not name them
//! (Arc onboarding connectivity), the keys here are the emulator's.

use serde_json::{Map, Value};

use crate::errors::ArmError;

/// Solution type of the inventory solution.
pub(crate) const INVENTORY: &str = "Microsoft.AssetManagement";
/// Solution type of Arc onboarding of EC2 instances.
pub(crate) const ARC_ONBOARDING: &str = "Microsoft.HybridCompute.Onboard";
/// Solution types the emulator serves.
pub(crate) const SOLUTION_TYPES: &[&str] = &[INVENTORY, ARC_ONBOARDING];

/// AWS services the inventory solution scans.
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

/// Connectivity methods of the Arc agent.
pub(crate) const CONNECTIVITY_METHODS: &[&str] = &["PublicEndpoint", "ProxyServer"];

/// Hours between periodic syncs.
pub(crate) const SYNC_HOURS: std::ops::RangeInclusive<i64> = 1..=24;

fn bad(key: &str, message: String) -> ArmError {
    ArmError::bad_request(
        "InvalidSolutionSettings",
        message,
        Some(&format!("properties.solutionSettings.{key}")),
    )
}

fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn aws_region(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// Checks `solutionType` and its settings.
pub(crate) fn check(solution_type: &str, settings: &Map<String, Value>) -> Result<(), ArmError> {
    if !SOLUTION_TYPES.contains(&solution_type) {
        return Err(ArmError::bad_request(
            "InvalidSolutionType",
            format!(
                "Solution type '{solution_type}' is not supported; supported: {}.",
                SOLUTION_TYPES.join(", ")
            ),
            Some("properties.solutionType"),
        ));
    }
    let allowed: &[&str] = if solution_type == INVENTORY {
        &[
            "cloudProviderServiceTypes",
            "cloudProviderRegions",
            "periodicSync",
            "periodicSyncTime",
        ]
    } else {
        &[
            "cloudProviderRegions",
            "periodicSync",
            "periodicSyncTime",
            "connectivityMethod",
            "proxyServerUrl",
        ]
    };
    for (key, value) in settings {
        let text = value.as_str().unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            return Err(bad(
                key,
                format!(
                    "Setting '{key}' is not a setting of {solution_type}; allowed: {}.",
                    allowed.join(", ")
                ),
            ));
        }
        match key.as_str() {
            "cloudProviderServiceTypes" => {
                if let Some(s) = list(text).find(|s| !INVENTORY_SERVICES.contains(s)) {
                    return Err(bad(
                        key,
                        format!("'{s}' is not an AWS service the inventory scans."),
                    ));
                }
            }
            "cloudProviderRegions" => {
                if let Some(r) = list(text).find(|r| !aws_region(r)) {
                    return Err(bad(key, format!("'{r}' is not an AWS region.")));
                }
            }
            "periodicSync" if text != "true" && text != "false" => {
                return Err(bad(key, format!("'{text}' is not 'true' or 'false'.")));
            }
            "periodicSyncTime" if !text.parse::<i64>().is_ok_and(|h| SYNC_HOURS.contains(&h)) => {
                return Err(bad(
                    key,
                    format!("'{text}' is not a whole number of hours from 1 to 24."),
                ));
            }
            "connectivityMethod" if !CONNECTIVITY_METHODS.contains(&text) => {
                return Err(bad(
                    key,
                    format!(
                        "'{text}' is not one of {}.",
                        CONNECTIVITY_METHODS.join(", ")
                    ),
                ));
            }
            "proxyServerUrl" => {
                let host = text
                    .strip_prefix("http://")
                    .or_else(|| text.strip_prefix("https://"));
                if host.is_none_or(|h| h.is_empty() || h.starts_with('/')) {
                    return Err(bad(key, format!("'{text}' is not an http(s) URL.")));
                }
            }
            _ => {}
        }
    }
    let proxy = settings.get("connectivityMethod").and_then(Value::as_str) == Some("ProxyServer");
    if proxy != settings.contains_key("proxyServerUrl") {
        return Err(bad(
            "proxyServerUrl",
            "proxyServerUrl is required with connectivityMethod ProxyServer and only then."
                .to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn accepts_documented_settings_and_rejects_the_rest() {
        let ok = settings(
            json!({"cloudProviderServiceTypes": "ec2,s3", "periodicSync": "true", "periodicSyncTime": "1"}),
        );
        assert!(check(INVENTORY, &ok).is_ok());
        let proxy = settings(
            json!({"connectivityMethod": "ProxyServer", "proxyServerUrl": "http://proxy:3128"}),
        );
        assert!(check(ARC_ONBOARDING, &proxy).is_ok());
        let cases = [
            (INVENTORY, json!({"cloudProviderServiceTypes": "ec2,s4"})),
            (INVENTORY, json!({"periodicSyncTime": "25"})),
            (INVENTORY, json!({"connectivityMethod": "PublicEndpoint"})),
            (ARC_ONBOARDING, json!({"connectivityMethod": "ProxyServer"})),
            (
                ARC_ONBOARDING,
                json!({"connectivityMethod": "ProxyServer", "proxyServerUrl": "proxy"}),
            ),
            (ARC_ONBOARDING, json!({"cloudProviderRegions": "US East"})),
            ("Microsoft.Nothing", json!({})),
        ];
        for (t, s) in cases {
            assert!(check(t, &settings(s.clone())).is_err(), "{t} {s}");
        }
    }
}
