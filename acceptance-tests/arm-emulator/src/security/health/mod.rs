//! Connector health, served the way Defender for Cloud publishes it: `Microsoft.Security/healthReports`
//! (api-version `2023-05-01-preview`) scoped to a security connector, one report per IAM role the
//! connector's enabled features use. Each GET evaluates the roles afresh against the AWS emulator
//! (see [`check`]), so a test can break a role in AWS and watch the report change.
//!
//! Endpoints (GET only):
//! * `{connectorId}/providers/Microsoft.Security/healthReports` — the connector's reports.
//! * `{connectorId}/providers/Microsoft.Security/healthReports/{name}` — one report.
//! * `/subscriptions/{s}/providers/Microsoft.Security/healthReports` — every connector's reports.
//! * admin: `/_emulator/connector-health{connectorId}` — the same list plus an overall `status`,
//!   without authentication and without entering the request log.

mod check;
mod expect;
mod trust;

use std::collections::HashMap;

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use crate::errors::{ArmError, not_found_resource, rg_not_found, subscription_not_found};
use crate::http::{Req, Resp};
use crate::server::Shared;
use crate::state::{HealthHistory, RegState};

/// The api-version of the health reports API the emulator serves.
pub const HEALTH_API_VERSION: &str = "2023-05-01-preview";
/// Admin path prefix of the unauthenticated variant.
pub(crate) const ADMIN_PREFIX: &str = "/_emulator/connector-health/";

/// What a health path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// One connector (`/subscriptions/{s}/resourceGroups/{rg}/.../securityConnectors/{name}`),
    /// optionally one report of it.
    Connector {
        subscription: String,
        resource_group: String,
        name: String,
        report: Option<String>,
    },
    /// Every connector of the subscription.
    Subscription { subscription: String },
}

/// Recognises `.../providers/Microsoft.Security/healthReports[/{name}]` under a connector or a
/// subscription (segments compared case-insensitively, as ARM does).
pub(crate) fn parse_path(path: &str) -> Option<Target> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let l: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = l.iter().map(String::as_str).collect();
    match l.as_slice() {
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.security",
            "securityconnectors",
            _,
            "providers",
            "microsoft.security",
            "healthreports",
            rest @ ..,
        ] if rest.len() <= 1 => Some(Target::Connector {
            subscription: segs[1].to_string(),
            resource_group: segs[3].to_string(),
            name: segs[7].to_string(),
            report: segs.get(11).map(|s| (*s).to_string()),
        }),
        [
            "subscriptions",
            _,
            "providers",
            "microsoft.security",
            "healthreports",
        ] => Some(Target::Subscription {
            subscription: segs[1].to_string(),
        }),
        _ => None,
    }
}

/// Serves an authenticated ARM request for a health path.
pub(crate) async fn serve(shared: &Shared, req: &Req, target: Target) -> Resp {
    if req.method != Method::GET {
        return ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The requested method '{}' is not allowed here.", req.method),
        )
        .into_resp();
    }
    let api_version = match crate::arm::preflight(shared, req) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !api_version.eq_ignore_ascii_case(HEALTH_API_VERSION) {
        return crate::arm::unsupported_api_version(
            &api_version,
            "healthReports",
            &[HEALTH_API_VERSION],
        )
        .into_resp();
    }
    match reports(shared, &target).await {
        Ok(items) => match &target {
            Target::Connector {
                report: Some(name), ..
            } => items
                .into_iter()
                .find(|r| {
                    r["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
                .map(Resp::ok)
                .unwrap_or_else(|| {
                    not_found_resource("Microsoft.Security/healthReports", name, None).into_resp()
                }),
            _ => Resp::ok(json!({"value": items})),
        },
        Err(e) => e.into_resp(),
    }
}

/// Serves `GET /_emulator/connector-health{connectorId}`.
pub(crate) async fn serve_admin(shared: &Shared, req: &Req) -> Resp {
    let id = &req.path[ADMIN_PREFIX.len() - 1..];
    let target = match parse_path(&format!("{id}/providers/Microsoft.Security/healthReports")) {
        Some(t @ Target::Connector { .. }) => t,
        _ => {
            return ArmError::new(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "use GET /_emulator/connector-health/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Security/securityConnectors/{name}",
            )
            .into_resp();
        }
    };
    match reports(shared, &target).await {
        Ok(items) => {
            let codes: Vec<&str> = items
                .iter()
                .filter_map(|r| r.pointer("/properties/status/code").and_then(Value::as_str))
                .collect();
            let status = if codes.contains(&"NotHealthy") {
                "NotHealthy"
            } else if codes.contains(&"NotApplicable") {
                "NotApplicable"
            } else {
                "Healthy"
            };
            Resp::ok(json!({"status": status, "value": items}))
        }
        Err(e) => e.into_resp(),
    }
}

/// The connectors a target covers (bodies, copied out of the store) and the AWS endpoint.
fn snapshot(shared: &Shared, target: &Target) -> Result<(Vec<Value>, Option<String>), ArmError> {
    let world = shared.world.lock();
    let sub = match target {
        Target::Connector { subscription, .. } | Target::Subscription { subscription } => {
            subscription
        }
    };
    if !sub.eq_ignore_ascii_case(&shared.config.subscription_id) {
        return Err(subscription_not_found(sub));
    }
    let registered = world
        .providers
        .get("microsoft.security")
        .is_some_and(|p| p.state == RegState::Registered);
    if !registered {
        return Err(crate::errors::missing_registration("Microsoft.Security"));
    }
    let connectors = match target {
        Target::Connector {
            resource_group,
            name,
            ..
        } => {
            if !world
                .resource_groups
                .contains_key(&resource_group.to_ascii_lowercase())
            {
                return Err(rg_not_found(resource_group));
            }
            let key = format!(
                "/subscriptions/{sub}/resourcegroups/{resource_group}/providers/microsoft.security/securityconnectors/{name}"
            )
            .to_ascii_lowercase();
            let stored = world.resources.get(&key).ok_or_else(|| {
                not_found_resource(
                    super::connector::RESOURCE_TYPE,
                    name,
                    Some(resource_group.as_str()),
                )
            })?;
            vec![stored.body.clone()]
        }
        Target::Subscription { .. } => world
            .resources
            .values()
            .filter(|s| {
                s.resource_type
                    .eq_ignore_ascii_case(super::connector::RESOURCE_TYPE)
            })
            .map(|s| s.body.clone())
            .collect(),
    };
    Ok((connectors, world.aws_endpoint.clone()))
}

/// Evaluates the reports of every connector `target` covers.
pub(crate) async fn reports(shared: &Shared, target: &Target) -> Result<Vec<Value>, ArmError> {
    let (connectors, endpoint) = snapshot(shared, target)?;
    let aws = endpoint
        .as_deref()
        .and_then(|e| crate::security::aws::AwsClient::new(e).ok());
    let mut out = Vec::new();
    for connector in &connectors {
        // Defender looks at a member account from inside that account.
        let member = aws.as_ref().and_then(|a| {
            let account = connector
                .pointer("/properties/hierarchyIdentifier")?
                .as_str()?;
            (crate::security::members::membership(connector)
                == Some(crate::security::members::MEMBER))
            .then(|| a.in_account(account))
        });
        let client = member.as_ref().or(aws.as_ref());
        out.extend(connector_reports(shared, connector, client).await);
    }
    Ok(out)
}

async fn connector_reports(
    shared: &Shared,
    connector: &Value,
    aws: Option<&crate::security::aws::AwsClient>,
) -> Vec<Value> {
    let connector_id = connector["id"].as_str().unwrap_or_default().to_string();
    let account = connector
        .pointer("/properties/hierarchyIdentifier")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let scope = check::Scope {
        account: account.clone(),
        customer_tenant: shared.config.tenant_id.clone(),
    };
    let mut providers = HashMap::new();
    let mut out = Vec::new();
    for role in expect::role_uses(connector) {
        let (code, reason, issues) = match aws {
            None => (
                "NotApplicable",
                "The emulator was started without an AWS endpoint (--aws-endpoint), so the roles cannot be checked.".to_string(),
                Vec::new(),
            ),
            Some(aws) => {
                let issues = check::check_role(aws, &scope, &role, &mut providers).await;
                if issues.is_empty() {
                    ("Healthy", "Defender can assume the role.".to_string(), issues)
                } else {
                    let keys: Vec<&str> = issues.iter().map(|i| i.key).collect();
                    ("NotHealthy", keys.join(", "), issues)
                }
            }
        };
        let name =
            crate::ids::stable_guid("healthReport", &format!("{connector_id}\n{}", role.arn));
        let history = record(shared, &name, code);
        out.push(report_json(
            shared,
            &connector_id,
            &account,
            &name,
            &role,
            (code, &reason, &history),
            &issues,
        ));
    }
    out
}

/// Updates and returns the first-evaluation and status-change times of report `name`.
fn record(shared: &Shared, name: &str, code: &str) -> HealthHistory {
    let now = crate::clock::rfc3339_now();
    let mut world = shared.world.lock();
    let entry = world
        .health
        .entry(name.to_string())
        .or_insert_with(|| HealthHistory {
            first_evaluation: now.clone(),
            status_change: now.clone(),
            code: code.to_string(),
        });
    if entry.code != code {
        entry.code = code.to_string();
        entry.status_change = now;
    }
    entry.clone()
}

fn report_json(
    shared: &Shared,
    connector_id: &str,
    account: &str,
    name: &str,
    role: &expect::RoleUse,
    (code, reason, history): (&str, &str, &HealthHistory),
    issues: &[check::Issue],
) -> Value {
    let issues: Vec<Value> = issues
        .iter()
        .map(|i| {
            json!({
                "issueKey": i.key,
                "issueName": i.name,
                "issueDescription": i.description,
                "remediationSteps": i.remediation,
                "securityValues": ["Recommendations", "Alerts"],
                "issueAdditionalData": i.data,
            })
        })
        .collect();
    json!({
        "id": format!("{connector_id}/providers/Microsoft.Security/healthReports/{name}"),
        "name": name,
        "type": "Microsoft.Security/healthReports",
        "properties": {
            "resourceDetails": {"source": "Aws", "id": connector_id, "connectorId": connector_id},
            "environmentDetails": {
                "nativeResourceId": role.arn,
                "environmentHierarchyId": account,
                "organizationalHierarchyId": account,
                "subscriptionId": shared.config.subscription_id,
                "tenantId": shared.config.tenant_id,
            },
            "healthDataClassification": {
                "component": "Connectors",
                "scenario": "CloudRoleAssumption",
                "scope": "Connectors",
            },
            "status": {
                "code": code,
                "reason": reason,
                "lastScannedDate": crate::clock::rfc3339_now(),
                "statusChangeDate": history.status_change,
                "firstEvaluationDate": history.first_evaluation,
            },
            "affectedDefendersPlans": role.offerings,
            "reportAdditionalData": {
                "roleArn": role.arn,
                "connectorFields": role.fields.join(","),
            },
            "issues": issues,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_paths_are_recognised_in_any_casing() {
        let c =
            "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Security/securityConnectors/c1";
        assert_eq!(
            parse_path(&format!("{c}/providers/Microsoft.Security/healthReports")),
            Some(Target::Connector {
                subscription: "S".into(),
                resource_group: "RG".into(),
                name: "c1".into(),
                report: None
            })
        );
        assert!(matches!(
            parse_path(&format!("{}/PROVIDERS/microsoft.security/HEALTHREPORTS/abc", c.to_lowercase())),
            Some(Target::Connector { report: Some(r), .. }) if r == "abc"
        ));
        assert!(matches!(
            parse_path("/subscriptions/S/providers/Microsoft.Security/healthReports"),
            Some(Target::Subscription { .. })
        ));
        assert_eq!(parse_path(c), None);
        assert_eq!(
            parse_path(&format!(
                "{c}/providers/Microsoft.Security/healthReports/a/b"
            )),
            None
        );
    }
}
