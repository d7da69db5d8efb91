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
