//! Stack events: reading the events of one operation, and choosing the few that explain a
//! failure.
//!
//! A stack keeps every event of its life, newest first. An operation's events are those
//! after the newest event seen before it started (or, where CloudFormation reports operation
//! ids, those carrying its id). Of those, a failure is explained by the resources whose status
//! ends in `_FAILED`; the "Resource creation cancelled" failures of resources that were merely
//! interrupted by another one's failure come after the real causes.

use super::{CloudFormationClient, StackStatus};
use crate::aws::error::AwsError;
use std::fmt;
use std::time::SystemTime;

/// How many events a failure message shows; the rest are counted.
pub const MAX_EVENTS_SHOWN: usize = 10;

/// Pages of `DescribeStackEvents` read at most when looking for an operation's start; a
/// stack with a long history is cut there rather than read to its creation.
const MAX_EVENT_PAGES: usize = 20;

/// One stack event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEvent {
    /// Event id.
    pub event_id: String,
    /// Logical id of the resource in the template (the stack's name for stack events).
    pub logical_id: String,
    /// Physical id of the resource, when it has one.
    pub physical_id: Option<String>,
    /// Resource type, e.g. `AWS::IAM::Role` (`AWS::CloudFormation::Stack` for the stack).
    pub resource_type: String,
    /// Resource status, e.g. `CREATE_FAILED`.
    pub status: String,
    /// Why the resource reached that status, as CloudFormation words it.
    pub reason: Option<String>,
    /// When it happened.
    pub timestamp: Option<SystemTime>,
    /// Id of the stack operation this event belongs to, where CloudFormation reports one.
    pub operation_id: Option<String>,
}

impl StackEvent {
    /// The resource reached a `*_FAILED` status.
    pub fn is_failed(&self) -> bool {
        self.status.ends_with("_FAILED")
    }

    /// The event is about the stack itself rather than one of its resources.
    pub fn is_stack_event(&self) -> bool {
        self.resource_type == "AWS::CloudFormation::Stack"
    }

    /// A failure that only reports another resource's failure ("Resource creation cancelled").
    fn is_cancellation(&self) -> bool {
        self.reason
            .as_deref()
            .is_some_and(|r| r.to_ascii_lowercase().contains("cancelled"))
    }
}

impl fmt::Display for StackEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) {}",
            self.logical_id, self.resource_type, self.status
        )?;
        match self.reason.as_deref().filter(|r| !r.is_empty()) {
            Some(r) => write!(f, ": {r}"),
            None => Ok(()),
        }
    }
}

/// Where an operation's events start: the newest event before it, and its operation id
/// where CloudFormation reported one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventMarker {
    /// Newest event of the stack before the operation started (`None`: a new stack).
    pub after_event_id: Option<String>,
    /// The operation id CloudFormation returned for the operation.
    pub operation_id: Option<String>,
}

/// Keeps the events of one operation from a newest-first list, returned oldest first.
/// With an operation id, events carrying another id are dropped too.
pub fn operation_events(newest_first: Vec<StackEvent>, marker: &EventMarker) -> Vec<StackEvent> {
    let mut out: Vec<StackEvent> = newest_first
        .into_iter()
        .take_while(|e| marker.after_event_id.as_deref() != Some(e.event_id.as_str()))
        .filter(|e| match (&marker.operation_id, &e.operation_id) {
            (Some(ours), Some(theirs)) => ours == theirs,
            _ => true,
        })
        .collect();
    out.reverse();
    out
}

/// The events that explain a failed operation, oldest first: resource failures with their
/// reasons, then cancellations and stack-level failures. Without any failure event, the
/// events that carry a reason (other than "User Initiated") are kept instead. Events that
/// only repeat `stack_reason` (the stack's status reason, shown anyway) are left out.
pub fn relevant_events(
    operation_events: &[StackEvent],
    stack_reason: Option<&str>,
) -> Vec<StackEvent> {
    let repeats_stack_reason = |e: &StackEvent| {
        e.is_stack_event() && stack_reason.is_some() && e.reason.as_deref() == stack_reason
    };
    let operation_events: Vec<&StackEvent> = operation_events
        .iter()
        .filter(|e| !repeats_stack_reason(e))
        .collect();
    let failed: Vec<&StackEvent> = operation_events
        .iter()
        .copied()
        .filter(|e| e.is_failed())
        .collect();
    if failed.is_empty() {
        return operation_events
            .into_iter()
            .filter(|e| {
                e.reason
                    .as_deref()
                    .is_some_and(|r| !r.is_empty() && r != "User Initiated")
            })
            .cloned()
            .collect();
    }
    let rank = |e: &StackEvent| match (e.is_stack_event(), e.is_cancellation()) {
        (false, false) => 0,
        (false, true) => 1,
        (true, _) => 2,
    };
    let mut ranked = failed;
    // A stable sort keeps each group in time order.
    ranked.sort_by_key(|e| rank(e));
    ranked.into_iter().cloned().collect()
}

/// A stack operation that ended failed, rolled back or deleted: what `AwsError::StackFailed`
/// carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackFailure {
    /// Stack name.
    pub stack: String,
    /// Stack id.
    pub stack_id: String,
    /// The operation that failed.
    pub operation: super::OperationKind,
    /// The status the stack settled in.
    pub status: StackStatus,
    /// The stack's status reason.
    pub reason: Option<String>,
    /// The operation's events that explain the failure, see [`relevant_events`].
    pub events: Vec<StackEvent>,
}

impl StackFailure {
    /// The logical ids of the resources that failed, in the order shown.
    pub fn failed_logical_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        for e in self
            .events
            .iter()
            .filter(|e| e.is_failed() && !e.is_stack_event())
        {
            if !ids.contains(&e.logical_id.as_str()) {
                ids.push(&e.logical_id);
            }
        }
        ids
    }
}

impl fmt::Display for StackFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CloudFormation stack {} {} ended in {}",
            self.stack,
            self.operation.verb(),
            self.status
        )?;
        if let Some(r) = self.reason.as_deref().filter(|r| !r.is_empty()) {
            write!(f, ": {r}")?;
        }
        if !self.events.is_empty() {
            f.write_str("\nStack events:")?;
            for e in self.events.iter().take(MAX_EVENTS_SHOWN) {
                write!(f, "\n  - {e}")?;
            }
            let more = self.events.len().saturating_sub(MAX_EVENTS_SHOWN);
            if more > 0 {
                write!(f, "\n  ... and {more} more (DescribeStackEvents)")?;
            }
        }
        if self.status.is_failed_create() {
            f.write_str(
                "\nThe stack holds only the failed first attempt and can only be deleted; \
                 delete it before creating a stack of this name again.",
            )?;
        }
        Ok(())
    }
}

fn event_from_sdk(e: &aws_sdk_cloudformation::types::StackEvent) -> StackEvent {
    StackEvent {
        event_id: e.event_id().unwrap_or_default().to_owned(),
        logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
        physical_id: e
            .physical_resource_id()
            .filter(|p| !p.is_empty())
            .map(str::to_owned),
        resource_type: e.resource_type().unwrap_or_default().to_owned(),
        status: e
            .resource_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        reason: e.resource_status_reason().map(str::to_owned),
        timestamp: e.timestamp().and_then(|t| SystemTime::try_from(*t).ok()),
        operation_id: e.operation_id().map(str::to_owned),
    }
}

impl CloudFormationClient {
    /// The stack's newest event id (`None` when the stack has no events), noted before an
    /// operation so the operation's own events can be told apart later.
    pub async fn latest_event_id(&self, name_or_id: &str) -> Result<Option<String>, AwsError> {
        let out = self
            .client
            .describe_stack_events()
            .stack_name(name_or_id)
            .send()
            .await
            .map_err(self.err("DescribeStackEvents"))?;
        Ok(out
            .stack_events()
            .first()
            .and_then(|e| e.event_id())
            .map(str::to_owned))
    }

    /// The events of the operation that started after `marker`, oldest first.
    pub async fn describe_operation_events(
        &self,
        name_or_id: &str,
        marker: &EventMarker,
    ) -> Result<Vec<StackEvent>, AwsError> {
        let mut newest_first = Vec::new();
        let mut pages = self
            .client
            .describe_stack_events()
            .stack_name(name_or_id)
            .into_paginator()
            .send();
        let mut read = 0;
        'pages: while let Some(page) = pages.next().await {
            let page = page.map_err(self.err("DescribeStackEvents"))?;
            for e in page.stack_events() {
                let event = event_from_sdk(e);
                let at_start = marker.after_event_id.as_deref() == Some(event.event_id.as_str());
                newest_first.push(event);
                if at_start {
                    break 'pages;
                }
            }
            read += 1;
            if read >= MAX_EVENT_PAGES {
                break;
            }
        }
        Ok(operation_events(newest_first, marker))
    }
}
