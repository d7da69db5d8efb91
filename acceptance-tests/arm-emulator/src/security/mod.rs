//! Microsoft Defender for Cloud's multicloud connector API (`Microsoft.Security/securityConnectors`,
//! api-version `2024-08-01-preview`) and the connector health it reports.
//!
//! * [`connector`]: request validation against the api-version's schema, the service's own
//!   checks, and the properties the service fills in.
//! * `health`: `Microsoft.Security/healthReports` for a connector, computed by asking the AWS
//!   emulator whether each role the connector names can be assumed by Defender.

pub(crate) mod aws;
pub mod classic_connector;
pub mod connector;
mod connector_schema;
pub(crate) mod health;
mod offering_schema;
pub(crate) mod semantics;

use std::sync::Arc;

use crate::hooks::BehaviourRegistry;

pub use connector::{API_VERSION, RESOURCE_TYPE, SecurityConnectors};
pub use health::HEALTH_API_VERSION;

/// Registers the security connector behaviour; [`crate::Config::new`] does this for every
/// emulator.
pub fn register(registry: &mut BehaviourRegistry) {
    registry.register(RESOURCE_TYPE, Arc::new(SecurityConnectors));
    registry.register(
        classic_connector::CLASSIC_RESOURCE_TYPE,
        Arc::new(classic_connector::ClassicConnectors),
    );
}
