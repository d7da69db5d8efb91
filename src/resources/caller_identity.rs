//! `multicloud_caller_identity`: who the provider is logged in as, in AWS and in Azure. Onboarding
//! configurations need exactly these values (the AWS account to connect, the tenant to trust).

use async_trait::async_trait;

use crate::protocol::{Attribute, Block, DataSource, Diagnostics, Schema, Type, Value};

use super::clients::ProviderClients;
use super::errors;
use super::value_checks::Choices;

/// The `multicloud_caller_identity` data source.
#[derive(Debug, Default, Clone, Copy)]
pub struct CallerIdentityDataSource;

const CLOUDS: [&str; 2] = ["aws", "azure"];

fn computed(name: &str, description: &str) -> Attribute {
    Attribute::string(name).computed().description(description)
}

#[async_trait]
impl DataSource<ProviderClients> for CallerIdentityDataSource {
    fn type_name(&self) -> &'static str {
        "multicloud_caller_identity"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new().description(
                "The identities the provider is logged in as: the AWS account, ARN and user id \
                 (STS `GetCallerIdentity`) and the Azure tenant, subscription, client and object id \
                 (from the Entra ID token). Use it to feed the account id and tenant into onboarding \
                 resources without hard-coding them.",
            )
            .attribute(
                Attribute::set("clouds", Type::String)
                    .optional()
                    .description(
                        "Which clouds to ask: any of `aws` and `azure`. Defaults to both. A cloud left \
                         out needs no credentials, and its attributes stay null.",
                    ),
            )
            .attribute(computed("id", "`<aws_account_id>/<azure_tenant_id>`, with an empty part for a cloud not asked."))
            .attribute(computed("aws_account_id", "The 12-digit AWS account id."))
            .attribute(computed("aws_arn", "The ARN of the AWS identity (user or assumed role)."))
            .attribute(computed("aws_user_id", "The unique id of the AWS identity."))
            .attribute(computed("azure_tenant_id", "The Entra ID tenant the provider logged in to."))
            .attribute(computed("azure_subscription_id", "The configured Azure subscription id."))
            .attribute(computed("azure_client_id", "The application (client) id the token was issued to."))
            .attribute(computed("azure_object_id", "The object id of the service principal or managed identity.")),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let clouds = Choices {
            attribute: "clouds",
            allowed: &CLOUDS,
            empty: (
                "No cloud to ask",
                "An empty set asks no cloud; name \"aws\" and/or \"azure\", or omit `clouds` to ask both.",
            ),
            unknown: "Unknown cloud",
        };
        clouds.check(config, diags, |name| {
            format!("{name:?} is not a cloud this data source reads; use \"aws\" and/or \"azure\".")
        });
    }

    async fn read(
        &self,
        clients: &ProviderClients,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let wanted = |cloud: &str| match config.get("clouds") {
            Value::Set(items) => items.iter().any(|i| i.as_str() == Some(cloud)),
            _ => true,
        };
        let mut aws = [Value::Null, Value::Null, Value::Null];
        if wanted("aws") {
            let client = clients.aws(diags).await?;
            match client.caller_identity().await {
                Ok(id) => aws = [id.account_id.into(), id.arn.into(), id.user_id.into()],
                Err(e) => {
                    errors::aws(diags, "Cannot read the AWS caller identity", &e);
                    return None;
                }
            }
        }
        let mut azure = [Value::Null, Value::Null, Value::Null, Value::Null];
        if wanted("azure") {
            let client = clients.azure(diags).await?;
            match client.token_claims().await {
                Ok(claims) => {
                    azure = [
                        claims.tenant_id.into(),
                        client.subscription_id().into(),
                        claims.client_id.map_or(Value::Null, Value::from),
                        claims.object_id.into(),
                    ]
                }
                Err(e) => {
                    errors::azure(diags, "Cannot log in to Azure", &e);
                    return None;
                }
            }
        }
        let id = format!(
            "{}/{}",
            aws[0].as_str().unwrap_or_default(),
            azure[0].as_str().unwrap_or_default()
        );
        let [aws_account_id, aws_arn, aws_user_id] = aws;
        let [
            azure_tenant_id,
            azure_subscription_id,
            azure_client_id,
            azure_object_id,
        ] = azure;
        Some(Value::object([
            ("clouds", config.get("clouds").clone()),
            ("id", id.into()),
            ("aws_account_id", aws_account_id),
            ("aws_arn", aws_arn),
            ("aws_user_id", aws_user_id),
            ("azure_tenant_id", azure_tenant_id),
            ("azure_subscription_id", azure_subscription_id),
            ("azure_client_id", azure_client_id),
            ("azure_object_id", azure_object_id),
        ]))
    }
}
