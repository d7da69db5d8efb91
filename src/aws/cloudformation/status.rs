//! Stack statuses and what each one means for the operation that led to it.
//!
//! The list is CloudFormation's `StackStatus` enumeration
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Stack.html>).
//! A status the SDK learns later is kept verbatim in [`StackStatus::Other`] and classified by
//! its suffix, so a new status never makes a wait hang or a failure look like success.

use std::fmt;

/// The status of a CloudFormation stack.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StackStatus {
    /// `CREATE_IN_PROGRESS`
    CreateInProgress,
    /// `CREATE_FAILED` (a failed create with `OnFailure = DO_NOTHING`).
    CreateFailed,
    /// `CREATE_COMPLETE`
    CreateComplete,
    /// `ROLLBACK_IN_PROGRESS` (a failed create being undone).
    RollbackInProgress,
    /// `ROLLBACK_FAILED`
    RollbackFailed,
    /// `ROLLBACK_COMPLETE`: the create failed and was undone; the stack can only be deleted.
    RollbackComplete,
    /// `DELETE_IN_PROGRESS`
    DeleteInProgress,
    /// `DELETE_FAILED`
    DeleteFailed,
    /// `DELETE_COMPLETE`
    DeleteComplete,
    /// `UPDATE_IN_PROGRESS`
    UpdateInProgress,
    /// `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`
    UpdateCompleteCleanupInProgress,
    /// `UPDATE_COMPLETE`
    UpdateComplete,
    /// `UPDATE_FAILED` (a failed update with rollback disabled).
    UpdateFailed,
    /// `UPDATE_ROLLBACK_IN_PROGRESS`
    UpdateRollbackInProgress,
    /// `UPDATE_ROLLBACK_FAILED`
    UpdateRollbackFailed,
    /// `UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS`
    UpdateRollbackCompleteCleanupInProgress,
    /// `UPDATE_ROLLBACK_COMPLETE`: the update failed and the previous template is back.
    UpdateRollbackComplete,
    /// `REVIEW_IN_PROGRESS` (a stack created by a change set not executed yet).
    ReviewInProgress,
    /// `IMPORT_IN_PROGRESS`
    ImportInProgress,
    /// `IMPORT_COMPLETE`
    ImportComplete,
    /// `IMPORT_ROLLBACK_IN_PROGRESS`
    ImportRollbackInProgress,
    /// `IMPORT_ROLLBACK_FAILED`
    ImportRollbackFailed,
    /// `IMPORT_ROLLBACK_COMPLETE`
    ImportRollbackComplete,
    /// A status this code does not know, verbatim.
    Other(String),
}

const NAMES: [(StackStatus, &str); 23] = [
    (StackStatus::CreateInProgress, "CREATE_IN_PROGRESS"),
    (StackStatus::CreateFailed, "CREATE_FAILED"),
    (StackStatus::CreateComplete, "CREATE_COMPLETE"),
    (StackStatus::RollbackInProgress, "ROLLBACK_IN_PROGRESS"),
    (StackStatus::RollbackFailed, "ROLLBACK_FAILED"),
    (StackStatus::RollbackComplete, "ROLLBACK_COMPLETE"),
    (StackStatus::DeleteInProgress, "DELETE_IN_PROGRESS"),
    (StackStatus::DeleteFailed, "DELETE_FAILED"),
    (StackStatus::DeleteComplete, "DELETE_COMPLETE"),
    (StackStatus::UpdateInProgress, "UPDATE_IN_PROGRESS"),
    (
        StackStatus::UpdateCompleteCleanupInProgress,
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    ),
    (StackStatus::UpdateComplete, "UPDATE_COMPLETE"),
    (StackStatus::UpdateFailed, "UPDATE_FAILED"),
    (
        StackStatus::UpdateRollbackInProgress,
        "UPDATE_ROLLBACK_IN_PROGRESS",
    ),
    (StackStatus::UpdateRollbackFailed, "UPDATE_ROLLBACK_FAILED"),
    (
        StackStatus::UpdateRollbackCompleteCleanupInProgress,
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    ),
    (
        StackStatus::UpdateRollbackComplete,
        "UPDATE_ROLLBACK_COMPLETE",
    ),
    (StackStatus::ReviewInProgress, "REVIEW_IN_PROGRESS"),
    (StackStatus::ImportInProgress, "IMPORT_IN_PROGRESS"),
    (StackStatus::ImportComplete, "IMPORT_COMPLETE"),
    (
        StackStatus::ImportRollbackInProgress,
        "IMPORT_ROLLBACK_IN_PROGRESS",
    ),
    (StackStatus::ImportRollbackFailed, "IMPORT_ROLLBACK_FAILED"),
    (
        StackStatus::ImportRollbackComplete,
        "IMPORT_ROLLBACK_COMPLETE",
    ),
];

impl StackStatus {
    /// Parses CloudFormation's spelling; unknown values become [`StackStatus::Other`].
    pub fn parse(s: &str) -> Self {
        NAMES
            .iter()
            .find(|(_, name)| *name == s)
            .map_or_else(|| Self::Other(s.to_owned()), |(status, _)| status.clone())
    }

    /// CloudFormation's spelling, e.g. `ROLLBACK_COMPLETE`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Other(s) => s,
            known => NAMES
                .iter()
                .find(|(status, _)| status == known)
                .map_or("UNKNOWN", |(_, name)| name),
        }
    }

    /// CloudFormation is still working on the stack (`*_IN_PROGRESS`, cleanup included).
    pub fn is_in_progress(&self) -> bool {
        self.as_str().ends_with("_IN_PROGRESS")
    }

    /// The stack has settled: no operation is running on it.
    pub fn is_terminal(&self) -> bool {
        !self.is_in_progress()
    }

    /// The last operation failed (whether or not it was rolled back). An
    /// `UPDATE_ROLLBACK_COMPLETE` stack is healthy and can be updated again, but the update
    /// that led there failed, so it counts here.
    pub fn is_failed(&self) -> bool {
        match self {
            Self::CreateFailed
            | Self::RollbackFailed
            | Self::RollbackComplete
            | Self::DeleteFailed
            | Self::UpdateFailed
            | Self::UpdateRollbackFailed
            | Self::UpdateRollbackComplete
            | Self::ImportRollbackFailed
            | Self::ImportRollbackComplete => true,
            Self::Other(s) => {
                !self.is_in_progress() && (s.contains("FAILED") || s.contains("ROLLBACK"))
            }
            _ => false,
        }
    }

    /// The stack holds only a failed first create and can only be deleted
    /// (`ROLLBACK_COMPLETE`, `ROLLBACK_FAILED`, `CREATE_FAILED`): it must be deleted before a
    /// stack of that name can be created again.
    pub fn is_failed_create(&self) -> bool {
        matches!(
            self,
            Self::RollbackComplete | Self::RollbackFailed | Self::CreateFailed
        )
    }
}

impl fmt::Display for StackStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stack operation a wait is for; it decides what counts as success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    /// `CreateStack`.
    Create,
    /// `UpdateStack`.
    Update,
    /// `DeleteStack`.
    Delete,
}

impl OperationKind {
    /// Lower-case verb for messages ("create", "update", "delete").
    pub fn verb(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

/// What a stack's status says about an operation that is being waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Still running: poll again.
    Pending,
    /// Finished as asked.
    Succeeded,
    /// Finished, but not as asked (failed, rolled back, or the stack vanished).
    Failed,
}

/// Classifies `status` for an operation of `kind`. A stack that reached `DELETE_COMPLETE`
/// while a create was awaited was deleted on failure (`OnFailure = DELETE`), so it failed.
pub fn outcome(kind: OperationKind, status: &StackStatus) -> Outcome {
    if status.is_in_progress() {
        return Outcome::Pending;
    }
    let succeeded = match kind {
        OperationKind::Delete => *status == StackStatus::DeleteComplete,
        OperationKind::Create | OperationKind::Update => {
            !status.is_failed() && *status != StackStatus::DeleteComplete
        }
    };
    if succeeded {
        Outcome::Succeeded
    } else {
        Outcome::Failed
    }
}
