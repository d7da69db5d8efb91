//! Following a StackSet operation to its end: `DescribeStackSetOperation` polled within the
//! client's [`StackWait`](super::StackWait) budget, progress logged, and a failed or stopped
//! operation explained by its failed instances (`ListStackSetOperationResults`: account,
//! region, reason).
//!
//! An operation over 1,000 accounts runs for minutes; polls back off to the wait's longest
//! delay, so the poll rate stays far below CloudFormation's describe limit whatever the size.

use super::CloudFormationClient;
use super::stackset::CallAs;
use crate::aws::error::AwsError;
use aws_sdk_cloudformation::types;
use std::time::Duration;

/// Failed instances shown in an error message; the count of the rest is given.
pub const MAX_FAILED_INSTANCES_SHOWN: usize = 20;

/// A settled StackSet operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackSetOperation {
    /// Operation id.
    pub id: String,
    /// `CREATE`, `UPDATE`, `DELETE`, `DETECT_DRIFT`.
    pub action: String,
    /// `SUCCEEDED`, `FAILED`, `STOPPED`, ...
    pub status: String,
    /// Why it ended so, when CloudFormation says.
    pub status_reason: Option<String>,
}

/// The result of one account and region in an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationResult {
    /// Member account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// `SUCCEEDED`, `FAILED`, `CANCELLED`, `PENDING`, `RUNNING`.
    pub status: String,
    /// Why (the failed stack event's reason for failures).
    pub status_reason: Option<String>,
    /// The OU the account was reached through, when reported.
    pub organizational_unit_id: Option<String>,
}

/// A StackSet operation that ended failed or stopped, with its failed instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackSetFailure {
    /// StackSet name.
    pub stack_set: String,
    /// The operation.
    pub operation: StackSetOperation,
    /// Instances whose result was not `SUCCEEDED` (failed first).
    pub failed: Vec<OperationResult>,
    /// Instances that succeeded (their stacks stay; state should keep them).
    pub succeeded: usize,
}

impl std::fmt::Display for StackSetFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = &self.operation;
        write!(
            f,
            "StackSet {} {} operation {} ended {}",
            self.stack_set, op.action, op.id, op.status
        )?;
        if let Some(r) = &op.status_reason {
            write!(f, " ({r})")?;
        }
        write!(
            f,
            ": {} instance(s) did not succeed, {} succeeded",
            self.failed.len(),
            self.succeeded
        )?;
        for r in self.failed.iter().take(MAX_FAILED_INSTANCES_SHOWN) {
            write!(f, "\n  account {} in {}: {}", r.account, r.region, r.status)?;
            if let Some(reason) = &r.status_reason {
                write!(f, ": {reason}")?;
            }
        }
        if self.failed.len() > MAX_FAILED_INSTANCES_SHOWN {
            write!(
                f,
                "\n  ... and {} more",
                self.failed.len() - MAX_FAILED_INSTANCES_SHOWN
            )?;
        }
        Ok(())
    }
}

/// The interval before the next poll of a StackSet operation: doubling from `min` up to
/// `max`, and never more than a tenth of the time `waited` so far (nor less than `min`). The
/// wait notices the end of the operation up to one interval late; with a flat 10 s cap that
/// was a third of a 30 s operation, with this bound it is about a tenth of any operation, for
/// more polls, well within the API's rate (a 30 s operation takes about 20, a 30 minute
/// one about 200).
pub(crate) fn next_poll_delay(
    delay: Duration,
    min: Duration,
    max: Duration,
    waited: Duration,
) -> Duration {
    (delay * 2).min(max).min((waited / 10).max(min))
}

/// Whether a StackSet operation status is final.
pub fn is_settled(status: &str) -> bool {
    matches!(status, "SUCCEEDED" | "FAILED" | "STOPPED")
}

fn is_transient(e: &AwsError) -> bool {
    matches!(e, AwsError::Throttled { .. } | AwsError::Unreachable { .. })
}

/// Sorts results failed first, then by account and region.
fn order(results: &mut [OperationResult]) {
    results.sort_by(|a, b| {
        (a.status == "SUCCEEDED", &a.account, &a.region).cmp(&(
            b.status == "SUCCEEDED",
            &b.account,
            &b.region,
        ))
    });
}

impl CloudFormationClient {
    /// The operation as CloudFormation reports it now.
    pub async fn describe_stack_set_operation(
        &self,
        stack_set: &str,
        operation_id: &str,
        call_as: CallAs,
    ) -> Result<StackSetOperation, AwsError> {
        const OP: &str = "DescribeStackSetOperation";
        let out = self
            .sdk()
            .describe_stack_set_operation()
            .stack_set_name(stack_set)
            .operation_id(operation_id)
            .call_as(call_as.sdk())
            .send()
            .await
            .map_err(self.err(OP))?;
        let op = out
            .stack_set_operation
            .ok_or_else(|| AwsError::MissingField {
                operation: OP.into(),
                field: "StackSetOperation".into(),
            })?;
        Ok(StackSetOperation {
            id: op.operation_id.unwrap_or_else(|| operation_id.to_owned()),
            action: op.action.map(|a| a.as_str().to_owned()).unwrap_or_default(),
            status: op.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            status_reason: op.status_reason,
        })
    }

    /// Every account/region result of the operation (all pages).
    pub async fn list_stack_set_operation_results(
        &self,
        stack_set: &str,
        operation_id: &str,
        call_as: CallAs,
    ) -> Result<Vec<OperationResult>, AwsError> {
        let items: Vec<types::StackSetOperationResultSummary> = self
            .sdk()
            .list_stack_set_operation_results()
            .stack_set_name(stack_set)
            .operation_id(operation_id)
            .call_as(call_as.sdk())
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(self.err("ListStackSetOperationResults"))?;
        let mut out: Vec<OperationResult> = items
            .into_iter()
            .map(|r| OperationResult {
                account: r.account.unwrap_or_default(),
                region: r.region.unwrap_or_default(),
                status: r.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
                status_reason: r.status_reason,
                organizational_unit_id: r.organizational_unit_id,
            })
            .collect();
        order(&mut out);
        Ok(out)
    }

    /// Polls the operation until it settles, within the client's wait budget. A `SUCCEEDED`
    /// operation is returned; `FAILED` or `STOPPED` is [`AwsError::StackSetFailed`] naming
    /// every instance that did not succeed; running out of budget is
    /// [`AwsError::StackSetWaitTimeout`]. Throttled or dropped polls are logged and retried.
    pub async fn wait_for_stack_set_operation(
        &self,
        stack_set: &str,
        operation_id: &str,
        call_as: CallAs,
    ) -> Result<StackSetOperation, AwsError> {
        let wait = self.wait();
        let clock = wait.clock().clone();
        let (min_delay, max_delay) = wait.delays();
        let start = clock.now();
        let mut delay = min_delay;
        let mut polls = 0u32;
        let mut last_status = String::from("unknown");
        loop {
            polls += 1;
            match self
                .describe_stack_set_operation(stack_set, operation_id, call_as)
                .await
            {
                Ok(op) if op.status == "SUCCEEDED" => {
                    tracing::info!(stack_set, operation = operation_id, action = %op.action, polls, "StackSet operation succeeded");
                    return Ok(op);
                }
                Ok(op) if is_settled(&op.status) => {
                    return Err(self.stack_set_failure(stack_set, op, call_as).await);
                }
                Ok(op) => {
                    if op.status != last_status {
                        tracing::info!(stack_set, operation = operation_id, status = %op.status, "StackSet operation in progress");
                    }
                    last_status = op.status;
                }
                Err(e) if is_transient(&e) => {
                    tracing::warn!(stack_set, operation = operation_id, poll = polls, error = %e, "StackSet operation poll failed; polling on");
                }
                Err(e) => return Err(e),
            }
            let elapsed = clock.now().saturating_sub(start);
            if elapsed + delay > wait.budget() {
                return Err(AwsError::StackSetWaitTimeout {
                    stack_set: stack_set.to_owned(),
                    operation_id: operation_id.to_owned(),
                    status: last_status,
                    waited: elapsed,
                });
            }
            clock.sleep(delay).await;
            let waited = clock.now().saturating_sub(start);
            delay = next_poll_delay(delay, min_delay, max_delay, waited);
        }
    }

    /// The error for an operation that settled in failure. Reading its results is best
    /// effort: the operation's own status and reason still explain something without them.
    async fn stack_set_failure(
        &self,
        stack_set: &str,
        operation: StackSetOperation,
        call_as: CallAs,
    ) -> AwsError {
        let results = match self
            .list_stack_set_operation_results(stack_set, &operation.id, call_as)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(stack_set, operation = %operation.id, error = %e, "cannot list the results of a failed StackSet operation");
                Vec::new()
            }
        };
        let (ok, failed): (Vec<_>, Vec<_>) =
            results.into_iter().partition(|r| r.status == "SUCCEEDED");
        tracing::warn!(stack_set, operation = %operation.id, failed = failed.len(), succeeded = ok.len(), "StackSet operation did not succeed");
        AwsError::StackSetFailed(Box::new(StackSetFailure {
            stack_set: stack_set.to_owned(),
            operation,
            failed,
            succeeded: ok.len(),
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn result(account: &str, status: &str, reason: Option<&str>) -> OperationResult {
        OperationResult {
            account: account.into(),
            region: "us-east-1".into(),
            status: status.into(),
            status_reason: reason.map(str::to_owned),
            organizational_unit_id: None,
        }
    }

    #[test]
    fn failure_names_accounts_and_reasons_and_caps_the_list() {
        let mut failed: Vec<_> = (0..25)
            .map(|i| {
                result(
                    &format!("1000000000{i:02}"),
                    "FAILED",
                    Some("Role already exists"),
                )
            })
            .collect();
        order(&mut failed);
        let f = StackSetFailure {
            stack_set: "MDCStackSet".into(),
            operation: StackSetOperation {
                id: "op-1".into(),
                action: "CREATE".into(),
                status: "FAILED".into(),
                status_reason: Some("tolerance exceeded".into()),
            },
            failed,
            succeeded: 975,
        };
        let text = f.to_string();
        assert!(text.starts_with("StackSet MDCStackSet CREATE operation op-1 ended FAILED (tolerance exceeded): 25 instance(s) did not succeed, 975 succeeded"), "{text}");
        assert!(
            text.contains("account 100000000000 in us-east-1: FAILED: Role already exists"),
            "{text}"
        );
        assert!(text.contains("... and 5 more"), "{text}");
        assert!(!text.contains("100000000024"), "{text}");
    }

    #[test]
    fn results_sort_failed_first() {
        let mut r = vec![
            result("111111111111", "SUCCEEDED", None),
            result("222222222222", "FAILED", Some("x")),
            result("000000000000", "CANCELLED", None),
        ];
        order(&mut r);
        let accounts: Vec<_> = r.iter().map(|x| x.account.as_str()).collect();
        assert_eq!(accounts, ["000000000000", "222222222222", "111111111111"]);
        assert!(is_settled("STOPPED") && !is_settled("RUNNING") && !is_settled("QUEUED"));
    }

    #[test]
    fn polls_stay_within_a_tenth_of_the_time_waited() {
        let s = Duration::from_secs;
        let (min, max) = (s(1), s(10));
        // A 30 s operation: the interval stops growing at a tenth of the time waited.
        let mut delay = min;
        let mut waited = Duration::ZERO;
        let mut polls = 1;
        while waited < s(30) {
            waited += delay;
            polls += 1;
            delay = next_poll_delay(delay, min, max, waited);
            assert!(delay <= max && delay >= min, "{delay:?}");
            assert!(
                delay <= (waited / 10).max(min),
                "{delay:?} after {waited:?}"
            );
        }
        assert!(waited < s(33), "noticed {waited:?} into a 30 s operation");
        assert!(polls <= 25, "{polls} polls");
        // Long operations reach the configured cap; short waits never go below the minimum.
        assert_eq!(next_poll_delay(s(10), min, max, s(600)), max);
        assert_eq!(next_poll_delay(min, min, max, Duration::ZERO), min);
    }
}
