//! Resource-provider registration: make sure the subscription may use a namespace before
//! creating resources in it (`Microsoft.Security`, `Microsoft.HybridConnectivity`, ...).

use super::client::ArmClient;
use super::error::AzureError;
use http::Method;
use serde::Deserialize;
use std::time::Duration;

/// api-version of `Microsoft.Resources` providers operations (long-lived, widely used).
pub const PROVIDERS_API_VERSION: &str = "2021-04-01";
/// Wait between registration-state polls (Microsoft's scripts poll every 60 s; ARM usually
/// finishes in well under a minute).
pub const REGISTRATION_POLL_INTERVAL: Duration = Duration::from_secs(10);
/// Longest wait for one namespace to reach `Registered`.
pub const REGISTRATION_TIMEOUT: Duration = Duration::from_secs(15 * 60);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Provider {
    #[serde(default)]
    registration_state: String,
}

impl ArmClient {
    fn provider_path(&self, namespace: &str) -> String {
        format!(
            "/subscriptions/{}/providers/{namespace}",
            self.subscription_id()
        )
    }

    async fn registration_state(&self, namespace: &str) -> Result<String, AzureError> {
        let p: Provider = self
            .get(&self.provider_path(namespace), PROVIDERS_API_VERSION)
            .await?;
        Ok(p.registration_state)
    }

    /// Ensures every namespace is `Registered`, registering the missing ones when allowed
    /// (`register_resource_providers`) and waiting until ARM reports them registered.
    /// Namespaces already confirmed by this client are not asked about again.
    pub async fn ensure_registered(&self, namespaces: &[&str]) -> Result<(), AzureError> {
        let mut done = self.inner.registered.lock().await;
        for ns in namespaces {
            if done.contains(&ns.to_ascii_lowercase()) {
                continue;
            }
            let state = self.registration_state(ns).await?;
            if !state.eq_ignore_ascii_case("Registered") {
                if !self.inner.register_resource_providers {
                    return Err(AzureError::MissingRegistration {
                        namespace: (*ns).to_owned(),
                        message: format!(
                            "its registration state is {state:?} and automatic registration is disabled"
                        ),
                    });
                }
                self.register(ns, &state).await?;
            }
            done.insert(ns.to_ascii_lowercase());
        }
        Ok(())
    }

    async fn register(&self, namespace: &str, state: &str) -> Result<(), AzureError> {
        if !state.eq_ignore_ascii_case("Registering") {
            tracing::info!(namespace, state, "registering resource provider");
            let path = format!("{}/register", self.provider_path(namespace));
            self.send(Method::POST, &path, Some(PROVIDERS_API_VERSION), None)
                .await?;
        }
        let clock = self.inner.retry.clock().clone();
        let started = clock.now();
        loop {
            let state = self.registration_state(namespace).await?;
            if state.eq_ignore_ascii_case("Registered") {
                return Ok(());
            }
            let elapsed = clock.now().saturating_sub(started);
            if elapsed + REGISTRATION_POLL_INTERVAL > REGISTRATION_TIMEOUT {
                return Err(AzureError::Timeout {
                    what: format!("resource provider {namespace} to be registered (state {state})"),
                    after: elapsed,
                });
            }
            clock.sleep(REGISTRATION_POLL_INTERVAL).await;
        }
    }
}
