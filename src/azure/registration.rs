//! Resource-provider registration: make sure the subscription may use a namespace before
//! creating resources in it (`Microsoft.Security`, `Microsoft.HybridConnectivity`, ...).

use super::client::{ArmClient, Resend};
use super::error::AzureError;
use http::Method;
use serde::Deserialize;
use std::time::Duration;

/// api-version of `Microsoft.Resources` providers operations.
pub const PROVIDERS_API_VERSION: &str = super::api_versions::PROVIDERS;
/// Wait between registration-state polls (Microsoft's scripts poll every 60 s; ARM usually
/// finishes in well under a minute).
pub const REGISTRATION_POLL_INTERVAL: Duration = Duration::from_secs(10);
/// Longest wait for one namespace to reach `Registered`.
pub const REGISTRATION_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// First wait between registration-state polls; it doubles up to [`REGISTRATION_POLL_INTERVAL`],
/// so a quick registration is seen quickly and a slow one is not polled hard.
const FIRST_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// A resource provider namespace as the Providers API reports it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceProvider {
    /// The namespace in Azure's casing, for example `Microsoft.Security`.
    #[serde(default)]
    pub namespace: String,
    /// `NotRegistered`, `Registering`, `Registered`, `Unregistering` (or `Unregistered`).
    #[serde(default)]
    pub registration_state: String,
}

impl ResourceProvider {
    fn is(&self, state: &str) -> bool {
        self.registration_state.eq_ignore_ascii_case(state)
    }
}

/// The cache key of a confirmed registration: namespaces and subscription ids are
/// case-insensitive in ARM.
fn registration_key(subscription_id: &str, namespace: &str) -> String {
    format!("{subscription_id}/{namespace}").to_ascii_lowercase()
}

fn provider_path(subscription_id: &str, namespace: &str) -> String {
    format!("/subscriptions/{subscription_id}/providers/{namespace}")
}

impl ArmClient {
    /// Reads a namespace's registration; `None` when ARM does not know the namespace.
    pub async fn resource_provider(
        &self,
        subscription_id: &str,
        namespace: &str,
    ) -> Result<Option<ResourceProvider>, AzureError> {
        self.get_opt(
            &provider_path(subscription_id, namespace),
            PROVIDERS_API_VERSION,
        )
        .await
    }

    /// Ensures every namespace is `Registered` on the provider's subscription, registering the
    /// missing ones when allowed (`register_resource_providers`) and waiting until ARM reports
    /// them registered. Namespaces already confirmed by this client are not asked about again.
    pub async fn ensure_registered(&self, namespaces: &[&str]) -> Result<(), AzureError> {
        let subscription_id = self.subscription_id().to_owned();
        self.ensure_registered_on(&subscription_id, namespaces)
            .await
    }

    /// [`Self::ensure_registered`] on another subscription (resources that take a
    /// `subscription_id` of their own).
    pub async fn ensure_registered_on(
        &self,
        subscription_id: &str,
        namespaces: &[&str],
    ) -> Result<(), AzureError> {
        let mut done = self.inner.registered.lock().await;
        for ns in namespaces {
            let key = registration_key(subscription_id, ns);
            if done.contains(&key) {
                continue;
            }
            let state = self
                .resource_provider(subscription_id, ns)
                .await?
                .map(|p| p.registration_state)
                .unwrap_or_default();
            if !state.eq_ignore_ascii_case("Registered") {
                if !self.inner.register_resource_providers {
                    return Err(AzureError::MissingRegistration {
                        namespace: (*ns).to_owned(),
                        message: format!(
                            "its registration state is {state:?} and automatic registration is disabled"
                        ),
                    });
                }
                self.register_and_wait(subscription_id, ns, &state).await?;
            }
            done.insert(key);
        }
        Ok(())
    }

    /// Registers a namespace (unless a registration is already under way) and waits until ARM
    /// reports it `Registered`.
    pub async fn register_resource_provider(
        &self,
        subscription_id: &str,
        namespace: &str,
    ) -> Result<ResourceProvider, AzureError> {
        let state = self
            .resource_provider(subscription_id, namespace)
            .await?
            .map(|p| p.registration_state)
            .unwrap_or_default();
        self.register_and_wait(subscription_id, namespace, &state)
            .await
    }

    async fn register_and_wait(
        &self,
        subscription_id: &str,
        namespace: &str,
        state: &str,
    ) -> Result<ResourceProvider, AzureError> {
        let path = provider_path(subscription_id, namespace);
        if !state.eq_ignore_ascii_case("Registering") && !state.eq_ignore_ascii_case("Registered") {
            tracing::info!(namespace, state, "registering resource provider");
            self.send_with(
                Method::POST,
                &format!("{path}/register"),
                Some(PROVIDERS_API_VERSION),
                None,
                Resend::RepeatableAction,
            )
            .await?;
        }
        self.wait_for_state(subscription_id, namespace, "registered", |p| {
            p.is("Registered")
        })
        .await
    }

    /// Unregisters a namespace and waits until ARM no longer reports it registered.
    pub async fn unregister_resource_provider(
        &self,
        subscription_id: &str,
        namespace: &str,
    ) -> Result<(), AzureError> {
        let path = provider_path(subscription_id, namespace);
        tracing::info!(namespace, "unregistering resource provider");
        self.send_with(
            Method::POST,
            &format!("{path}/unregister"),
            Some(PROVIDERS_API_VERSION),
            None,
            Resend::RepeatableAction,
        )
        .await?;
        self.wait_for_state(subscription_id, namespace, "unregistered", |p| {
            !p.is("Registered") && !p.is("Unregistering")
        })
        .await?;
        self.inner
            .registered
            .lock()
            .await
            .remove(&registration_key(subscription_id, namespace));
        Ok(())
    }

    async fn wait_for_state(
        &self,
        subscription_id: &str,
        namespace: &str,
        goal: &str,
        done: impl Fn(&ResourceProvider) -> bool,
    ) -> Result<ResourceProvider, AzureError> {
        let clock = self.inner.retry.clock().clone();
        let started = clock.now();
        let mut interval = FIRST_POLL_INTERVAL;
        loop {
            let provider = self
                .resource_provider(subscription_id, namespace)
                .await?
                .unwrap_or_else(|| ResourceProvider {
                    namespace: namespace.to_owned(),
                    registration_state: "NotRegistered".to_owned(),
                });
            if done(&provider) {
                return Ok(provider);
            }
            let elapsed = clock.now().saturating_sub(started);
            if elapsed + interval > REGISTRATION_TIMEOUT {
                return Err(AzureError::Timeout {
                    what: format!(
                        "resource provider {namespace} to be {goal} (state {})",
                        provider.registration_state
                    ),
                    after: elapsed,
                });
            }
            clock.sleep(interval).await;
            interval = (interval * 2).min(REGISTRATION_POLL_INTERVAL);
        }
    }
}
