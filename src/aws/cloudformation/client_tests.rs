//! The client's calls and its waiter against a loopback mock CloudFormation endpoint
//! answering Query/XML, with a fake clock.

use super::*;
use crate::aws::{AwsClients, AwsConfig, AwsEndpoints};
use crate::http::mock_server::{MockServer, Reply};
use crate::http::retry::tests::FakeClock;
use crate::secret::Secret;
use std::sync::Arc;
use std::time::Duration;

const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/trust/5f1c-77";
const STACK_TYPE: &str = "AWS::CloudFormation::Stack";
const ROLE: &str = "AWS::IAM::Role";

fn xml(status: u16, body: String) -> Reply {
    Reply::Respond {
        status,
        headers: vec![("content-type".into(), "text/xml".into())],
        body,
    }
}

fn cfn_error(code: &str, message: &str) -> Reply {
    xml(
        400,
        format!(
            r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>req-{code}</RequestId></ErrorResponse>"#
        ),
    )
}

fn stacks(status: &str, reason: Option<&str>) -> Reply {
    let reason = reason
        .map(|r| format!("<StackStatusReason>{r}</StackStatusReason>"))
        .unwrap_or_default();
    xml(
        200,
        format!(
            r#"<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>
<StackName>trust</StackName><StackId>{STACK_ID}</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime>
<StackStatus>{status}</StackStatus>{reason}
<Outputs><member><OutputKey>RoleArn</OutputKey><OutputValue>arn:aws:iam::123456789012:role/r</OutputValue></member></Outputs>
<Parameters><member><ParameterKey>TenantId</ParameterKey><ParameterValue>t-1</ParameterValue></member></Parameters>
<Tags><member><Key>owner</Key><Value>platform</Value></member></Tags>
<Capabilities><member>CAPABILITY_NAMED_IAM</member></Capabilities>
</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>req-d</RequestId></ResponseMetadata></DescribeStacksResponse>"#
        ),
    )
}

fn events_page(events: &[(&str, &str, &str, &str, &str)]) -> Reply {
    let members: String = events
        .iter()
        .map(|(id, logical, rtype, status, reason)| {
            format!(
                "<member><StackId>{STACK_ID}</StackId><EventId>{id}</EventId><StackName>trust</StackName>\
<LogicalResourceId>{logical}</LogicalResourceId><ResourceType>{rtype}</ResourceType>\
<Timestamp>2026-01-01T00:00:00Z</Timestamp><ResourceStatus>{status}</ResourceStatus>\
<ResourceStatusReason>{reason}</ResourceStatusReason></member>"
            )
        })
        .collect();
    xml(
        200,
        format!(
            r#"<DescribeStackEventsResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStackEventsResult><StackEvents>{members}</StackEvents></DescribeStackEventsResult><ResponseMetadata><RequestId>req-e</RequestId></ResponseMetadata></DescribeStackEventsResponse>"#
        ),
    )
}

async fn client(server: &MockServer, wait: StackWait) -> CloudFormationClient {
    let config = AwsConfig {
        region: Some("us-east-1".into()),
        access_key: Some("AKIDEXAMPLE".into()),
        secret_key: Some(Secret::new("cfn-test-secret")),
        endpoints: AwsEndpoints {
            cloudformation: Some(server.base_url.clone()),
            ..Default::default()
        },
        // One attempt per call: the waiter's own tolerance of a failed poll is under test.
        max_retries: Some(0),
        ..Default::default()
    };
    AwsClients::new(&config)
        .await
        .unwrap()
        .cloudformation()
        .with_wait(wait)
}

fn fake_wait(clock: &Arc<FakeClock>, budget: Duration) -> StackWait {
    StackWait::new(budget).with_clock(clock.clone())
}

fn actions(server: &MockServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter_map(|r| {
            r.body
                .split('&')
                .find_map(|kv| kv.strip_prefix("Action=").map(str::to_owned))
        })
        .collect()
}

#[tokio::test]
async fn describe_reads_the_stack_and_misses_are_none() {
    let server = MockServer::start().await;
    server.push(stacks("UPDATE_COMPLETE", None));
    server.push(cfn_error(
        "ValidationError",
        "Stack with id gone does not exist",
    ));
    server.push(stacks("DELETE_COMPLETE", None));
    let clock = Arc::new(FakeClock::default());
    let cfn = client(&server, fake_wait(&clock, STACK_WAIT_TIMEOUT)).await;
    let s = cfn.describe_stack_opt("trust").await.unwrap().unwrap();
    assert_eq!(s.id, STACK_ID);
    assert_eq!(s.status, StackStatus::UpdateComplete);
    assert_eq!(
        s.outputs.get("RoleArn").map(String::as_str),
        Some("arn:aws:iam::123456789012:role/r")
    );
    assert_eq!(
        s.parameters.get("TenantId").map(String::as_str),
        Some("t-1")
    );
    assert_eq!(s.tags.get("owner").map(String::as_str), Some("platform"));
    assert_eq!(s.capabilities, [CAPABILITY_NAMED_IAM]);
    assert_eq!(cfn.describe_stack_opt("gone").await.unwrap(), None);
    assert_eq!(cfn.describe_stack_opt(STACK_ID).await.unwrap(), None);
}

#[tokio::test]
async fn create_sends_capabilities_and_a_request_token() {
    let server = MockServer::start().await;
    server.push(xml(
        200,
        format!(
            r#"<CreateStackResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><CreateStackResult><StackId>{STACK_ID}</StackId></CreateStackResult><ResponseMetadata><RequestId>req-c</RequestId></ResponseMetadata></CreateStackResponse>"#
        ),
    ));
    server.push(cfn_error(
        "AlreadyExistsException",
        "Stack [trust] already exists",
    ));
    let clock = Arc::new(FakeClock::default());
    let cfn = client(&server, fake_wait(&clock, STACK_WAIT_TIMEOUT)).await;
    let new = NewStack::new("trust", "{}").with_parameter("TenantId", "t-1");
    assert_eq!(cfn.create_stack(&new).await.unwrap(), STACK_ID);
    let body = &server.requests()[0].body;
    for part in [
        "Action=CreateStack",
        "Capabilities.member.1=CAPABILITY_NAMED_IAM",
        "Parameters.member.1.ParameterKey=TenantId",
        "ClientRequestToken=multicloud-create-",
    ] {
        assert!(body.contains(part), "{part} missing from {body}");
    }
    let err = cfn.create_stack(&new).await.unwrap_err();
    assert!(matches!(err, AwsError::AlreadyExists { .. }), "{err:?}");
    assert!(!err.to_string().contains("cfn-test-secret"));
}

#[tokio::test]
async fn update_without_changes_is_false() {
    let server = MockServer::start().await;
    server.push(cfn_error(
        "ValidationError",
        "No updates are to be performed.",
    ));
    let clock = Arc::new(FakeClock::default());
    let cfn = client(&server, fake_wait(&clock, STACK_WAIT_TIMEOUT)).await;
    assert!(
        !cfn.update_stack(&NewStack::new("trust", "{}"))
            .await
            .unwrap()
    );
    assert_eq!(actions(&server), ["UpdateStack"]);
}

#[tokio::test]
async fn wait_polls_with_growing_delays_then_reports_the_failed_events() {
    let server = MockServer::start().await;
    server.push(stacks("CREATE_IN_PROGRESS", None));
    // A throttled poll does not end the wait.
    server.push(cfn_error("Throttling", "Rate exceeded"));
    server.push(stacks("ROLLBACK_IN_PROGRESS", None));
    server.push(stacks(
        "ROLLBACK_COMPLETE",
        Some("The following resource(s) failed to create: [Role]. Rollback requested by user."),
    ));
    server.push(events_page(&[
        ("e4", "trust", STACK_TYPE, "ROLLBACK_COMPLETE", ""),
        (
            "e3",
            "Role",
            ROLE,
            "CREATE_FAILED",
            "Policy arn:aws:iam::aws:policy/Nope does not exist or is not attachable.",
        ),
        (
            "e2",
            "Provider",
            "AWS::IAM::OIDCProvider",
            "CREATE_COMPLETE",
            "",
        ),
        (
            "e1",
            "trust",
            STACK_TYPE,
            "CREATE_IN_PROGRESS",
            "User Initiated",
        ),
    ]));
    let clock = Arc::new(FakeClock::default());
    let cfn = client(&server, fake_wait(&clock, STACK_WAIT_TIMEOUT)).await;
    let err = cfn
        .wait_for_stack(STACK_ID, &StackOperation::create())
        .await
        .unwrap_err();
    let f = err.stack_failure().expect("StackFailed");
    assert_eq!(f.status, StackStatus::RollbackComplete);
    assert_eq!(f.stack, "trust");
    assert_eq!(f.failed_logical_ids(), ["Role"]);
    let text = err.to_string();
    assert!(
        text.contains("Role (AWS::IAM::Role) CREATE_FAILED: Policy arn:aws:iam::aws:policy/Nope"),
        "{text}"
    );
    assert_eq!(clock.sleeps(), [1, 2, 4].map(Duration::from_secs).to_vec());
    assert_eq!(
        actions(&server),
        [
            "DescribeStacks",
            "DescribeStacks",
            "DescribeStacks",
            "DescribeStacks",
            "DescribeStackEvents"
        ]
    );
}

#[tokio::test]
async fn wait_gives_up_when_the_budget_is_spent() {
    let server = MockServer::start().await;
    for _ in 0..20 {
        server.push(stacks("UPDATE_IN_PROGRESS", None));
    }
    let clock = Arc::new(FakeClock::default());
    let cfn = client(&server, fake_wait(&clock, Duration::from_secs(30))).await;
    let op = StackOperation::after(OperationKind::Update, EventMarker::default());
    let err = cfn.wait_for_stack(STACK_ID, &op).await.unwrap_err();
    match &err {
        AwsError::StackWaitTimeout {
            stack,
            operation,
            status,
            ..
        } => {
            assert_eq!(stack, "trust");
            assert_eq!(operation, "update");
            assert_eq!(status, "UPDATE_IN_PROGRESS");
        }
        other => panic!("expected StackWaitTimeout, got {other:?}"),
    }
    // 1 + 2 + 4 + 8 + 10 = 25 s; the next 10 s would cross 30 s.
    assert_eq!(
        clock.sleeps(),
        [1, 2, 4, 8, 10].map(Duration::from_secs).to_vec()
    );
    assert!(err.to_string().contains("timeouts"), "{err}");
}

#[tokio::test]
async fn wait_stops_at_once_on_an_error_that_is_not_transient() {
    let server = MockServer::start().await;
    server.push(cfn_error(
        "AccessDenied",
        "not authorized to perform cloudformation:DescribeStacks",
    ));
    let clock = Arc::new(FakeClock::default());
    let cfn = client(&server, fake_wait(&clock, STACK_WAIT_TIMEOUT)).await;
    let err = cfn
        .wait_for_stack(STACK_ID, &StackOperation::create())
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::PermissionDenied { .. }), "{err:?}");
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn delete_of_a_missing_stack_is_false_without_calling_delete() {
    let server = MockServer::start().await;
    server.push(cfn_error(
        "ValidationError",
        "Stack with id trust does not exist",
    ));
    let clock = Arc::new(FakeClock::default());
    let cfn = client(&server, fake_wait(&clock, STACK_WAIT_TIMEOUT)).await;
    assert!(!cfn.delete_stack_and_wait("trust").await.unwrap());
    assert_eq!(actions(&server), ["DescribeStacks"]);
}

/// The request's parameters that come from the spec: everything but the action, the
/// idempotency tokens and the update's operation preferences.
fn spec_params(body: &str) -> std::collections::BTreeSet<String> {
    const PER_REQUEST: [&str; 5] = [
        "Action=",
        "Version=",
        "ClientRequestToken=",
        "OperationId=",
        "OperationPreferences.",
    ];
    body.split('&')
        .filter(|kv| !PER_REQUEST.iter().any(|p| kv.starts_with(p)))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn stack_set_create_and_update_send_the_same_settings() {
    let server = MockServer::start().await;
    server.push(xml(
        200,
        r#"<CreateStackSetResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><CreateStackSetResult><StackSetId>org:1</StackSetId></CreateStackSetResult><ResponseMetadata><RequestId>req-s</RequestId></ResponseMetadata></CreateStackSetResponse>"#.to_owned(),
    ));
    server.push(xml(
        200,
        r#"<UpdateStackSetResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><UpdateStackSetResult><OperationId>op-1</OperationId></UpdateStackSetResult><ResponseMetadata><RequestId>req-u</RequestId></ResponseMetadata></UpdateStackSetResponse>"#.to_owned(),
    ));
    let clock = Arc::new(FakeClock::default());
    let cfn = client(&server, fake_wait(&clock, STACK_WAIT_TIMEOUT)).await;
    let mut spec = StackSetSpec::new("org", "{}");
    spec.description = Some("roles".into());
    spec.parameters.insert("TenantId".into(), "t-1".into());
    spec.tags.insert("owner".into(), "platform".into());
    spec.auto_deployment = false;
    spec.retain_stacks_on_account_removal = true;
    spec.call_as = CallAs::DelegatedAdmin;
    assert_eq!(cfn.create_stack_set(&spec).await.unwrap(), "org:1");
    let preferences = OperationPreferences::default();
    assert_eq!(
        cfn.update_stack_set(&spec, &preferences).await.unwrap(),
        "op-1"
    );
    let requests = server.requests();
    let (create, update) = (&requests[0].body, &requests[1].body);
    assert!(create.contains("Action=CreateStackSet"), "{create}");
    assert!(update.contains("Action=UpdateStackSet"), "{update}");
    let shared = spec_params(create);
    for part in [
        "StackSetName=org",
        "Description=roles",
        "Capabilities.member.1=CAPABILITY_NAMED_IAM",
        "Parameters.member.1.ParameterKey=TenantId",
        "Tags.member.1.Key=owner",
        "PermissionModel=SERVICE_MANAGED",
        "AutoDeployment.Enabled=false",
        "AutoDeployment.RetainStacksOnAccountRemoval=true",
        "CallAs=DELEGATED_ADMIN",
    ] {
        assert!(shared.contains(part), "{part} missing from {create}");
    }
    assert_eq!(shared, spec_params(update));
}

/// The value of form field `name` in a recorded Query request.
fn field(body: &str, name: &str) -> Option<String> {
    body.split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_owned))
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_sent_again_with_the_same_token() {
    let server = MockServer::start().await;
    server.push(Reply::Drop);
    server.push(Reply::Drop);
    // CloudFormation knows the token and answers with the stack the lost attempt made.
    server.push(xml(
        200,
        format!(
            r#"<CreateStackResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><CreateStackResult><StackId>{STACK_ID}</StackId></CreateStackResult><ResponseMetadata><RequestId>req-c</RequestId></ResponseMetadata></CreateStackResponse>"#
        ),
    ));
    let clock = Arc::new(FakeClock::default());
    let cfn = client(&server, fake_wait(&clock, STACK_WAIT_TIMEOUT)).await;
    let id = cfn
        .create_stack(&NewStack::new("trust", "{}"))
        .await
        .unwrap();
    assert_eq!(id, STACK_ID);
    let tokens: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|r| field(&r.body, "ClientRequestToken"))
        .collect();
    assert_eq!(tokens.len(), 3);
    assert!(tokens[0].is_some(), "{tokens:?}");
    assert!(tokens.iter().all(|t| t == &tokens[0]), "{tokens:?}");
    assert_eq!(clock.sleeps(), [1, 2].map(Duration::from_secs).to_vec());
}

#[tokio::test]
async fn a_stackset_operation_found_running_under_our_own_id_is_ours() {
    let server = MockServer::start().await;
    server.push(Reply::Drop);
    server.push(cfn_error(
        "OperationIdAlreadyExistsException",
        "The specified operation ID already exists",
    ));
    let clock = Arc::new(FakeClock::default());
    let cfn = client(&server, fake_wait(&clock, STACK_WAIT_TIMEOUT)).await;
    let targets = StackSetTargets {
        organizational_unit_ids: vec!["r-abcd".into()],
        excluded_accounts: vec![],
        regions: vec!["us-east-1".into()],
    };
    let id = cfn
        .create_stack_instances(
            "onboarding",
            &targets,
            &OperationPreferences::default(),
            CallAs::ManagementAccount,
        )
        .await
        .unwrap();
    let sent: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|r| field(&r.body, "OperationId"))
        .collect();
    assert_eq!(sent, vec![Some(id.clone()), Some(id)]);

    // Any other refusal is returned as it is.
    server.push(cfn_error(
        "OperationInProgressException",
        "Another Operation on StackSet onboarding is in progress",
    ));
    let err = cfn
        .create_stack_instances(
            "onboarding",
            &targets,
            &OperationPreferences::default(),
            CallAs::ManagementAccount,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::Conflict { .. }), "{err:?}");
}
