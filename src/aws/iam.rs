//! IAM client: the thin, typed operations the OIDC trust resource needs (OIDC providers,
//! roles, inline and managed role policies), with IAM's eventual consistency handled by
//! named, bounded waits (see [`PropagationWait`]) and errors classified into [`AwsError`].
//!
//! Throttling is retried by the SDK's standard retryer (configured in
//! [`AwsClients`](super::AwsClients)); the waits here cover only the IAM-specific symptoms.

mod access_key;
mod lost_answer;
mod oidc;
mod policy;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod resend_tests;
mod role;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
mod user;
mod wait;

pub use access_key::{AccessKey, NewAccessKey};
pub use oidc::{NewOidcProvider, OidcProvider};
pub use policy::{decode_policy_document, policy_documents_equal};
pub use role::{AttachedPolicy, NewRole, Role};
pub use user::User;
pub use wait::{
    PROPAGATION_MAX_DELAY, PROPAGATION_MIN_DELAY, PROPAGATION_TIMEOUT, PropagationWait,
    is_delete_conflict, is_invalid_principal,
};

use super::error::AwsError;
use aws_sdk_iam::error::SdkError;
use std::collections::BTreeMap;

/// IAM's global endpoint, named in errors when no override is configured.
pub const DEFAULT_IAM_ENDPOINT: &str = "https://iam.amazonaws.com";

/// An IAM client bound to one endpoint and one propagation budget.
#[derive(Debug, Clone)]
pub struct IamClient {
    client: aws_sdk_iam::Client,
    endpoint: String,
    wait: PropagationWait,
}

impl IamClient {
    /// Wraps an SDK client; `endpoint` is only used in error messages.
    pub fn new(client: aws_sdk_iam::Client, endpoint: impl Into<String>) -> Self {
        Self {
            client,
            endpoint: endpoint.into(),
            wait: PropagationWait::default(),
        }
    }

    /// Replaces the propagation budget and clock (a resource's `timeouts {}`; tests).
    pub fn with_wait(mut self, wait: PropagationWait) -> Self {
        self.wait = wait;
        self
    }

    /// The propagation wait in use.
    pub fn wait(&self) -> &PropagationWait {
        &self.wait
    }

    /// The underlying SDK client, for operations not wrapped here.
    pub fn sdk(&self) -> &aws_sdk_iam::Client {
        &self.client
    }

    /// Sends a write that is safe to repeat, and sends it again while its answer is lost (see
    /// [`crate::aws::resend`]).
    async fn idempotent<T, F, Fut>(&self, operation: &str, write: F) -> Result<T, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, AwsError>>,
    {
        crate::aws::resend::resend_while_lost(self.wait.clock().as_ref(), operation, write).await
    }

    fn err<E, R>(&self, operation: &str) -> impl Fn(SdkError<E, R>) -> AwsError + '_
    where
        E: aws_sdk_iam::error::ProvideErrorMetadata
            + aws_sdk_iam::operation::RequestId
            + std::error::Error
            + 'static,
        R: std::fmt::Debug + 'static,
    {
        let operation = operation.to_owned();
        move |e| AwsError::from_sdk(&e, "iam", &operation, &self.endpoint)
    }
}

/// `Ok(None)` for `NotFound`, everything else unchanged: reads that may miss are `get_opt`.
fn none_if_not_found<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// `Ok(false)` when the object was already gone: deletes are idempotent for callers.
fn false_if_not_found(r: Result<(), AwsError>) -> Result<bool, AwsError> {
    none_if_not_found(r).map(|o| o.is_some())
}

fn to_tags(tags: &BTreeMap<String, String>) -> Result<Vec<aws_sdk_iam::types::Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::Invalid {
                    operation: "Tag".into(),
                    code: "InvalidTag".into(),
                    message: e.to_string(),
                    request_id: None,
                })
        })
        .collect()
}

fn from_tags(tags: &[aws_sdk_iam::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}
