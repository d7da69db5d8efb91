//! The stack waiter: polls `DescribeStacks` until the operation settles, within one budget,
//! and turns a failed or rolled-back operation into [`AwsError::StackFailed`] with the
//! operation's own events.
//!
//! Stack operations take seconds to tens of minutes (IAM roles are quick; a StackSet
//! instance or a custom resource is not), so polling starts at one second and backs off to
//! ten, which keeps a long wait at one `DescribeStacks` call per ten seconds, well inside
//! CloudFormation's describe rate limit. A throttled or unreachable poll is not the end of
//! the operation: it is logged and the wait goes on within the budget.

use super::events::{EventMarker, StackFailure, relevant_events};
use super::status::{OperationKind, Outcome, outcome};
use super::{CloudFormationClient, NewStack, Stack, StackUpdate};
use crate::aws::error::AwsError;
use crate::http::{Clock, TokioClock};
use std::sync::Arc;
use std::time::Duration;

/// Default budget for one stack operation, as the AWS provider allows stacks by default.
pub const STACK_WAIT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// First delay between polls.
pub const STACK_POLL_MIN_DELAY: Duration = Duration::from_secs(1);
/// Longest delay between polls (delays double up to it).
pub const STACK_POLL_MAX_DELAY: Duration = Duration::from_secs(10);

/// A bounded stack wait with an injectable clock and poll delays.
#[derive(Clone)]
pub struct StackWait {
    budget: Duration,
    min_delay: Duration,
    max_delay: Duration,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for StackWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StackWait")
            .field("budget", &self.budget)
            .field("min_delay", &self.min_delay)
            .field("max_delay", &self.max_delay)
            .finish_non_exhaustive()
    }
}

impl Default for StackWait {
    fn default() -> Self {
        Self::new(STACK_WAIT_TIMEOUT)
    }
}

impl StackWait {
    /// A wait with the given budget, the default delays, on the real clock.
    pub fn new(budget: Duration) -> Self {
        Self {
            budget,
            min_delay: STACK_POLL_MIN_DELAY,
            max_delay: STACK_POLL_MAX_DELAY,
            clock: Arc::new(TokioClock::default()),
        }
    }

    /// Replaces the poll delays (tests against an emulator that settles at once).
    pub fn with_delays(mut self, min: Duration, max: Duration) -> Self {
        self.min_delay = min;
        self.max_delay = max.max(min);
        self
    }

    /// Replaces the clock (tests: a fake clock that does not sleep).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The budget.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// The first and the longest delay between polls.
    pub fn delays(&self) -> (Duration, Duration) {
        (self.min_delay, self.max_delay)
    }

    /// The clock polls are timed and slept on.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}

/// An operation to wait for: its kind and where its events start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackOperation {
    /// What was started.
    pub kind: OperationKind,
    /// Where the operation's events start.
    pub marker: EventMarker,
}

impl StackOperation {
    /// A create: every event of the new stack id belongs to it.
    pub fn create() -> Self {
        Self {
            kind: OperationKind::Create,
            marker: EventMarker::default(),
        }
    }

    /// An operation whose events come after `marker` (see
    /// [`CloudFormationClient::begin_operation`]).
    pub fn after(kind: OperationKind, marker: EventMarker) -> Self {
        Self { kind, marker }
    }
}

/// Errors a poll may hit without the operation having failed.
fn is_transient(e: &AwsError) -> bool {
    matches!(e, AwsError::Throttled { .. } | AwsError::Unreachable { .. })
}

impl CloudFormationClient {
    /// Notes where the events of an operation about to start on an existing stack begin
    /// (the stack's newest event); pass the result to [`wait_for_stack`](Self::wait_for_stack).
    pub async fn begin_operation(
        &self,
        name_or_id: &str,
        kind: OperationKind,
    ) -> Result<StackOperation, AwsError> {
        let after_event_id = self.latest_event_id(name_or_id).await?;
        Ok(StackOperation::after(
            kind,
            EventMarker {
                after_event_id,
                operation_id: None,
            },
        ))
    }

    /// Polls the stack until `operation` settles. Returns the settled stack on success (for a
    /// delete: the deleted stack). A failed, rolled-back, or (for creates and updates) deleted
    /// stack is [`AwsError::StackFailed`] with the operation's events; running out of budget
    /// is [`AwsError::StackWaitTimeout`] (CloudFormation carries on regardless).
    pub async fn wait_for_stack(
        &self,
        stack_id: &str,
        operation: &StackOperation,
    ) -> Result<Stack, AwsError> {
        let w = &self.wait;
        let start = w.clock.now();
        let mut delay = w.min_delay;
        let mut polls = 0u32;
        let mut last_status = String::from("unknown");
        loop {
            polls += 1;
            match self.describe_stack_any(stack_id).await {
                Ok(Some(stack)) => match outcome(operation.kind, &stack.status) {
                    Outcome::Succeeded => return Ok(stack),
                    Outcome::Failed => return Err(self.failure(stack, operation).await),
                    Outcome::Pending => last_status = stack.status.to_string(),
                },
                Ok(None) if operation.kind == OperationKind::Delete => {
                    return Ok(Stack::deleted(stack_id));
                }
                Ok(None) => {
                    return Err(AwsError::NotFound {
                        operation: "DescribeStacks".into(),
                        code: "ValidationError".into(),
                        message: format!(
                            "stack {stack_id} disappeared while its {} was awaited",
                            operation.kind.verb()
                        ),
                        request_id: None,
                    });
                }
                Err(e) if is_transient(&e) => {
                    tracing::warn!(stack = stack_id, poll = polls, error = %e, "stack poll failed; polling on");
                }
                Err(e) => return Err(e),
            }
            let elapsed = w.clock.now().saturating_sub(start);
            if elapsed + delay > w.budget {
                return Err(AwsError::StackWaitTimeout {
                    stack: super::stack_name_from_id(stack_id).to_owned(),
                    operation: operation.kind.verb().to_owned(),
                    status: last_status,
                    waited: elapsed,
                });
            }
            tracing::debug!(
                stack = stack_id,
                poll = polls,
                status = %last_status,
                delay_ms = delay.as_millis() as u64,
                "waiting for CloudFormation"
            );
            w.clock.sleep(delay).await;
            delay = (delay * 2).min(w.max_delay);
        }
    }

    /// The error for a stack that settled in failure, with the operation's events. Reading
    /// the events is best effort: without them the status and its reason still explain a lot.
    async fn failure(&self, stack: Stack, operation: &StackOperation) -> AwsError {
        let events = match self
            .describe_operation_events(&stack.id, &operation.marker)
            .await
        {
            Ok(events) => relevant_events(&events, stack.status_reason.as_deref()),
            Err(e) => {
                tracing::warn!(stack = %stack.id, error = %e, "cannot read the stack events of a failed operation");
                Vec::new()
            }
        };
        AwsError::StackFailed(Box::new(StackFailure {
            stack: stack.name,
            stack_id: stack.id,
            operation: operation.kind,
            status: stack.status,
            reason: stack.status_reason,
            events,
        }))
    }

    /// Creates a stack and waits for it: the created stack, or `StackFailed` naming the
    /// resources that failed.
    pub async fn create_stack_and_wait(&self, stack: &NewStack) -> Result<Stack, AwsError> {
        let (id, operation_id) = self.start_create(stack).await?;
        let mut op = StackOperation::create();
        op.marker.operation_id = operation_id;
        self.wait_for_stack(&id, &op).await
    }

    /// Updates a stack and waits for it. `changed == false` (and the stack as it is) when
    /// CloudFormation had nothing to update. `NotFound` when the stack does not exist.
    pub async fn update_stack_and_wait(&self, stack: &NewStack) -> Result<StackUpdate, AwsError> {
        let current =
            self.describe_stack_opt(&stack.name)
                .await?
                .ok_or_else(|| AwsError::NotFound {
                    operation: "UpdateStack".into(),
                    code: "ValidationError".into(),
                    message: format!("Stack with id {} does not exist", stack.name),
                    request_id: None,
                })?;
        let mut op = self
            .begin_operation(&current.id, OperationKind::Update)
            .await?;
        // Updating by id: the stack updated is the one whose events were noted.
        let by_id = NewStack {
            name: current.id.clone(),
            ..stack.clone()
        };
        match self.start_update(&by_id).await? {
            None => Ok(StackUpdate {
                stack: current,
                changed: false,
            }),
            Some(operation_id) => {
                op.marker.operation_id = operation_id;
                let stack = self.wait_for_stack(&current.id, &op).await?;
                Ok(StackUpdate {
                    stack,
                    changed: true,
                })
            }
        }
    }

    /// Deletes a stack and waits until it is gone. `Ok(false)` when there was no stack.
    /// A stack whose resources cannot be deleted ends `DELETE_FAILED`: `StackFailed`.
    pub async fn delete_stack_and_wait(&self, name_or_id: &str) -> Result<bool, AwsError> {
        let Some(current) = self.describe_stack_opt(name_or_id).await? else {
            return Ok(false);
        };
        let op = self
            .begin_operation(&current.id, OperationKind::Delete)
            .await?;
        self.start_delete(&current.id).await?;
        self.wait_for_stack(&current.id, &op).await.map(|_| true)
    }

    /// Deletes the stack named `name` if it holds only a failed first create
    /// (`ROLLBACK_COMPLETE`, `ROLLBACK_FAILED`, `CREATE_FAILED`), which CloudFormation allows
    /// nothing else on, so a create can be retried. Returns the stack as it was, so the
    /// caller can tell the user what was removed and why it had failed; `None` when there was
    /// no such stack (or a healthy one, which is left alone).
    pub async fn delete_failed_create(&self, name: &str) -> Result<Option<Stack>, AwsError> {
        match self.describe_stack_opt(name).await? {
            Some(stack) if stack.status.is_failed_create() => {
                tracing::warn!(
                    stack = %stack.name,
                    status = %stack.status,
                    reason = stack.status_reason.as_deref().unwrap_or(""),
                    "deleting a stack left by a failed create so it can be created again"
                );
                self.delete_stack_and_wait(&stack.id).await?;
                Ok(Some(stack))
            }
            _ => Ok(None),
        }
    }
}
