//! Microsoft Defender for Cloud's multicloud connector API (`Microsoft.Security/securityConnectors`,
//! api-version `2024-08-01-preview`), the connector health it reports, and the subscription's
//! Defender plans (`Microsoft.Security/pricings`, api-version `2024-01-01`).
//!
//! * [`connector`]: request validation against the api-version's schema, the service's own
//!   checks, and the properties the service fills in.
//! * [`pricing`]: every plan `Free` until switched on, PUT validated against the schema and the
//!   plan catalogue, the server-side fields.
//! * `health`: `Microsoft.Security/healthReports` for a connector, computed by asking the AWS
//!   emulator whether each role the connector names can be assumed by Defender.
//! * `members`: the member connectors Defender creates itself under a healthy organization
//!   connector, one per account of the organization in the AWS emulator.

pub(crate) mod aws;
pub mod classic_connector;
pub mod connector;
mod connector_schema;
pub(crate) mod health;
pub(crate) mod members;
mod offering_schema;
pub mod pricing;
mod pricing_schema;
pub(crate) mod semantics;

use std::sync::Arc;

use crate::hooks::BehaviourRegistry;

pub use connector::{API_VERSION, RESOURCE_TYPE, SecurityConnectors};
pub use health::HEALTH_API_VERSION;
pub use pricing::{PRICINGS_API_VERSION, PRICINGS_TYPE, Pricings};

/// Registers the security connector, classic connector and pricing behaviours;
/// [`crate::Config::new`] does this for every emulator.
pub fn register(registry: &mut BehaviourRegistry) {
    registry.register(RESOURCE_TYPE, Arc::new(SecurityConnectors));
    registry.register(
        classic_connector::CLASSIC_RESOURCE_TYPE,
        Arc::new(classic_connector::ClassicConnectors),
    );
    registry.register(PRICINGS_TYPE, Arc::new(Pricings));
}
