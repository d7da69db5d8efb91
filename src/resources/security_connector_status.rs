//! `multicloud_security_connector_status`: the health of a security connector as Defender for
//! Cloud reports it (`Microsoft.Security/healthReports`, the portal's "Connectivity status"), so
//! a pipeline can wait for a healthy connection or assert one.

use std::time::Duration;

use async_trait::async_trait;

use crate::azure::AzureError;
use crate::azure::security_connector::HealthReport;
use crate::protocol::{AttrPath, Attribute, Block, DataSource, Diagnostics, Schema, Type, Value};

use super::clients::ProviderClients;
use super::ids::SecurityConnectorId;
use super::waiting::{Cadence, Poll, WaitError, waited};
use super::{errors, validators};

/// The `multicloud_security_connector_status` data source.
#[derive(Debug, Default, Clone, Copy)]
pub struct SecurityConnectorStatusDataSource;

const TYPE_NAME: &str = "multicloud_security_connector_status";

/// How `wait_for_healthy` waits: 10 minutes unless `wait_timeout` says otherwise, checking after
/// 15 s, then twice as long each time up to a minute. Defender for Cloud evaluates connectors
/// in minutes, so polling faster only spends the read quota.
const CADENCE: Cadence = Cadence {
    default_timeout: Duration::from_secs(10 * 60),
    first_interval: Duration::from_secs(15),
    max_interval: Duration::from_secs(60),
};

/// Overall status when Defender for Cloud has not reported on the connector yet.
const NOT_REPORTED: &str = "Unknown";

const DESCRIPTION: &str = "The health of a Defender for Cloud security connector, as Defender for \
Cloud reports it (the portal's *Connectivity status*): an overall `status`, `healthy`, and every \
health report with its issues and remediation steps. Set `wait_for_healthy` to wait until the \
connection is healthy (for example in a pipeline right after onboarding, while IAM changes \
propagate), or assert it with a `postcondition` on `healthy`.\n\nWith `wait_for_healthy`, reading \
the data source (also during `terraform plan`) waits up to `wait_timeout` and fails with the \
reported issues if the connector does not become healthy.";

fn issue_type() -> Type {
    Type::object([
        ("key", Type::String),
        ("name", Type::String),
        ("description", Type::String),
        ("remediation_steps", Type::String),
    ])
}

fn report_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("component", Type::String),
        ("scenario", Type::String),
        ("scope", Type::String),
        ("status", Type::String),
        ("reason", Type::String),
        ("last_scanned_at", Type::String),
        ("affected_plans", Type::list(Type::String)),
        ("issues", Type::list(issue_type())),
    ])
}

/// The connector's health, summarised from its reports.
#[derive(Debug, Clone, PartialEq)]
struct Health {
    status: String,
    healthy: bool,
    reports: Vec<HealthReport>,
}

impl Health {
    /// Reports about other connectors (a subscription-wide answer) are ignored. Any unhealthy
    /// report makes the connector unhealthy; otherwise one healthy report makes it healthy.
    fn summarize(connector: &SecurityConnectorId, reports: Vec<HealthReport>) -> Self {
        let mut reports: Vec<HealthReport> = reports
            .into_iter()
            .filter(|r| {
                r.properties
                    .resource_details
                    .connector_id
                    .as_deref()
                    .is_none_or(|c| connector.same_as(c))
            })
            .collect();
        reports.sort_by_key(|r| {
            let c = &r.properties.health_data_classification;
            (c.component.clone(), c.scenario.clone(), r.name.clone())
        });
        let has = |code: &str| {
            reports.iter().any(|r| {
                r.properties
                    .status
                    .code
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case(code))
            })
        };
        let status = if has("NotHealthy") {
            "NotHealthy"
        } else if has("Healthy") {
            "Healthy"
        } else if reports.is_empty() {
            NOT_REPORTED
        } else {
            "NotApplicable"
        };
        Health {
            status: status.to_owned(),
            healthy: status == "Healthy",
            reports,
        }
    }

    fn reports_value(&self) -> Value {
        Value::list(self.reports.iter().map(|r| {
            let p = &r.properties;
            let c = &p.health_data_classification;
            Value::object([
                ("name", Value::from(&r.name)),
                ("component", Value::from(c.component.clone())),
                ("scenario", Value::from(c.scenario.clone())),
                ("scope", Value::from(c.scope.clone())),
                ("status", Value::from(p.status.code.clone())),
                ("reason", Value::from(p.status.reason.clone())),
                (
                    "last_scanned_at",
                    Value::from(p.status.last_time_scanned_date.clone()),
                ),
                (
                    "affected_plans",
                    Value::string_list(p.affected_defenders_plans.iter().cloned()),
                ),
                (
                    "issues",
                    Value::list(p.issues.iter().map(|i| {
                        Value::object([
                            ("key", Value::from(&i.issue_key)),
                            ("name", Value::from(i.issue_name.clone())),
                            ("description", Value::from(i.issue_description.clone())),
                            (
                                "remediation_steps",
                                Value::from(i.remediation_steps.clone()),
                            ),
                        ])
                    })),
                ),
            ])
        }))
    }

    /// The unhealthy reports' issues, one line each, for an error message.
    fn problems(&self) -> String {
        let mut lines = Vec::new();
        for r in &self.reports {
            let p = &r.properties;
            if !p
                .status
                .code
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("NotHealthy"))
            {
                continue;
            }
            let what = p
                .health_data_classification
                .component
                .clone()
                .unwrap_or_else(|| r.name.clone());
            if p.issues.is_empty() {
                lines.push(format!(
                    "- {what}: {}",
                    p.status.reason.as_deref().unwrap_or("not healthy")
                ));
            }
            for i in &p.issues {
                let name = i.issue_name.as_deref().unwrap_or(&i.issue_key);
                let fix = i
                    .remediation_steps
                    .as_deref()
                    .map(|s| format!(" Fix: {s}"))
                    .unwrap_or_default();
                lines.push(format!("- {what}: {name}.{fix}"));
            }
        }
        if lines.is_empty() {
            "Defender for Cloud has not reported on the connector yet.".to_owned()
        } else {
            lines.join("\n")
        }
    }
}

fn state(config: &Value, account: Option<String>, health: &Health) -> Value {
    let mut out = config.clone();
    out.set_attr("aws_account_id", Value::from(account));
    out.set_attr("status", health.status.as_str());
    out.set_attr("healthy", health.healthy);
    out.set_attr("reports", health.reports_value());
    out
}

#[async_trait]
impl DataSource<ProviderClients> for SecurityConnectorStatusDataSource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .description(DESCRIPTION)
                .attribute(
                    Attribute::string("security_connector_id")
                        .required()
                        .description("The ARM id of the security connector, for example `multicloud_security_connector.prod.id`."),
                )
                .attribute(Attribute::bool("wait_for_healthy").optional().description(
                    "Wait until the connector is healthy, failing with the reported issues after \
                     `wait_timeout`. Defaults to `false`: report the status as it is.",
                ))
                .attribute(Attribute::string("wait_timeout").optional().description(
                    "How long `wait_for_healthy` waits, as a duration such as `90s`, `10m` or `1h30m`. \
                     Defaults to `10m`.",
                ))
                .attribute(
                    Attribute::string("aws_account_id")
                        .computed()
                        .description("The AWS account the connector connects."),
                )
                .attribute(Attribute::string("status").computed().description(
                    "`Healthy` when Defender for Cloud reports the connection healthy, `NotHealthy` when \
                     any report has issues, `NotApplicable` when no report applies, `Unknown` before the \
                     first report (shortly after onboarding).",
                ))
                .attribute(
                    Attribute::bool("healthy")
                        .computed()
                        .description("Whether `status` is `Healthy`."),
                )
                .attribute(
                    Attribute::new("reports", Type::list(report_type()))
                        .computed()
                        .description(
                            "Defender for Cloud's health reports on the connector: `name`, `component` and \
                             `scenario` (what was checked), `scope`, `status`, `reason`, `last_scanned_at`, \
                             `affected_plans`, and `issues` (`key`, `name`, `description`, \
                             `remediation_steps`).",
                        ),
                ),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(id) = config.get("security_connector_id").as_str()
            && let Err(detail) = SecurityConnectorId::parse(id)
        {
            diags.attribute_error(
                AttrPath::root("security_connector_id"),
                "Invalid security connector id",
                detail,
            );
        }
        validators::check_wait_timeout(config, diags);
    }

    async fn read(
        &self,
        clients: &ProviderClients,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let arm = clients
            .azure_if_valid(diags, |d| self.validate(config, d))
            .await?;
        let text = config.get("security_connector_id").as_str()?;
        let id = SecurityConnectorId::parse(text).ok()?;
        let id = &id;
        let waiting = config.get("wait_for_healthy").as_bool().unwrap_or(false);
        let mut wait = CADENCE.wait(arm.clock().clone(), config)?;
        if !waiting {
            wait = wait.once();
        }
        let read = || async move {
            let connector = match arm.security_connector(text).await {
                Ok(Some(c)) => c,
                Ok(None) => return Err(LookError::Missing),
                Err(e) => return Err(LookError::Connector(e)),
            };
            let reports = arm
                .connector_health_reports(text)
                .await
                .map_err(LookError::Reports)?;
            let health = Health::summarize(id, reports);
            Ok(if health.healthy {
                Poll::Ready((connector.properties.hierarchy_identifier, health))
            } else {
                Poll::Pending((connector.properties.hierarchy_identifier, health))
            })
        };
        let (account, health) = match wait.until("a healthy connector", read).await {
            Ok(found) => found,
            // Told not to wait: the status as it is is the answer.
            Err(WaitError::TimedOut { last, .. }) if !waiting => last,
            Err(WaitError::TimedOut {
                last: (_, health),
                elapsed,
                timeout,
            }) => {
                diags.error(
                    "Security connector not healthy",
                    format!(
                        "{} is {} {}:\n{}",
                        id.name,
                        health.status,
                        waited(elapsed, timeout),
                        health.problems()
                    ),
                );
                return None;
            }
            Err(WaitError::Failed(LookError::Missing)) => {
                diags.attribute_error(
                    AttrPath::root("security_connector_id"),
                    "Security connector not found",
                    format!("There is no security connector {text}."),
                );
                return None;
            }
            Err(WaitError::Failed(LookError::Connector(e))) => {
                errors::azure(diags, "Cannot read the security connector", &e);
                return None;
            }
            Err(WaitError::Failed(LookError::Reports(e))) => {
                errors::azure(diags, "Cannot read the connector's health reports", &e);
                return None;
            }
        };
        Some(state(config, account, &health))
    }
}

/// Why one look at a connector's health failed.
enum LookError {
    /// The connector does not exist.
    Missing,
    /// Reading the connector failed.
    Connector(AzureError),
    /// Reading its health reports failed.
    Reports(AzureError),
}

/// A connector's health now, for callers that act only on a healthy connector (classic
/// connector migration): `None` when the connector does not exist, else its status, whether it
/// is healthy, and the unhealthy reports' issues, one per line.
pub(crate) async fn connector_health_now(
    arm: &crate::azure::ArmClient,
    connector_id: &str,
) -> Result<Option<(String, bool, String)>, crate::azure::AzureError> {
    let Ok(id) = SecurityConnectorId::parse(connector_id) else {
        return Ok(None);
    };
    if arm.security_connector(connector_id).await?.is_none() {
        return Ok(None);
    }
    let health = Health::summarize(&id, arm.connector_health_reports(connector_id).await?);
    let problems = health.problems();
    Ok(Some((health.status, health.healthy, problems)))
}

/// A connector's health from its reports alone (the caller knows the connector exists): its
/// status, whether it is healthy, and the unhealthy reports' issues, one per line.
pub(crate) async fn connector_health_reported(
    arm: &crate::azure::ArmClient,
    connector_id: &str,
) -> Result<(String, bool, String), crate::azure::AzureError> {
    let Ok(id) = SecurityConnectorId::parse(connector_id) else {
        return Ok((
            NOT_REPORTED.to_owned(),
            false,
            format!("{connector_id:?} is not a security connector id."),
        ));
    };
    let health = Health::summarize(&id, arm.connector_health_reports(connector_id).await?);
    let problems = health.problems();
    Ok((health.status, health.healthy, problems))
}

#[cfg(test)]
#[path = "security_connector_status_tests.rs"]
mod tests;
