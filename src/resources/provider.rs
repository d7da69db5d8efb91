//! The `multicloud` provider itself: its configuration schema, and `configure`, which turns the
//! configuration into lazily-connected cloud clients for the resources.

use std::sync::Arc;

use async_trait::async_trait;

use crate::protocol::{
    Attribute, Block, DataSource, Diagnostics, NestedBlock, Provider, Resource, Schema, Value,
};

use super::aws_oidc_trust::AwsOidcTrustResource;
use super::aws_onboarding_template::AwsOnboardingTemplateDataSource;
use super::aws_organization::AwsOrganizationDataSource;
use super::caller_identity::CallerIdentityDataSource;
use super::classic_connector_migration::ClassicConnectorMigrationResource;
use super::classic_connectors::ClassicConnectorsDataSource;
use super::clients::ProviderClients;
use super::cloud_apps_aws_user::CloudAppsAwsUserResource;
use super::defender_plan_set::DefenderPlanSetResource;
use super::docs;
use super::multicloud_connector::MulticloudConnectorResource;
use super::multicloud_connector_inventory::MulticloudConnectorInventoryDataSource;
use super::provider_config;
use super::resource_provider_registration::ResourceProviderRegistrationResource;
use super::security_connector::SecurityConnectorResource;
use super::security_connector_members::SecurityConnectorMembersDataSource;
use super::security_connector_status::SecurityConnectorStatusDataSource;

/// The `multicloud` Terraform provider.
#[derive(Debug, Default, Clone, Copy)]
pub struct MulticloudProvider;

#[async_trait]
impl Provider for MulticloudProvider {
    type Client = ProviderClients;

    fn schema(&self) -> Schema {
        provider_schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        provider_config::validate(config, diags);
    }

    async fn configure(&self, config: &Value, diags: &mut Diagnostics) -> Option<ProviderClients> {
        provider_config::validate(config, diags);
        if diags.has_errors() {
            return None;
        }
        Some(ProviderClients::from_config(config, &|k| {
            std::env::var(k).ok()
        }))
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<ProviderClients>>> {
        vec![
            Arc::new(ResourceProviderRegistrationResource),
            Arc::new(DefenderPlanSetResource),
            Arc::new(AwsOidcTrustResource),
            Arc::new(CloudAppsAwsUserResource),
            Arc::new(ClassicConnectorMigrationResource),
            Arc::new(SecurityConnectorResource),
            Arc::new(MulticloudConnectorResource),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<ProviderClients>>> {
        vec![
            Arc::new(CallerIdentityDataSource),
            Arc::new(AwsOnboardingTemplateDataSource),
            Arc::new(SecurityConnectorStatusDataSource),
            Arc::new(SecurityConnectorMembersDataSource),
            Arc::new(ClassicConnectorsDataSource),
            Arc::new(AwsOrganizationDataSource),
            Arc::new(MulticloudConnectorInventoryDataSource),
        ]
    }
}

fn optional_string(name: &str, description: &str) -> Attribute {
    Attribute::string(name).optional().description(description)
}

fn optional_secret(name: &str, description: &str) -> Attribute {
    optional_string(name, description).sensitive()
}

fn optional_bool(name: &str, description: &str) -> Attribute {
    Attribute::bool(name).optional().description(description)
}

fn single(name: &str, block: Block) -> NestedBlock {
    NestedBlock::single(name, block)
}

/// The provider block's schema.
pub fn provider_schema() -> Schema {
    Schema::new(
        Block::new()
            .description(docs::PROVIDER)
            .block(single("azure", azure_block()))
            .block(single("aws", aws_block())),
    )
}

fn azure_block() -> Block {
    Block::new().description(docs::AZURE_BLOCK)
        .attribute(optional_string(
            "tenant_id",
            "The Entra ID tenant (directory) id to log in to. Can also be set with `ARM_TENANT_ID`.",
        ))
        .attribute(optional_string(
            "subscription_id",
            "The Azure subscription that Azure resources are created in unless a resource names another. \
             Can also be set with `ARM_SUBSCRIPTION_ID`.",
        ))
        .attribute(optional_string(
            "client_id",
            "The application (client) id of the service principal or managed identity. Can also be set \
             with `ARM_CLIENT_ID`.",
        ))
        .attribute(optional_secret(
            "client_secret",
            "A client secret of the service principal. Can also be set with `ARM_CLIENT_SECRET`. Prefer \
             `use_oidc` in pipelines: no long-lived secret to store.",
        ))
        .attribute(optional_bool("use_oidc", docs::USE_OIDC))
        .attribute(optional_secret(
            "oidc_token",
            "The OIDC token (a JWT) to exchange for an Entra ID token. Can also be set with \
             `ARM_OIDC_TOKEN` or `TFC_WORKLOAD_IDENTITY_TOKEN`.",
        ))
        .attribute(optional_string(
            "oidc_token_file_path",
            "A file holding the OIDC token; it is read again for every token exchange, so a rotated \
             token is picked up. Can also be set with `ARM_OIDC_TOKEN_FILE_PATH`.",
        ))
        .attribute(optional_bool(
            "use_cli",
            "Log in with the Azure CLI's current account (`az login`). Can also be set with `ARM_USE_CLI`.",
        ))
        .attribute(optional_bool(
            "use_msi",
            "Log in with the managed identity of the machine running Terraform. Can also be set with \
             `ARM_USE_MSI`.",
        ))
        .attribute(optional_string("ca_cert_file", docs::CA_CERT_FILE))
        .attribute(optional_bool("register_resource_providers", docs::REGISTER_PROVIDERS))
        .block(single(
            "endpoints",
            Block::new().description("Override the Azure endpoints, for tests against a local emulator. National clouds are not supported by Defender for Cloud's multicloud connectors.")
                .attribute(optional_string(
                    "resource_manager",
                    "Azure Resource Manager base URL (https). Defaults to `https://management.azure.com/`.",
                ))
                .attribute(optional_string(
                    "active_directory",
                    "Entra ID authority host (https). Defaults to `https://login.microsoftonline.com/`.",
                )),
        ))
}

fn aws_block() -> Block {
    Block::new().description(docs::AWS_BLOCK)
        .attribute(optional_string(
            "region",
            "The AWS region for regional API calls (IAM and Organizations are global). Can also be set \
             with `AWS_REGION` or `AWS_DEFAULT_REGION`.",
        ))
        .attribute(optional_string(
            "profile",
            "A named profile from the shared AWS config and credentials files. Can also be set with `AWS_PROFILE`.",
        ))
        .attribute(optional_string(
            "access_key",
            "An access key id. Can also be set with `AWS_ACCESS_KEY_ID`. Prefer roles and web identity.",
        ))
        .attribute(optional_secret(
            "secret_key",
            "The secret access key for `access_key`. Can also be set with `AWS_SECRET_ACCESS_KEY`.",
        ))
        .attribute(optional_secret(
            "token",
            "A session token for temporary `access_key`/`secret_key` credentials. Can also be set with \
             `AWS_SESSION_TOKEN`.",
        ))
        .attribute(
            Attribute::int("max_retries")
                .optional()
                .description("How many times an AWS call is attempted in all (standard retry mode). Defaults to 3."),
        )
        .block(single(
            "assume_role",
            Block::new().description("Assume this IAM role with the credentials found above, before any other AWS call.")
                .attribute(Attribute::string("role_arn").required().description("The ARN of the role to assume."))
                .attribute(optional_string("session_name", "The role session name. Defaults to `terraform-provider-multicloud`."))
                .attribute(optional_string("external_id", "The external id the role's trust policy requires, if any."))
                .attribute(
                    Attribute::int("duration_seconds")
                        .optional()
                        .description("How long the role session lasts, 900 to 43200 seconds. Defaults to 3600."),
                ),
        ))
        .block(single(
            "assume_role_with_web_identity",
            Block::new().description(docs::WEB_IDENTITY)
                .attribute(Attribute::string("role_arn").required().description("The ARN of the role to assume."))
                .attribute(optional_string("session_name", "The role session name. Defaults to `terraform-provider-multicloud`."))
                .attribute(optional_secret("web_identity_token", "The web identity token (a JWT). Can also be set with `TFC_WORKLOAD_IDENTITY_TOKEN`."))
                .attribute(optional_string("web_identity_token_file", "A file holding the web identity token. Can also be set with `AWS_WEB_IDENTITY_TOKEN_FILE`.")),
        ))
        .block(single(
            "endpoints",
            Block::new().description("Override AWS service endpoints, for tests against a local emulator or for VPC endpoints.")
                .attribute(optional_string("iam", "IAM endpoint URL."))
                .attribute(optional_string("sts", "STS endpoint URL."))
                .attribute(optional_string("cloudformation", "CloudFormation endpoint URL."))
                .attribute(optional_string("organizations", "Organizations endpoint URL."))
                .attribute(optional_string("s3", "S3 endpoint URL.")),
        ))
}
