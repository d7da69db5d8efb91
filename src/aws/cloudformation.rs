//! CloudFormation client: the typed stack operations the OIDC trust resource needs in its
//! `deployment = "cloudformation"` mode (one stack from a template, updated when the template
//! changes) and that StackSets build on, with one bounded waiter ([`StackWait`]) and failures
//! explained by the operation's own stack events ([`StackFailure`]).
//!
//! Throttling is retried by the SDK's standard retryer (configured in
//! [`AwsClients`](super::AwsClients)); the waiter polls `DescribeStacks` and tolerates a
//! throttled or dropped poll within its budget.

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod client_tests;
mod events;
mod stack;
mod stackset;
mod stackset_wait;
mod status;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
mod wait;

pub use events::{
    EventMarker, MAX_EVENTS_SHOWN, StackEvent, StackFailure, operation_events, relevant_events,
};
pub use stack::{
    CAPABILITY_AUTO_EXPAND, CAPABILITY_IAM, CAPABILITY_NAMED_IAM, NewStack, OnFailure, Stack,
    StackResource, StackUpdate, stack_name_from_id,
};
pub use stackset::{
    CallAs, DEFAULT_FAILURE_TOLERANCE_PERCENTAGE, DEFAULT_MAX_CONCURRENT_PERCENTAGE,
    OperationPreferences, RegionConcurrency, StackInstance, StackSet, StackSetSpec,
    StackSetTargets, TRUSTED_ACCESS_MESSAGE,
};
pub use stackset_wait::{
    MAX_FAILED_INSTANCES_SHOWN, OperationResult, StackSetFailure, StackSetOperation, is_settled,
};
pub use status::{OperationKind, Outcome, StackStatus, outcome};
pub use wait::{
    STACK_POLL_MAX_DELAY, STACK_POLL_MIN_DELAY, STACK_WAIT_TIMEOUT, StackOperation, StackWait,
};

use super::error::AwsError;
use aws_sdk_cloudformation::error::SdkError;

/// What to do about `InsufficientCapabilities`, added to CloudFormation's message.
pub const CAPABILITIES_HINT: &str = "the template creates IAM resources: pass the capability \
     CloudFormation names (CAPABILITY_NAMED_IAM when roles have explicit names, as onboarding \
     templates do)";

/// What a `ROLLBACK_COMPLETE` stack allows, added to CloudFormation's "can not be updated".
pub const ROLLBACK_COMPLETE_HINT: &str = "a stack in ROLLBACK_COMPLETE holds only a failed first \
     create and can only be deleted; delete it, then create it again";

/// A CloudFormation client bound to one regional endpoint and one wait budget.
#[derive(Debug, Clone)]
pub struct CloudFormationClient {
    client: aws_sdk_cloudformation::Client,
    endpoint: String,
    wait: StackWait,
}

impl CloudFormationClient {
    /// Wraps an SDK client; `endpoint` is only used in error messages.
    pub fn new(client: aws_sdk_cloudformation::Client, endpoint: impl Into<String>) -> Self {
        Self {
            client,
            endpoint: endpoint.into(),
            wait: StackWait::default(),
        }
    }

    /// Replaces the wait budget, poll delays and clock (a resource's `timeouts {}`; tests).
    pub fn with_wait(mut self, wait: StackWait) -> Self {
        self.wait = wait;
        self
    }

    /// The stack wait in use.
    pub fn wait(&self) -> &StackWait {
        &self.wait
    }

    /// The underlying SDK client, for operations not wrapped here.
    pub fn sdk(&self) -> &aws_sdk_cloudformation::Client {
        &self.client
    }

    /// The endpoint named in errors.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Sends a write that is safe to repeat (it carries its own request token or operation id,
    /// or acts the same however often it arrives), and sends it again while its answer is lost
    /// (see [`crate::aws::resend`]).
    pub(crate) async fn idempotent<T, F, Fut>(
        &self,
        operation: &str,
        write: F,
    ) -> Result<T, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, AwsError>>,
    {
        crate::aws::resend::resend_while_lost(self.wait.clock().as_ref(), operation, write).await
    }

    fn err<E, R>(&self, operation: &str) -> impl Fn(SdkError<E, R>) -> AwsError + '_
    where
        E: aws_sdk_cloudformation::error::ProvideErrorMetadata
            + aws_sdk_cloudformation::operation::RequestId
            + std::error::Error
            + 'static,
        R: std::fmt::Debug + 'static,
    {
        let operation = operation.to_owned();
        move |e| {
            refine(AwsError::from_sdk(
                &e,
                "cloudformation",
                &operation,
                &self.endpoint,
            ))
        }
    }
}

/// CloudFormation answers most conditions with the generic `ValidationError`; the message
/// says which. Those with a variant of their own are moved to it, and the two a user can act
/// on get a hint.
pub fn refine(e: AwsError) -> AwsError {
    match e {
        AwsError::Invalid {
            operation,
            code,
            message,
            request_id,
        } => {
            let validation = code == "ValidationError";
            if validation && is_missing_stack_message(&message) {
                AwsError::NotFound {
                    operation,
                    code,
                    message,
                    request_id,
                }
            } else if validation && message.contains("_IN_PROGRESS state") {
                AwsError::Conflict {
                    operation,
                    code,
                    message,
                    request_id,
                }
            } else {
                let hint = if code == "InsufficientCapabilitiesException" {
                    Some(CAPABILITIES_HINT)
                } else if validation && message.contains("ROLLBACK_COMPLETE state") {
                    Some(ROLLBACK_COMPLETE_HINT)
                } else {
                    None
                };
                AwsError::Invalid {
                    operation,
                    message: match hint {
                        Some(h) => format!("{message} ({h})"),
                        None => message,
                    },
                    code,
                    request_id,
                }
            }
        }
        other => other,
    }
}

/// "Stack with id X does not exist", as DescribeStacks, GetTemplate and the others word it.
fn is_missing_stack_message(message: &str) -> bool {
    message.starts_with("Stack") && message.contains("does not exist")
}

/// CloudFormation's answer to an update that would change nothing (a `ValidationError`).
pub fn is_no_updates(e: &AwsError) -> bool {
    matches!(e, AwsError::Invalid { code, message, .. }
        if code == "ValidationError" && message.contains("No updates are to be performed"))
}

/// `Ok(None)` for `NotFound`, everything else unchanged: reads that may miss are `get_opt`.
fn none_if_not_found<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}
