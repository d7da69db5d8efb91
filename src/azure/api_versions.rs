//! The api-version of every ARM API the provider calls, pinned here and nowhere else, so an
//! upgrade is one reviewed change and the request shapes in the models follow it.

/// `Microsoft.Resources` providers operations (long-lived, widely used).
pub const PROVIDERS: &str = "2021-04-01";

/// `Microsoft.Security/securityConnectors`. Every published version is a preview; this is the
/// newest, and the offering layout built by the onboarding domain follows it (role ARNs of
/// `vmScanners` and `arcAutoProvisioning` are siblings of `enabled` here, not inside
/// `configuration` as in older previews).
pub const SECURITY_CONNECTORS: &str = "2024-08-01-preview";

/// `Microsoft.Security/healthReports`, where Defender for Cloud reports connector health; the
/// only published version.
pub const HEALTH_REPORTS: &str = "2023-05-01-preview";

/// `Microsoft.Security/connectors`, the classic (legacy) multicloud connectors being retired
/// in favour of security connectors; the only version they were published with.
pub const CLASSIC_CONNECTORS: &str = "2020-01-01-preview";

/// `Microsoft.Security/pricings` (Defender plans of a subscription): the newest stable version.
pub const PRICINGS: &str = "2024-01-01";

/// `Microsoft.Authorization` role assignments and role definitions.
pub const AUTHORIZATION: &str = "2022-04-01";
/// `Microsoft.HybridConnectivity` (multicloud connector enabled by Azure Arc: public cloud
/// connectors, solution configurations, `generateAwsTemplate`): the newest stable version.
pub const HYBRID_CONNECTIVITY: &str = "2024-12-01";
/// `Microsoft.AwsConnector` (the Azure representations of AWS resources the multicloud
/// connector's inventory projects): the default tag of its specification.
pub const AWS_CONNECTOR: &str = "2024-12-01";
/// `Microsoft.HybridCompute/machines` (Arc-enabled servers, which EC2 instances are projected
/// as): a stable version.
pub const HYBRID_COMPUTE: &str = "2024-07-10";
/// `Microsoft.Resources` resource groups and their resource lists.
pub const RESOURCE_GROUPS: &str = "2021-04-01";
