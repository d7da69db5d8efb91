//! `multicloud_classic_connector_migration`: removes a classic (legacy) AWS connector once the
//! native security connector for the same account is healthy, and, only when named, the IAM
//! role or user the classic connector used. Nothing is removed before the native connector is
//! healthy, and nothing that was not named.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value as Json;

use crate::aws::iam::IamClient;
use crate::azure::classic_connector::ClassicConnector;
use crate::protocol::{AttrPath, Attribute, Block, Diagnostics, Resource, Schema, Value};

use super::clients::ProviderClients;
use super::ids::SecurityConnectorId;
use super::security_connector_status::connector_health_now;
use super::waiting::{Cadence, Poll, WaitError};
use super::{errors, validators, value_checks};

/// The `multicloud_classic_connector_migration` resource.
#[derive(Debug, Default, Clone, Copy)]
pub struct ClassicConnectorMigrationResource;

const TYPE_NAME: &str = "multicloud_classic_connector_migration";

/// Microsoft's AWS account that classic `awsAssumeRole` connectors were told to trust.
pub(crate) const MICROSOFT_CLASSIC_ACCOUNT: &str = "197857026523";

/// How the migration waits for a healthy native connector: 30 minutes unless `wait_timeout`
/// says otherwise, checking after 10 s, then twice as long each time up to a minute.
const CADENCE: Cadence = Cadence {
    default_timeout: Duration::from_secs(30 * 60),
    first_interval: Duration::from_secs(10),
    max_interval: Duration::from_secs(60),
};

const DESCRIPTION: &str = "Moves an AWS account from a classic connector to the native security \
connector: waits until `security_connector_id` (same AWS account) is reported healthy, then \
deletes the classic connector `classic_connector_id`, and then, only if named, the IAM role \
(`delete_aws_role_name`, for `awsAssumeRole` connectors) or IAM user (`delete_aws_user_name`, \
for `awsCreds` connectors) the classic connector used.\n\n\
Before anything is deleted every name is checked: the role must be the one the connector \
assumes and trust Microsoft's account `197857026523` with the subscription id as external id; \
the user must own the connector's access key. If the native connector is not healthy within \
`wait_timeout`, or a check fails, nothing is deleted.\n\n\
The resource records a one-time migration: destroying it recreates nothing.";

/// Whether a trust policy lets Microsoft's account assume the role with `external_id`.
pub(crate) fn trusts_microsoft(trust_policy: &str, external_id: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Json>(trust_policy) else {
        return false;
    };
    let statements = match doc.get("Statement") {
        Some(Json::Array(a)) => a.clone(),
        Some(o @ Json::Object(_)) => vec![o.clone()],
        _ => return false,
    };
    let strings = |v: Option<&Json>| -> Vec<String> {
        match v {
            Some(Json::String(s)) => vec![s.clone()],
            Some(Json::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    statements.iter().any(|st| {
        let allow = st.get("Effect").and_then(Json::as_str) == Some("Allow");
        let principal = strings(st.pointer("/Principal/AWS")).iter().any(|p| {
            p == MICROSOFT_CLASSIC_ACCOUNT
                || p == &format!("arn:aws:iam::{MICROSOFT_CLASSIC_ACCOUNT}:root")
        });
        let external = strings(st.pointer("/Condition/StringEquals/sts:ExternalId"))
            .iter()
            .any(|e| e == external_id);
        allow && principal && external
    })
}

/// Checks the names against the connector before anything is deleted.
async fn check_named(
    iam: &IamClient,
    connector: &ClassicConnector,
    subscription_id: &str,
    role: Option<&str>,
    user: Option<&str>,
    diags: &mut Diagnostics,
) -> bool {
    let auth = connector
        .properties
        .authentication_details
        .clone()
        .unwrap_or_default();
    if let Some(role) = role {
        let path = AttrPath::root("delete_aws_role_name");
        let arn = auth.aws_assume_role_arn.clone().unwrap_or_default();
        if !arn.ends_with(&format!("/{role}")) {
            diags.attribute_error(path, "Not the classic connector's role", format!("Classic connector {} assumes {arn:?}, not a role named {role}; nothing was deleted.", connector.name));
            return false;
        }
        match iam.get_role_opt(role).await {
            Ok(Some(r)) if trusts_microsoft(&r.trust_policy, subscription_id) => {}
            Ok(Some(_)) => {
                diags.attribute_error(path, "Role does not look like a classic connector role", format!("IAM role {role} does not trust Microsoft's account {MICROSOFT_CLASSIC_ACCOUNT} with external id {subscription_id}; it is not deleted, and nothing else was."));
                return false;
            }
            Ok(None) => {}
            Err(e) => {
                errors::aws(diags, "Cannot read the classic connector's role", &e);
                return false;
            }
        }
    }
    if let Some(user) = user {
        let key = auth.aws_access_key_id.clone().unwrap_or_default();
        match iam.list_access_keys(user).await {
            Ok(keys) if keys.iter().any(|k| k.id == key) => {}
            Ok(_) => {
                diags.attribute_error(AttrPath::root("delete_aws_user_name"), "Not the classic connector's user", format!("IAM user {user} does not own the access key classic connector {} uses; nothing was deleted.", connector.name));
                return false;
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                errors::aws(diags, "Cannot read the classic connector's user", &e);
                return false;
            }
        }
    }
    true
}

#[async_trait]
impl Resource<ProviderClients> for ClassicConnectorMigrationResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        let replace = |a: Attribute| a.force_new();
        Schema::new(
            Block::new()
                .description(DESCRIPTION)
                .attribute(Attribute::string("id").computed().use_state_for_unknown().description("The classic connector's ARM id."))
                .attribute(replace(Attribute::string("classic_connector_id").required()).description(
                    "ARM id of the classic connector to remove, e.g. from `data.multicloud_classic_connectors`.",
                ))
                .attribute(replace(Attribute::string("security_connector_id").required()).description(
                    "ARM id of the native security connector for the same AWS account, e.g. \
                     `multicloud_security_connector.prod.id`.",
                ))
                .attribute(replace(Attribute::string("delete_aws_role_name").optional()).description(
                    "Also delete this IAM role, the one the classic connector assumes. Checked first: \
                     it must be named in the connector and trust Microsoft's account with the \
                     subscription id as external id.",
                ))
                .attribute(replace(Attribute::string("delete_aws_user_name").optional()).description(
                    "Also delete this IAM user (with its keys and policies), the one whose access key \
                     the classic connector uses. Checked first: it must own that key.",
                ))
                .attribute(Attribute::string("wait_timeout").optional().description(
                    "How long to wait for the native connector to be healthy, e.g. `30m` (default).",
                ))
                .attribute(Attribute::string("aws_account_id").computed().use_state_for_unknown().description(
                    "The AWS account migrated.",
                ))
                .attribute(Attribute::list("deleted", crate::protocol::Type::String).computed().use_state_for_unknown().description(
                    "What was deleted: the classic connector's id, then `role/<name>` or `user/<name>`.",
                )),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validators::check_wait_timeout(config, diags);
        type Check = fn(&str) -> Result<(), String>;
        let ids: [(&str, Check); 2] = [
            ("classic_connector_id", value_checks::classic_connector_id),
            ("security_connector_id", |id| {
                SecurityConnectorId::parse(id).map(|_| ())
            }),
        ];
        for (name, check) in ids {
            if let Some(id) = config.get(name).as_str()
                && let Err(detail) = check(id)
            {
                diags.attribute_error(AttrPath::root(name), format!("Invalid {name}"), detail);
            }
        }
        for (name, what) in [
            ("delete_aws_role_name", "role"),
            ("delete_aws_user_name", "user"),
        ] {
            if let Some(n) = config.get(name).as_str()
                && let Err(detail) = value_checks::iam_name(n, what)
            {
                diags.attribute_error(AttrPath::root(name), format!("Invalid {name}"), detail);
            }
        }
        if config.get("delete_aws_role_name").as_str().is_some()
            && config.get("delete_aws_user_name").as_str().is_some()
        {
            diags.attribute_error(
                AttrPath::root("delete_aws_user_name"),
                "Conflicting attributes",
                "A classic connector used either a role or a user: set one of delete_aws_role_name and delete_aws_user_name.",
            );
        }
    }

    async fn create(
        &self,
        clients: &ProviderClients,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let classic_id = planned.get("classic_connector_id").as_str()?.to_owned();
        let native_id = planned.get("security_connector_id").as_str()?.to_owned();
        let role = planned
            .get("delete_aws_role_name")
            .as_str()
            .map(str::to_owned);
        let user = planned
            .get("delete_aws_user_name")
            .as_str()
            .map(str::to_owned);
        let timeout = validators::wait_timeout(planned, CADENCE.default_timeout).ok()?;
        let arm = clients.azure(diags).await?;
        let classic = match arm.classic_connector(&classic_id).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                diags.attribute_error(
                    AttrPath::root("classic_connector_id"),
                    "Classic connector not found",
                    format!("There is no classic connector {classic_id}."),
                );
                return None;
            }
            Err(e) => {
                errors::azure(diags, "Cannot read the classic connector", &e);
                return None;
            }
        };
        let account = classic.aws_account_id();
        match arm.security_connector(&native_id).await {
            Ok(Some(native)) => {
                let native_account = native.properties.hierarchy_identifier.clone();
                if account.is_some() && native_account != account {
                    diags.attribute_error(AttrPath::root("security_connector_id"), "Different AWS account", format!("The classic connector is for AWS account {}, the security connector for {}; nothing was deleted.", account.unwrap_or_default(), native_account.unwrap_or_default()));
                    return None;
                }
            }
            Ok(None) => {
                diags.attribute_error(
                    AttrPath::root("security_connector_id"),
                    "Security connector not found",
                    format!("There is no security connector {native_id}; nothing was deleted."),
                );
                return None;
            }
            Err(e) => {
                errors::azure(diags, "Cannot read the security connector", &e);
                return None;
            }
        }
        // Never before healthy: poll, and give up without deleting anything.
        let native = native_id.as_str();
        let read = || async move {
            match connector_health_now(arm, native).await {
                Ok(Some((_, true, _))) => Ok(Poll::Ready(())),
                Ok(Some((status, false, problems))) => Ok(Poll::Pending((status, problems))),
                // `None`: the connector is gone.
                Ok(None) => Err(None),
                Err(e) => Err(Some(e)),
            }
        };
        let wait = CADENCE.wait_for(arm.clock().clone(), timeout);
        match wait
            .until(
                "a healthy native connector before removing the classic one",
                read,
            )
            .await
        {
            Ok(()) => {}
            Err(WaitError::TimedOut {
                last: (status, problems),
                elapsed,
                timeout,
            }) => {
                diags.error("Security connector not healthy", format!("{native_id} is {status} after {}s (wait_timeout {}s); the classic connector was not deleted.\n{problems}", elapsed.as_secs(), timeout.as_secs()));
                return None;
            }
            Err(WaitError::Failed(None)) => {
                diags.error(
                    "Security connector not found",
                    format!("{native_id} disappeared while waiting; nothing was deleted."),
                );
                return None;
            }
            Err(WaitError::Failed(Some(e))) => {
                errors::azure(diags, "Cannot read the connector's health", &e);
                return None;
            }
        }
        let iam = if role.is_some() || user.is_some() {
            Some(clients.aws(diags).await?.iam())
        } else {
            None
        };
        let subscription = arm.subscription_id().to_owned();
        if let Some(iam) = &iam
            && !check_named(
                iam,
                &classic,
                &subscription,
                role.as_deref(),
                user.as_deref(),
                diags,
            )
            .await
        {
            return None;
        }
        if let Err(e) = arm.delete_classic_connector(&classic_id).await {
            errors::azure(diags, "Cannot delete the classic connector", &e);
            return None;
        }
        let mut deleted = vec![classic_id.clone()];
        let state = |deleted: &[String]| {
            planned
                .clone()
                .with_attr("id", classic_id.as_str())
                .with_attr("aws_account_id", Value::from(account.clone()))
                .with_attr("deleted", Value::string_list(deleted.to_vec()))
        };
        if let (Some(iam), Some(role)) = (&iam, &role) {
            match iam.delete_role(role).await {
                Ok(_) => deleted.push(format!("role/{role}")),
                Err(e) => {
                    errors::aws(
                        diags,
                        "The classic connector is deleted, but not its role",
                        &e,
                    );
                    return Some(state(&deleted));
                }
            }
        }
        if let (Some(iam), Some(user)) = (&iam, &user) {
            match iam.delete_user(user).await {
                Ok(_) => deleted.push(format!("user/{user}")),
                Err(e) => {
                    errors::aws(
                        diags,
                        "The classic connector is deleted, but not its user",
                        &e,
                    );
                    return Some(state(&deleted));
                }
            }
        }
        Some(state(&deleted))
    }

    async fn read(
        &self,
        _clients: &ProviderClients,
        state: &Value,
        _diags: &mut Diagnostics,
    ) -> Option<Value> {
        Some(state.clone())
    }

    async fn update(
        &self,
        _clients: &ProviderClients,
        _prior: &Value,
        planned: &Value,
        _diags: &mut Diagnostics,
    ) -> Option<Value> {
        // Only wait_timeout can change in place; it matters only for a create.
        Some(planned.clone())
    }

    async fn delete(&self, _clients: &ProviderClients, _state: &Value, _diags: &mut Diagnostics) {}

    async fn import(
        &self,
        _clients: &ProviderClients,
        _id: &str,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        diags.error(
            "A migration cannot be imported",
            format!("{TYPE_NAME} records a one-time action; once the classic connector is deleted there is nothing to read back. Remove it from the configuration instead."),
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classic_trust_is_recognised_and_nothing_else() {
        let sub = "11111111-2222-3333-4444-555555555555";
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::197857026523:root"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"{sub}"}}}}}}]}}"#
        );
        assert!(trusts_microsoft(&trust, sub));
        assert!(!trusts_microsoft(&trust, "another-subscription"));
        let other = trust.replace("197857026523", "123456789012");
        assert!(!trusts_microsoft(&other, sub));
        let deny = trust.replace("Allow", "Deny");
        assert!(!trusts_microsoft(&deny, sub));
        assert!(!trusts_microsoft("not json", sub));
    }
}
