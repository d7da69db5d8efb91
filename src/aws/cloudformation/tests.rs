//! Pure parts of the CloudFormation layer: status classification, event selection and
//! formatting, error refinement.

use super::*;
use crate::aws::error::classify_service_error;

const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/trust/5f1c-77";

fn api(code: &str, message: &str) -> AwsError {
    refine(classify_service_error(
        "Op",
        code.into(),
        message.into(),
        Some("rid".into()),
    ))
}

fn event(id: &str, logical: &str, rtype: &str, status: &str, reason: Option<&str>) -> StackEvent {
    StackEvent {
        event_id: id.into(),
        logical_id: logical.into(),
        physical_id: None,
        resource_type: rtype.into(),
        status: status.into(),
        reason: reason.map(str::to_owned),
        timestamp: None,
        operation_id: None,
    }
}

const STACK_TYPE: &str = "AWS::CloudFormation::Stack";
const ROLE: &str = "AWS::IAM::Role";

#[test]
fn statuses_round_trip_and_classify() {
    for s in [
        "CREATE_IN_PROGRESS",
        "ROLLBACK_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "IMPORT_ROLLBACK_FAILED",
    ] {
        let parsed = StackStatus::parse(s);
        assert!(!matches!(parsed, StackStatus::Other(_)), "{s}");
        assert_eq!(parsed.as_str(), s);
        assert_eq!(parsed.to_string(), s);
    }
    let in_progress = [
        StackStatus::CreateInProgress,
        StackStatus::UpdateCompleteCleanupInProgress,
        StackStatus::ReviewInProgress,
    ];
    for s in in_progress {
        assert!(
            s.is_in_progress() && !s.is_terminal() && !s.is_failed(),
            "{s}"
        );
    }
    let failed = [
        StackStatus::CreateFailed,
        StackStatus::RollbackComplete,
        StackStatus::RollbackFailed,
        StackStatus::UpdateRollbackComplete,
        StackStatus::UpdateRollbackFailed,
        StackStatus::DeleteFailed,
        StackStatus::UpdateFailed,
    ];
    for s in failed {
        assert!(s.is_terminal() && s.is_failed(), "{s}");
    }
    for s in [StackStatus::CreateComplete, StackStatus::UpdateComplete] {
        assert!(s.is_terminal() && !s.is_failed(), "{s}");
    }
    // A status the SDK does not know yet is classified by its spelling.
    let new = StackStatus::parse("FROBNICATE_ROLLBACK_COMPLETE");
    assert_eq!(
        new,
        StackStatus::Other("FROBNICATE_ROLLBACK_COMPLETE".into())
    );
    assert!(new.is_terminal() && new.is_failed());
    assert!(StackStatus::parse("FROBNICATE_IN_PROGRESS").is_in_progress());
    assert!(!StackStatus::parse("FROBNICATE_COMPLETE").is_failed());
    assert!(StackStatus::RollbackComplete.is_failed_create());
    assert!(!StackStatus::UpdateRollbackComplete.is_failed_create());
}

#[test]
fn outcome_depends_on_the_operation() {
    use OperationKind::*;
    assert_eq!(
        outcome(Create, &StackStatus::CreateInProgress),
        Outcome::Pending
    );
    assert_eq!(
        outcome(Create, &StackStatus::CreateComplete),
        Outcome::Succeeded
    );
    assert_eq!(
        outcome(Create, &StackStatus::RollbackComplete),
        Outcome::Failed
    );
    // OnFailure = DELETE: a failed create ends with the stack deleted.
    assert_eq!(
        outcome(Create, &StackStatus::DeleteComplete),
        Outcome::Failed
    );
    assert_eq!(
        outcome(Update, &StackStatus::UpdateComplete),
        Outcome::Succeeded
    );
    assert_eq!(
        outcome(Update, &StackStatus::UpdateRollbackComplete),
        Outcome::Failed
    );
    assert_eq!(
        outcome(
            Update,
            &StackStatus::UpdateRollbackCompleteCleanupInProgress
        ),
        Outcome::Pending
    );
    assert_eq!(
        outcome(Delete, &StackStatus::DeleteComplete),
        Outcome::Succeeded
    );
    assert_eq!(outcome(Delete, &StackStatus::DeleteFailed), Outcome::Failed);
    assert_eq!(
        outcome(Delete, &StackStatus::CreateComplete),
        Outcome::Failed
    );
}

#[test]
fn stack_names_come_out_of_ids() {
    assert_eq!(stack_name_from_id(STACK_ID), "trust");
    assert_eq!(stack_name_from_id("trust"), "trust");
}

#[test]
fn operation_events_stop_at_the_marker_and_read_oldest_first() {
    let newest_first = vec![
        event("e5", "trust", STACK_TYPE, "UPDATE_ROLLBACK_COMPLETE", None),
        event("e4", "Role", ROLE, "UPDATE_FAILED", Some("bad policy")),
        event(
            "e3",
            "trust",
            STACK_TYPE,
            "UPDATE_IN_PROGRESS",
            Some("User Initiated"),
        ),
        event(
            "e2",
            "Role",
            ROLE,
            "CREATE_FAILED",
            Some("an older failure"),
        ),
        event(
            "e1",
            "trust",
            STACK_TYPE,
            "CREATE_IN_PROGRESS",
            Some("User Initiated"),
        ),
    ];
    let marker = EventMarker {
        after_event_id: Some("e2".into()),
        operation_id: None,
    };
    let ids: Vec<String> = operation_events(newest_first.clone(), &marker)
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(ids, ["e3", "e4", "e5"]);
    // Without a marker (a new stack) everything belongs to the operation.
    assert_eq!(
        operation_events(newest_first, &EventMarker::default()).len(),
        5
    );
}

#[test]
fn operation_ids_filter_when_both_sides_have_them() {
    let mut ours = event("e2", "Role", ROLE, "UPDATE_FAILED", Some("x"));
    ours.operation_id = Some("op-2".into());
    let mut theirs = event("e1", "Role", ROLE, "CREATE_FAILED", Some("y"));
    theirs.operation_id = Some("op-1".into());
    let unlabelled = event("e0", "trust", STACK_TYPE, "UPDATE_IN_PROGRESS", None);
    let marker = EventMarker {
        after_event_id: None,
        operation_id: Some("op-2".into()),
    };
    let ids: Vec<String> = operation_events(vec![ours, theirs, unlabelled], &marker)
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(ids, ["e0", "e2"]);
}

#[test]
fn relevant_events_put_real_failures_first() {
    let events = vec![
        event(
            "1",
            "trust",
            STACK_TYPE,
            "CREATE_IN_PROGRESS",
            Some("User Initiated"),
        ),
        event(
            "2",
            "Provider",
            "AWS::IAM::OIDCProvider",
            "CREATE_COMPLETE",
            None,
        ),
        event(
            "3",
            "Other",
            ROLE,
            "CREATE_FAILED",
            Some("Resource creation cancelled"),
        ),
        event(
            "4",
            "Role",
            ROLE,
            "CREATE_FAILED",
            Some("Policy x does not exist"),
        ),
        event(
            "5",
            "trust",
            STACK_TYPE,
            "ROLLBACK_IN_PROGRESS",
            Some("failed to create: [Role]"),
        ),
        event(
            "6",
            "Provider",
            "AWS::IAM::OIDCProvider",
            "DELETE_FAILED",
            Some("in use"),
        ),
        event(
            "7",
            "trust",
            STACK_TYPE,
            "ROLLBACK_FAILED",
            Some("failed to delete"),
        ),
    ];
    let ids: Vec<String> = relevant_events(&events, None)
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(ids, ["4", "6", "3", "7"]);

    // No failure event: the events that say why are kept, "User Initiated" is not.
    let quiet = vec![
        events[0].clone(),
        events[1].clone(),
        event(
            "8",
            "trust",
            STACK_TYPE,
            "ROLLBACK_COMPLETE",
            Some("Stack timed out"),
        ),
    ];
    let ids: Vec<String> = relevant_events(&quiet, None)
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(ids, ["8"]);

    // A stack event that only repeats the stack's status reason is not shown twice.
    let ids: Vec<String> = relevant_events(&events, Some("failed to delete"))
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(ids, ["4", "6", "3"]);
}

fn failure(events: Vec<StackEvent>, status: StackStatus) -> StackFailure {
    StackFailure {
        stack: "trust".into(),
        stack_id: STACK_ID.into(),
        operation: OperationKind::Create,
        status,
        reason: Some("The following resource(s) failed to create: [Role].".into()),
        events,
    }
}

#[test]
fn failure_message_lists_the_failed_resources() {
    let f = failure(
        vec![
            event(
                "4",
                "Role",
                ROLE,
                "CREATE_FAILED",
                Some("Policy x does not exist"),
            ),
            event("5", "Role", ROLE, "CREATE_FAILED", Some("again")),
        ],
        StackStatus::RollbackComplete,
    );
    assert_eq!(f.failed_logical_ids(), ["Role"]);
    let text = AwsError::StackFailed(Box::new(f)).to_string();
    assert!(
        text.starts_with(
            "CloudFormation stack trust create ended in ROLLBACK_COMPLETE: The following resource(s) failed to create: [Role]."
        ),
        "{text}"
    );
    assert!(
        text.contains("\n  - Role (AWS::IAM::Role) CREATE_FAILED: Policy x does not exist"),
        "{text}"
    );
    assert!(text.contains("can only be deleted"), "{text}");

    let many: Vec<StackEvent> = (0..13)
        .map(|i| {
            event(
                &i.to_string(),
                &format!("R{i}"),
                ROLE,
                "CREATE_FAILED",
                None,
            )
        })
        .collect();
    let text = failure(many, StackStatus::UpdateRollbackComplete).to_string();
    assert_eq!(text.matches("\n  - ").count(), MAX_EVENTS_SHOWN);
    assert!(text.contains("... and 3 more"), "{text}");
    assert!(!text.contains("can only be deleted"), "{text}");
}

#[test]
fn errors_are_refined_from_cloudformation_messages() {
    assert!(api("ValidationError", "Stack with id trust does not exist").is_not_found());
    let no_updates = api("ValidationError", "No updates are to be performed.");
    assert!(is_no_updates(&no_updates));
    assert!(!is_no_updates(&api(
        "ValidationError",
        "Template format error"
    )));
    assert!(matches!(
        api("AlreadyExistsException", "Stack [trust] already exists"),
        AwsError::AlreadyExists { .. }
    ));
    assert!(matches!(
        api(
            "AccessDenied",
            "not authorized to perform cloudformation:CreateStack"
        ),
        AwsError::PermissionDenied { .. }
    ));
    assert!(matches!(
        api(
            "ValidationError",
            "Stack:arn is in UPDATE_IN_PROGRESS state and can not be updated."
        ),
        AwsError::Conflict { .. }
    ));
    let caps = api(
        "InsufficientCapabilitiesException",
        "Requires capabilities : [CAPABILITY_NAMED_IAM]",
    );
    assert!(matches!(caps, AwsError::Invalid { .. }), "{caps:?}");
    assert!(caps.to_string().contains(CAPABILITIES_HINT), "{caps}");
    let rollback = api(
        "ValidationError",
        "Stack:arn is in ROLLBACK_COMPLETE state and can not be updated.",
    );
    assert!(
        rollback.to_string().contains(ROLLBACK_COMPLETE_HINT),
        "{rollback}"
    );
    // Other validation errors stay as they were.
    let other = api("ValidationError", "Template format error: bad");
    assert_eq!(other.service_message(), Some("Template format error: bad"));
}
