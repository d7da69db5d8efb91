//! terraform-provider-multicloud: onboarding AWS accounts and organizations into
//! Microsoft Defender for Cloud, Azure Arc and Defender for Cloud Apps, declaratively.
//!
//! Layers, dependencies pointing down only:
//! - [`protocol`]: the tfplugin6 gRPC server, knows nothing about clouds;
//! - [`resources`]: one module per Terraform type, turning values into domain calls;
//! - [`onboarding`]: pure product knowledge (plans, roles, templates);
//! - [`azure`], [`aws`]: cloud clients; [`http`]: retry and backoff shared by both.

pub mod aws;
pub mod azure;
pub mod fuzzing;
pub mod http;
pub mod onboarding;
pub mod protocol;
pub mod resources;
pub mod secret;
