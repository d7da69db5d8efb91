//! `multicloud_security_connector_members`: the member account connectors Defender for Cloud
//! creates by itself under an AWS organization connector, with the health of each, so a
//! pipeline that onboarded a management account can see which member accounts are connected
//! (and wait for them) without knowing the names Defender chose.

use std::time::Duration;

use async_trait::async_trait;
use futures::stream::{self, StreamExt};

use crate::azure::security_connector::{
    MEMBERSHIP_MEMBER, MEMBERSHIP_ORGANIZATION, SecurityConnector,
};
use crate::azure::{ArmClient, AzureError};
use crate::protocol::{AttrPath, Attribute, Block, DataSource, Diagnostics, Schema, Type, Value};

use super::clients::ProviderClients;
use super::ids::SecurityConnectorId;
use super::security_connector_status::connector_health_reported;
use super::waiting::{Cadence, Poll, WaitError};
use super::{errors, validators};

/// The `multicloud_security_connector_members` data source.
#[derive(Debug, Default, Clone, Copy)]
pub struct SecurityConnectorMembersDataSource;

const TYPE_NAME: &str = "multicloud_security_connector_members";

/// How `wait_for_count` waits: 30 minutes unless `wait_timeout` says otherwise (Defender
/// discovers the organization's accounts some minutes after the organization connector turns
/// healthy), listing after 10 s, then twice as long each time up to a minute.
const CADENCE: Cadence = Cadence {
    default_timeout: Duration::from_secs(30 * 60),
    first_interval: Duration::from_secs(10),
    max_interval: Duration::from_secs(60),
};
/// Members whose health is read at once: enough to hide latency on a large organization,
/// few enough to stay far inside ARM's read quota.
const HEALTH_READ_CONCURRENCY: usize = 8;

const DESCRIPTION: &str = "The member account connectors of an AWS organization connector: once \
the connector of a management account (`multicloud_security_connector` with an `organization` \
block) is healthy, Defender for Cloud creates a connector of membership type `Member` for every \
account of the organization that is not excluded, itself, with names of its own choosing. This \
data source lists those connectors (their `parentHierarchyId` is the management account) with \
the health Defender reports for each, as `multicloud_security_connector_status` does for one \
connector.\n\nSet `wait_for_count` to wait until at least that many members exist (Defender \
creates them some minutes after onboarding); reading the data source (also during `terraform \
plan`) then waits up to `wait_timeout`.";

fn member_type() -> Type {
    Type::object([
        ("id", Type::String),
        ("name", Type::String),
        ("aws_account_id", Type::String),
        ("aws_account_name", Type::String),
        ("status", Type::String),
        ("healthy", Type::Bool),
        ("problems", Type::String),
    ])
}

/// One member connector and its health.
#[derive(Debug, Clone, PartialEq)]
struct Member {
    id: String,
    name: String,
    account: String,
    account_name: Option<String>,
    status: String,
    healthy: bool,
    problems: String,
}

impl Member {
    fn value(&self) -> Value {
        Value::object([
            ("id", Value::from(self.id.as_str())),
            ("name", Value::from(self.name.as_str())),
            ("aws_account_id", Value::from(self.account.as_str())),
            ("aws_account_name", Value::from(self.account_name.clone())),
            ("status", Value::from(self.status.as_str())),
            ("healthy", Value::from(self.healthy)),
            (
                "problems",
                Value::from((!self.healthy).then(|| self.problems.clone())),
            ),
        ])
    }
}

/// The organization connector's management account, or why the connector is not one.
fn management_account(org: &SecurityConnector) -> Result<String, String> {
    let data = org
        .properties
        .environment_data
        .as_ref()
        .and_then(|e| e.organizational_data.as_ref());
    let membership = data.map(|d| d.organization_membership_type.as_str());
    if membership != Some(MEMBERSHIP_ORGANIZATION) {
        return Err(format!(
            "{} is not an organization connector (its organizationMembershipType is {}); member \
             connectors exist only under the connector of an AWS Organizations management \
             account, created with an `organization` block.",
            org.name,
            membership.map_or_else(|| "not set".to_owned(), |m| format!("{m:?}"))
        ));
    }
    org.properties
        .hierarchy_identifier
        .clone()
        .ok_or_else(|| format!("{} has no hierarchyIdentifier (AWS account id).", org.name))
}

/// The connectors among `all` whose parent is `management`, sorted by account.
fn members_of(all: Vec<SecurityConnector>, management: &str) -> Vec<SecurityConnector> {
    let mut out: Vec<SecurityConnector> = all
        .into_iter()
        .filter(|c| {
            c.properties
                .environment_data
                .as_ref()
                .and_then(|e| e.organizational_data.as_ref())
                .is_some_and(|d| {
                    d.organization_membership_type == MEMBERSHIP_MEMBER
                        && d.parent_hierarchy_id.as_deref() == Some(management)
                })
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.properties.hierarchy_identifier, &a.name)
            .cmp(&(&b.properties.hierarchy_identifier, &b.name))
    });
    out
}

async fn with_health(arm: &ArmClient, c: SecurityConnector) -> Result<Member, AzureError> {
    let (status, healthy, problems) = connector_health_reported(arm, &c.id).await?;
    Ok(Member {
        account: c
            .properties
            .hierarchy_identifier
            .clone()
            .unwrap_or_default(),
        account_name: c
            .properties
            .environment_data
            .as_ref()
            .and_then(|e| e.account_name.clone()),
        id: c.id,
        name: c.name,
        status,
        healthy,
        problems,
    })
}

fn wait_for_count(config: &Value) -> Result<Option<usize>, String> {
    match config.get("wait_for_count").as_i64() {
        None => Ok(None),
        Some(n) => usize::try_from(n).map(Some).map_err(|_| {
            format!(
                "{n} is negative; give the number of member connectors to wait for (0 or more)."
            )
        }),
    }
}

#[async_trait]
impl DataSource<ProviderClients> for SecurityConnectorMembersDataSource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .description(DESCRIPTION)
                .attribute(
                    Attribute::string("organization_connector_id")
                        .required()
                        .description("The ARM id of the organization (management account) connector, for example `multicloud_security_connector.org.id`."),
                )
                .attribute(Attribute::int("wait_for_count").optional().description(
                    "Wait until at least this many member connectors exist, failing after \
                     `wait_timeout`; for example the number of member accounts minus the excluded \
                     ones. Unset: list what exists now.",
                ))
                .attribute(Attribute::string("wait_timeout").optional().description(
                    "How long `wait_for_count` waits, as a duration such as `90s`, `10m` or `1h30m`. \
                     Defaults to `30m`.",
                ))
                .attribute(
                    Attribute::string("aws_account_id")
                        .computed()
                        .description("The management account of the organization connector (the members' `parentHierarchyId`)."),
                )
                .attribute(
                    Attribute::new("members", Type::list(member_type()))
                        .computed()
                        .description(
                            "One entry per member connector, sorted by account: `id` and `name` of the \
                             connector, `aws_account_id`, `aws_account_name`, `status` (`Healthy`, \
                             `NotHealthy`, `NotApplicable`, or `Unknown` before Defender's first report), \
                             `healthy`, and `problems` (the unhealthy reports' issues with their fixes, one \
                             per line; null when healthy).",
                        ),
                )
                .attribute(
                    Attribute::new("member_account_ids", Type::list(Type::String))
                        .computed()
                        .description("The members' AWS account ids, sorted."),
                )
                .attribute(
                    Attribute::int("healthy_count")
                        .computed()
                        .description("How many members are healthy."),
                ),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(id) = config.get("organization_connector_id").as_str()
            && let Err(detail) = SecurityConnectorId::parse(id)
        {
            diags.attribute_error(
                AttrPath::root("organization_connector_id"),
                "Invalid organization_connector_id",
                detail,
            );
        }
        if let Err(detail) = wait_for_count(config) {
            diags.attribute_error(
                AttrPath::root("wait_for_count"),
                "Invalid wait_for_count",
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
        let text = config.get("organization_connector_id").as_str()?;
        let id = SecurityConnectorId::parse(text).ok()?;
        let wanted = wait_for_count(config).ok()?;
        let wait = CADENCE.wait(arm.clock().clone(), config)?;
        let path = AttrPath::root("organization_connector_id");
        let org = match arm.security_connector(text).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                diags.attribute_error(
                    path,
                    "Organization connector not found",
                    format!("There is no security connector {text}."),
                );
                return None;
            }
            Err(e) => {
                errors::azure(diags, "Cannot read the organization connector", &e);
                return None;
            }
        };
        let management = match management_account(&org) {
            Ok(m) => m,
            Err(detail) => {
                diags.attribute_error(path, "Not an organization connector", detail);
                return None;
            }
        };
        let (subscription, account) = (id.subscription_id.as_str(), management.as_str());
        let read = || async move {
            let all = arm
                .security_connectors_in_subscription(subscription)
                .await?;
            let found = members_of(all, account);
            Ok::<_, AzureError>(match wanted {
                Some(n) if found.len() < n => Poll::Pending(found),
                _ => Poll::Ready(found),
            })
        };
        let found = match wait.until("member connectors", read).await {
            Ok(found) => found,
            Err(WaitError::Failed(e)) => {
                errors::azure(diags, "Cannot list the security connectors", &e);
                return None;
            }
            Err(WaitError::TimedOut {
                last: found,
                elapsed,
                timeout,
            }) => {
                diags.attribute_error(
                    AttrPath::root("wait_for_count"),
                    "Member connectors missing",
                    format!(
                        "{} has {} member connectors after {}s of waiting, fewer than the {} \
                         wait_for_count asks for (wait_timeout {}s). Defender for Cloud creates \
                         them only while the organization connector is healthy (see \
                         multicloud_security_connector_status) and never for excluded accounts.",
                        id.name,
                        found.len(),
                        elapsed.as_secs(),
                        wanted.unwrap_or_default(),
                        timeout.as_secs()
                    ),
                );
                return None;
            }
        };
        let members: Vec<Result<Member, AzureError>> = stream::iter(found)
            .map(|c| with_health(arm, c))
            .buffered(HEALTH_READ_CONCURRENCY)
            .collect()
            .await;
        let members = match members.into_iter().collect::<Result<Vec<_>, _>>() {
            Ok(m) => m,
            Err(e) => {
                errors::azure(diags, "Cannot read a member connector's health", &e);
                return None;
            }
        };
        let mut out = config.clone();
        out.set_attr("aws_account_id", management.as_str());
        out.set_attr(
            "member_account_ids",
            Value::string_list(members.iter().map(|m| m.account.clone())),
        );
        out.set_attr(
            "healthy_count",
            Value::from(members.iter().filter(|m| m.healthy).count() as i64),
        );
        out.set_attr("members", Value::list(members.iter().map(Member::value)));
        Some(out)
    }
}

#[cfg(test)]
#[path = "security_connector_members_tests.rs"]
mod tests;
