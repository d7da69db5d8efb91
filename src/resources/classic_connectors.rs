//! `multicloud_classic_connectors`: the classic (legacy) multicloud connectors of a subscription,
//! so a migration to the native security connector can find what must be removed.

use async_trait::async_trait;

use crate::azure::classic_connector::ClassicConnector;
use crate::protocol::{AttrPath, Attribute, Block, DataSource, Diagnostics, Schema, Type, Value};

use super::clients::ProviderClients;
use super::{errors, validators};

/// The `multicloud_classic_connectors` data source.
#[derive(Debug, Default, Clone, Copy)]
pub struct ClassicConnectorsDataSource;

pub(crate) fn connector_type() -> Type {
    Type::object([
        ("id", Type::String),
        ("name", Type::String),
        ("authentication_type", Type::String),
        ("aws_account_id", Type::String),
        ("aws_role_arn", Type::String),
        ("aws_external_id", Type::String),
        ("aws_access_key_id", Type::String),
        ("authentication_state", Type::String),
    ])
}

pub(crate) fn connector_value(c: &ClassicConnector) -> Value {
    let auth = c
        .properties
        .authentication_details
        .clone()
        .unwrap_or_default();
    Value::object([
        ("id", Value::from(c.id.as_str())),
        ("name", Value::from(c.name.as_str())),
        (
            "authentication_type",
            Value::from(auth.authentication_type.as_str()),
        ),
        ("aws_account_id", Value::from(c.aws_account_id())),
        ("aws_role_arn", Value::from(auth.aws_assume_role_arn)),
        ("aws_external_id", Value::from(auth.aws_external_id)),
        ("aws_access_key_id", Value::from(auth.aws_access_key_id)),
        (
            "authentication_state",
            Value::from(auth.authentication_provisioning_state),
        ),
    ])
}

#[async_trait]
impl DataSource<ProviderClients> for ClassicConnectorsDataSource {
    fn type_name(&self) -> &'static str {
        "multicloud_classic_connectors"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .description(
                    "The classic multicloud connectors (`Microsoft.Security/connectors`, \
                     api-version `2020-01-01-preview`) of a subscription: the AWS connectors Defender \
                     for Cloud used before the native security connector, authenticating with a role \
                     trusting Microsoft's AWS account (`awsAssumeRole`) or an IAM user's access key \
                     (`awsCreds`). Microsoft asks for them to be removed when an account moves to the \
                     native connector; see `multicloud_classic_connector_migration`.",
                )
                .attribute(Attribute::string("subscription_id").optional().computed().description(
                    "The subscription to list. Defaults to the provider's `azure.subscription_id`.",
                ))
                .attribute(Attribute::string("id").computed().description(
                    "The subscription's ARM id.",
                ))
                .attribute(
                    Attribute::new("connectors", Type::list(connector_type()))
                        .computed()
                        .description(
                            "One entry per classic connector, sorted by name: `id`, `name`, \
                             `authentication_type` (`awsAssumeRole`, `awsCreds` or `gcpCredentials`), \
                             `aws_account_id`, `aws_role_arn` and `aws_external_id` (assume role), \
                             `aws_access_key_id` (credentials; the secret is never read) and \
                             `authentication_state` (`Valid`, `Invalid`, `Expired`, `IncorrectPolicy`).",
                        ),
                ),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(sub) = config.get("subscription_id").as_str()
            && let Err(detail) = validators::guid(sub)
        {
            diags.attribute_error(
                AttrPath::root("subscription_id"),
                "Invalid subscription_id",
                detail,
            );
        }
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
        let subscription = config
            .get("subscription_id")
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| arm.subscription_id().to_owned());
        let mut list = match arm.classic_connectors(&subscription).await {
            Ok(l) => l,
            Err(e) => {
                errors::azure(diags, "Cannot list the classic connectors", &e);
                return None;
            }
        };
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Some(Value::object([
            ("subscription_id", Value::from(subscription.as_str())),
            ("id", Value::from(format!("/subscriptions/{subscription}"))),
            ("connectors", Value::list(list.iter().map(connector_value))),
        ]))
    }
}
