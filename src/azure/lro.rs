//! The long-running-operation poller for ARM.
//!
//! Rules (Azure docs "Track asynchronous Azure operations"): after 201/202 (or a 200 to a
//! PUT/PATCH whose `provisioningState` is not terminal), poll
//! `Azure-AsyncOperation` when present, otherwise `Location`; wait `Retry-After` between polls;
//! a status body's `Failed`/`Canceled` ends the operation with its `error`. Independently, a
//! PUT/PATCH answer whose `properties.provisioningState` is not terminal is polled via GET on the
//! resource until it is.

use super::client::ArmClient;
use super::error::AzureError;
use super::request::ArmResponse;
use http::Method;
use std::time::{Duration, SystemTime};

/// Wait between polls when the service gives no `Retry-After`.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// Terminal states of an operation or a provisioning state, compared case-insensitively.
pub(crate) fn terminal(status: &str) -> Option<Terminal> {
    match status.to_ascii_lowercase().as_str() {
        "succeeded" => Some(Terminal::Succeeded),
        "failed" => Some(Terminal::Failed),
        "canceled" | "cancelled" => Some(Terminal::Canceled),
        _ => None,
    }
}

/// How an operation ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Terminal {
    Succeeded,
    Failed,
    Canceled,
}

pub(crate) fn operation_error(status: &str, body: &serde_json::Value, url: &str) -> AzureError {
    let error = body
        .get("error")
        .or_else(|| body.pointer("/properties/error"));
    let text = |k: &str| {
        error
            .and_then(|e| e.get(k))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    AzureError::OperationFailed {
        status: status.to_owned(),
        code: text("code"),
        message: text("message"),
        operation_url: url.to_owned(),
    }
}

pub(crate) fn provisioning_state(body: &serde_json::Value) -> Option<&str> {
    body.pointer("/properties/provisioningState")
        .and_then(|v| v.as_str())
}

impl ArmClient {
    /// Sleeps for the answer's `Retry-After` (or the default poll interval), unless that would
    /// pass the operation timeout counted from `started`.
    pub(crate) async fn wait(
        &self,
        after: &ArmResponse,
        started: Duration,
        what: &str,
    ) -> Result<(), AzureError> {
        let clock = self.inner.retry.clock();
        let delay =
            crate::http::retry_after::retry_after_from_headers(&after.headers, SystemTime::now())
                .unwrap_or(DEFAULT_POLL_INTERVAL);
        let elapsed = clock.now().saturating_sub(started);
        if elapsed + delay > self.inner.operation_timeout {
            return Err(AzureError::Timeout {
                what: what.to_owned(),
                after: elapsed,
            });
        }
        tracing::debug!(
            what,
            delay_ms = delay.as_millis() as u64,
            "operation in progress"
        );
        clock.sleep(delay).await;
        Ok(())
    }

    /// Drives the answer to a write to completion and returns the response holding the final
    /// body (empty for DELETE and body-less actions).
    pub(crate) async fn complete(
        &self,
        method: &Method,
        path: &str,
        api_version: &str,
        initial: ArmResponse,
    ) -> Result<ArmResponse, AzureError> {
        let started = self.inner.retry.clock().now();
        let mut resp = initial;
        if matches!(resp.status, 201 | 202) || updating_with_operation(method, &resp) {
            let async_op = resp.header("azure-asyncoperation").map(str::to_owned);
            let location = resp.header("location").map(str::to_owned);
            if let Some(op_url) = async_op {
                self.poll_async_operation(&op_url, &resp, started).await?;
                resp = match (method, location) {
                    (&Method::PUT | &Method::PATCH, _) => {
                        self.send(Method::GET, path, Some(api_version), None)
                            .await?
                    }
                    (&Method::POST, Some(loc)) => self.send(Method::GET, &loc, None, None).await?,
                    _ => empty(),
                };
            } else if let Some(loc) = location {
                resp = self.poll_location(method, &loc, resp, started).await?;
                if matches!(method, &Method::PUT | &Method::PATCH)
                    && resp.json().map(|v| v.is_null()).unwrap_or(true)
                {
                    resp = self
                        .send(Method::GET, path, Some(api_version), None)
                        .await?;
                }
            }
        }
        if matches!(method, &Method::PUT | &Method::PATCH) {
            resp = self
                .poll_provisioning_state(path, api_version, resp, started)
                .await?;
        }
        Ok(resp)
    }

    async fn poll_async_operation(
        &self,
        url: &str,
        first: &ArmResponse,
        started: Duration,
    ) -> Result<(), AzureError> {
        let mut last = first.clone();
        loop {
            self.wait(&last, started, url).await?;
            last = self.send(Method::GET, url, None, None).await?;
            // A status body that is not JSON (an HTML page from a proxy, a cut-off response)
            // would otherwise read as "in progress" and be polled until the timeout.
            let body = if last.body.iter().all(u8::is_ascii_whitespace) {
                serde_json::Value::Null
            } else {
                last.json().map_err(|e| AzureError::Decode {
                    context: format!("the status of operation {url}"),
                    message: format!(
                        "{e}; the operation's outcome is unknown, check it in the Azure portal"
                    ),
                })?
            };
            let status = body
                .get("status")
                .and_then(|v| v.as_str())
                .unwrap_or("InProgress");
            match terminal(status) {
                Some(Terminal::Succeeded) => return Ok(()),
                Some(_) => return Err(operation_error(status, &body, url)),
                None => continue,
            }
        }
    }

    async fn poll_location(
        &self,
        method: &Method,
        url: &str,
        first: ArmResponse,
        started: Duration,
    ) -> Result<ArmResponse, AzureError> {
        let mut last = first;
        loop {
            self.wait(&last, started, url).await?;
            match self.send(Method::GET, url, None, None).await {
                Ok(resp) if resp.status == 202 => last = resp,
                Ok(resp) => return Ok(resp),
                // A deleted object's operation URL may itself vanish once the delete is done.
                Err(AzureError::NotFound(_)) if method == Method::DELETE => return Ok(empty()),
                Err(e) => return Err(e),
            }
        }
    }

    async fn poll_provisioning_state(
        &self,
        path: &str,
        api_version: &str,
        first: ArmResponse,
        started: Duration,
    ) -> Result<ArmResponse, AzureError> {
        let mut last = first;
        loop {
            let body = last.json().unwrap_or(serde_json::Value::Null);
            let Some(state) = provisioning_state(&body) else {
                return Ok(last);
            };
            match terminal(state) {
                Some(Terminal::Succeeded) => return Ok(last),
                Some(_) => return Err(operation_error(state, &body, path)),
                None => {}
            }
            self.wait(&last, started, path).await?;
            last = self
                .send(Method::GET, path, Some(api_version), None)
                .await?;
        }
    }
}

/// A PUT or PATCH of an existing resource may be answered 200 with a non-terminal
/// `provisioningState` and the operation's `Azure-AsyncOperation` URL. ARM's asynchronous
/// contract makes that operation the authority on how the write ends; reading the resource
/// instead relies on the service moving its state in step, and where it does not, waits until
/// the timeout (the Arc connector after a re-sent PUT did exactly that).
fn updating_with_operation(method: &Method, resp: &ArmResponse) -> bool {
    resp.status == 200
        && matches!(method, &Method::PUT | &Method::PATCH)
        && resp.header("azure-asyncoperation").is_some()
        && resp
            .json()
            .ok()
            .as_ref()
            .and_then(provisioning_state)
            .is_some_and(|s| terminal(s).is_none())
}

fn empty() -> ArmResponse {
    ArmResponse {
        status: 204,
        headers: http::HeaderMap::new(),
        body: Vec::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states() {
        assert_eq!(terminal("Succeeded"), Some(Terminal::Succeeded));
        assert_eq!(terminal("failed"), Some(Terminal::Failed));
        assert_eq!(terminal("Cancelled"), Some(Terminal::Canceled));
        assert_eq!(terminal("InProgress"), None);
        assert_eq!(terminal("Updating"), None);
    }

    #[test]
    fn operation_error_reads_error_object() {
        let body = serde_json::json!({"status": "Failed", "error": {"code": "QuotaExceeded", "message": "too many"}});
        let e = operation_error("Failed", &body, "https://op");
        assert_eq!(
            e.to_string(),
            "operation Failed: QuotaExceeded: too many (operation https://op)"
        );
    }
}
