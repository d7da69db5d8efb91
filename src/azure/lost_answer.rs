//! Writes whose answer never came back, or that ARM refused because an earlier write to the
//! same resource is still running.
//!
//! A PUT or PATCH whose connection broke (or timed out) after it was sent may have started a
//! long-running operation; its status URL was in the lost answer. Sending the write again at
//! once only meets `409 AnotherOperationInProgress` until that operation ends, and the retry
//! budget of one call can run out first. So the resource is read instead: while its
//! `provisioningState` is not terminal it is polled (bounded by the operation timeout, the
//! resource's `timeouts {}`), and only then is the write sent again. Sending it again is right
//! whatever the lost write did: PUT and PATCH are idempotent, and the new answer carries the
//! operation to follow.

use super::client::{ArmClient, Resend};
use super::error::AzureError;
use super::lro::{provisioning_state, terminal};
use super::request::ArmResponse;
use http::Method;
use std::time::Duration;

/// Times one write is sent again after a lost answer or a refusal; each time is preceded by
/// waiting for the resource to settle, so this only bounds a server that keeps doing it.
pub(crate) const MAX_RESENDS: u32 = 5;

impl ArmClient {
    /// Sends a PUT or PATCH; after an answer that was lost, or a refusal because another
    /// operation runs, waits for the resource to settle and sends it again.
    pub(crate) async fn send_write(
        &self,
        method: &Method,
        path: &str,
        api_version: &str,
        body: &serde_json::Value,
    ) -> Result<ArmResponse, AzureError> {
        let started = self.inner.retry.clock().now();
        let mut resends = 0;
        loop {
            let err = match self
                .send_with(
                    method.clone(),
                    path,
                    Some(api_version),
                    Some(body),
                    Resend::AfterSettling,
                )
                .await
            {
                Ok(resp) => return Ok(resp),
                Err(e) => e,
            };
            if resends >= MAX_RESENDS || !must_settle(&err) {
                return Err(err);
            }
            resends += 1;
            tracing::warn!(
                method = %method,
                path,
                error = %err,
                "write {resends} of {MAX_RESENDS} sent again once the resource has settled"
            );
            self.wait_until_settled(path, api_version, started, &err)
                .await?;
        }
    }

    /// Reads the resource until its `provisioningState` is terminal (or it is absent, or it
    /// has none). After a refusal with a settled resource, waits once more before returning,
    /// since the operation that caused it is elsewhere (or the state is not reported).
    async fn wait_until_settled(
        &self,
        path: &str,
        api_version: &str,
        started: Duration,
        cause: &AzureError,
    ) -> Result<(), AzureError> {
        let mut polled = false;
        loop {
            let resp = match self.send(Method::GET, path, Some(api_version), None).await {
                Ok(resp) => resp,
                // The lost write never created it (or an operation that failed removed it).
                Err(AzureError::NotFound(_)) => return Ok(()),
                // Unreadable (no read permission, say): send again, as before this check.
                Err(e) => {
                    tracing::warn!(path, error = %e, "cannot read the resource to see it settle");
                    return Ok(());
                }
            };
            let body = resp.json().unwrap_or(serde_json::Value::Null);
            let state = provisioning_state(&body).map(str::to_owned);
            let running = state.as_deref().is_some_and(|s| terminal(s).is_none());
            if !running {
                tracing::debug!(
                    path,
                    state = state.as_deref().unwrap_or("(none)"),
                    "resource settled"
                );
                if !polled && is_refusal(cause) {
                    self.wait(&resp, started, path).await?;
                }
                return Ok(());
            }
            tracing::debug!(
                path,
                state = state.as_deref().unwrap_or_default(),
                "resource still being provisioned after a write without answer"
            );
            polled = true;
            self.wait(&resp, started, path).await?;
        }
    }
}

/// A failure after which the write's effect is unknown, or which says another write still runs.
fn must_settle(err: &AzureError) -> bool {
    match err {
        AzureError::Transport { kind, .. } => kind.effect_unknown(),
        other => is_refusal(other),
    }
}

fn is_refusal(err: &AzureError) -> bool {
    err.details()
        .is_some_and(super::error::ArmErrorDetails::is_operation_in_progress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::transport::TransportFailure;

    fn transport(kind: TransportFailure) -> AzureError {
        AzureError::Transport {
            method: "PUT".into(),
            url: "https://arm/x".into(),
            kind,
            message: "broken".into(),
        }
    }

    #[test]
    fn only_unknown_outcomes_and_busy_refusals_settle() {
        assert!(must_settle(&transport(TransportFailure::Interrupted)));
        assert!(must_settle(&transport(TransportFailure::Timeout)));
        assert!(!must_settle(&transport(TransportFailure::Tls)));
        assert!(!must_settle(&transport(TransportFailure::Connect)));
        let arm = |status: u16, code: &str| {
            AzureError::from_arm(crate::azure::ArmErrorDetails {
                method: "PUT".into(),
                url: "https://arm/x".into(),
                status,
                code: code.into(),
                message: "msg".into(),
                target: None,
                request_id: None,
                correlation_id: None,
            })
        };
        assert!(must_settle(&arm(409, "AnotherOperationInProgress")));
        assert!(!must_settle(&arm(409, "Conflict")));
        assert!(!must_settle(&arm(400, "AnotherOperationInProgress")));
    }
}
