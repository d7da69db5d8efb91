//! Health summaries, and waiting for a healthy connector against a loopback mock of ARM with a
//! fake clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value as Json, json};

use super::*;
use crate::azure::list::tests::mock_client;
use crate::http::mock_server::{MockServer, Reply};
use crate::protocol::json;

const ID: &str = "/subscriptions/00000000-0000-0000-0000-00000000000a/resourceGroups/rg-sec/providers/Microsoft.Security/securityConnectors/aws-prod";

fn report(name: &str, component: &str, code: &str, issues: Json) -> Json {
    json!({
        "id": format!("{ID}/providers/Microsoft.Security/healthReports/{name}"),
        "name": name,
        "properties": {
            "resourceDetails": {"source": "Aws", "connectorId": ID},
            "healthDataClassification": {"component": component, "scenario": "Connectivity", "scope": "Connectors"},
            "status": {"code": code, "reason": "checked", "lastTimeScannedDate": "2025-01-01T00:00:00Z"},
            "affectedDefendersPlans": ["CspmMonitorAws"],
            "issues": issues
        }
    })
}

fn parse(reports: Json) -> Vec<HealthReport> {
    serde_json::from_value(reports).unwrap()
}

fn id() -> SecurityConnectorId {
    SecurityConnectorId::parse(ID).unwrap()
}

#[test]
fn one_unhealthy_report_makes_the_connector_unhealthy() {
    let denied = json!([{"issueKey": "RoleNotAssumable", "issueName": "Role cannot be assumed",
        "remediationSteps": "Check the trust policy of CspmMonitorAws"}]);
    let health = Health::summarize(
        &id(),
        parse(json!([
            report("b", "CSPM", "Healthy", json!([])),
            report("a", "Servers", "NotHealthy", denied),
        ])),
    );
    assert_eq!(health.status, "NotHealthy");
    assert!(!health.healthy);
    let problems = health.problems();
    assert!(
        problems.contains("Servers: Role cannot be assumed. Fix: Check the trust policy"),
        "{problems}"
    );
    let reports = health.reports_value();
    let first = &reports.as_list().unwrap()[0];
    assert_eq!(
        first.get("component").as_str(),
        Some("CSPM"),
        "sorted by component"
    );
    assert_eq!(
        first.get("affected_plans"),
        &Value::string_list(["CspmMonitorAws"])
    );
}

#[test]
fn statuses_without_problems() {
    let healthy = Health::summarize(
        &id(),
        parse(json!([
            report("a", "CSPM", "Healthy", json!([])),
            report("b", "Containers", "NotApplicable", json!([]))
        ])),
    );
    assert_eq!(
        (healthy.status.as_str(), healthy.healthy),
        ("Healthy", true)
    );
    let none = Health::summarize(&id(), Vec::new());
    assert_eq!((none.status.as_str(), none.healthy), ("Unknown", false));
    assert!(none.problems().contains("not reported"));
    let na = Health::summarize(
        &id(),
        parse(json!([report("a", "CSPM", "NotApplicable", json!([]))])),
    );
    assert_eq!(na.status, "NotApplicable");
    // A report about another connector does not count.
    let mut other = report("a", "CSPM", "NotHealthy", json!([]));
    other["properties"]["resourceDetails"]["connectorId"] =
        json!(ID.replace("aws-prod", "aws-dev"));
    assert_eq!(
        Health::summarize(&id(), parse(json!([other]))).status,
        "Unknown"
    );
}

fn config(wait: bool, timeout: Option<&str>) -> Value {
    let ty = SecurityConnectorStatusDataSource.schema().value_type();
    let mut v = json::decode(b"{}", &ty).unwrap();
    v.set_attr("security_connector_id", ID);
    if wait {
        v.set_attr("wait_for_healthy", true);
    }
    if let Some(t) = timeout {
        v.set_attr("wait_timeout", t);
    }
    v
}

fn connector() -> Reply {
    Reply::json(
        200,
        json!({"id": ID, "name": "aws-prod", "location": "westeurope",
            "properties": {"hierarchyIdentifier": "123456789012", "environmentName": "AWS",
                "environmentData": {"environmentType": "AwsAccount"}}}),
    )
}

fn reports(items: Json) -> Reply {
    Reply::json(200, json!({"value": items}))
}

#[tokio::test]
async fn reports_the_status_as_it_is_without_waiting() {
    let server = MockServer::start().await;
    let clients = ProviderClients::with_azure_client(mock_client(&server));
    server.push(connector());
    server.push(reports(json!([report(
        "a",
        "CSPM",
        "NotHealthy",
        json!([])
    )])));
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorStatusDataSource
        .read(&clients, &config(false, None), &mut diags)
        .await
        .expect("state");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(state.get("status").as_str(), Some("NotHealthy"));
    assert_eq!(state.get("healthy").as_bool(), Some(false));
    assert_eq!(state.get("aws_account_id").as_str(), Some("123456789012"));
    assert!(state.is_fully_known());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn waits_until_healthy() {
    let server = MockServer::start().await;
    let clients = ProviderClients::with_azure_client(mock_client(&server));
    server.push(connector());
    server.push(reports(json!([])));
    server.push(connector());
    server.push(reports(json!([report(
        "a",
        "CSPM",
        "NotHealthy",
        json!([])
    )])));
    server.push(connector());
    server.push(reports(json!([report("a", "CSPM", "Healthy", json!([]))])));
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorStatusDataSource
        .read(&clients, &config(true, None), &mut diags)
        .await
        .expect("state");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(state.get("status").as_str(), Some("Healthy"));
    assert_eq!(server.requests().len(), 6);
}

#[tokio::test]
async fn gives_up_after_the_timeout_with_the_issues() {
    let server = MockServer::start().await;
    let clients = ProviderClients::with_azure_client(mock_client(&server));
    let issue = json!([{"issueKey": "k", "issueName": "Role cannot be assumed",
        "remediationSteps": "Deploy the CloudFormation template again"}]);
    // 15 s, then 30 s: a third wait would pass the 60 s budget.
    for _ in 0..3 {
        server.push(connector());
        server.push(reports(json!([report(
            "a",
            "CSPM",
            "NotHealthy",
            issue.clone()
        )])));
    }
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorStatusDataSource
        .read(&clients, &config(true, Some("60s")), &mut diags)
        .await;
    assert!(state.is_none());
    let d = diags.iter().next().expect("an error");
    assert_eq!(d.summary, "Security connector not healthy");
    assert!(
        d.detail.contains("aws-prod is NotHealthy after 45s"),
        "{}",
        d.detail
    );
    assert!(
        d.detail
            .contains("Deploy the CloudFormation template again"),
        "{}",
        d.detail
    );
    assert_eq!(server.requests().len(), 6);
}

#[tokio::test]
async fn a_missing_connector_or_bad_input_is_reported_on_the_attribute() {
    let server = MockServer::start().await;
    let clients = ProviderClients::with_azure_client(mock_client(&server));
    server.push(Reply::json(
        404,
        json!({"error": {"code": "ResourceNotFound", "message": "x"}}),
    ));
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorStatusDataSource
        .read(&clients, &config(false, None), &mut diags)
        .await;
    assert!(state.is_none());
    let d = diags.iter().next().expect("an error");
    assert_eq!(d.summary, "Security connector not found");
    assert_eq!(d.attribute, Some(AttrPath::root("security_connector_id")));

    let mut diags = Diagnostics::new();
    let bad = config(true, Some("ten minutes")).with_attr("security_connector_id", "aws-prod");
    SecurityConnectorStatusDataSource.validate(&bad, &mut diags);
    let paths: Vec<_> = diags.iter().filter_map(|d| d.attribute.clone()).collect();
    assert_eq!(
        paths,
        [
            AttrPath::root("security_connector_id"),
            AttrPath::root("wait_timeout")
        ]
    );
}
