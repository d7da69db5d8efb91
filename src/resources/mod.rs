//! Terraform types: the provider, its resources and data sources. Thin: each turns Terraform
//! values into calls on the cloud clients and the onboarding domain, and cloud errors into
//! diagnostics with attribute paths.

mod aws_oidc_trust;
mod aws_onboarding_template;
mod aws_organization;
mod caller_identity;
mod classic_connector_migration;
mod classic_connectors;
mod clients;
mod cloud_apps_aws_user;
mod defender_plan_set;
mod defender_plan_set_outputs;
mod defender_plan_set_pricings;
mod defender_plan_set_schema;
pub mod docgen;
mod docs;
mod errors;
mod ids;
mod locations;
mod multicloud_connector;
mod multicloud_connector_cleanup;
mod multicloud_connector_inventory;
mod multicloud_connector_model;
mod multicloud_connector_roles;
mod multicloud_connector_schema;
mod provider;
mod provider_config;
mod resource_provider_registration;
mod security_connector;
mod security_connector_checks;
mod security_connector_members;
mod security_connector_offerings;
mod security_connector_prerequisites;
mod security_connector_state;
mod security_connector_status;
mod validators;
mod value_checks;
mod waiting;

pub use aws_oidc_trust::AwsOidcTrustResource;
pub use aws_onboarding_template::AwsOnboardingTemplateDataSource;
pub use aws_organization::AwsOrganizationDataSource;
pub use caller_identity::CallerIdentityDataSource;
pub use classic_connector_migration::ClassicConnectorMigrationResource;
pub use classic_connectors::ClassicConnectorsDataSource;
pub use clients::ProviderClients;
pub use cloud_apps_aws_user::CloudAppsAwsUserResource;
pub use defender_plan_set::DefenderPlanSetResource;
pub use multicloud_connector::MulticloudConnectorResource;
pub use multicloud_connector_inventory::MulticloudConnectorInventoryDataSource;
pub use provider::{MulticloudProvider, provider_schema};
pub use resource_provider_registration::ResourceProviderRegistrationResource;
pub use security_connector::SecurityConnectorResource;
pub use security_connector_members::SecurityConnectorMembersDataSource;
pub use security_connector_status::SecurityConnectorStatusDataSource;
