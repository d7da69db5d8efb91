//! Member connectors picked out of a subscription's connectors, and waiting for them, against a
//! loopback mock of ARM with a fake clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value as Json, json};

use super::*;
use crate::azure::list::tests::mock_client;
use crate::http::mock_server::{MockServer, Reply};
use crate::protocol::json;

const SUB: &str = "00000000-0000-0000-0000-00000000000a";
const MANAGEMENT: &str = "111111111111";

fn id(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-sec/providers/Microsoft.Security/securityConnectors/{name}"
    )
}

fn connector(name: &str, account: &str, organizational_data: Json) -> Json {
    json!({"id": id(name), "name": name, "location": "westeurope",
        "properties": {"hierarchyIdentifier": account, "environmentName": "AWS",
            "environmentData": {"environmentType": "AwsAccount", "accountName": format!("acct-{account}"),
                "organizationalData": organizational_data}}})
}

fn organization() -> Json {
    connector(
        "org",
        MANAGEMENT,
        json!({"organizationMembershipType": "Organization", "stacksetName": "MDC"}),
    )
}

fn member(name: &str, account: &str, parent: &str) -> Json {
    connector(
        name,
        account,
        json!({"organizationMembershipType": "Member", "parentHierarchyId": parent}),
    )
}

fn report(connector: &str, code: &str) -> Json {
    json!({"name": "r", "properties": {
        "resourceDetails": {"source": "Aws", "connectorId": id(connector)},
        "healthDataClassification": {"component": "CSPM"},
        "status": {"code": code, "reason": "checked"},
        "issues": if code == "Healthy" { json!([]) } else {
            json!([{"issueKey": "RoleNotFound", "issueName": "Role not found",
                "remediationSteps": "Deploy the StackSet to the account"}]) }}})
}

fn list(items: Json) -> Reply {
    Reply::json(200, json!({"value": items}))
}

fn config(wait_for: Option<i64>, timeout: Option<&str>) -> Value {
    let ty = SecurityConnectorMembersDataSource.schema().value_type();
    let mut v = json::decode(b"{}", &ty).unwrap();
    v.set_attr("organization_connector_id", id("org").as_str());
    if let Some(n) = wait_for {
        v.set_attr("wait_for_count", n);
    }
    if let Some(t) = timeout {
        v.set_attr("wait_timeout", t);
    }
    v
}

#[test]
fn members_are_the_member_connectors_of_this_management_account_sorted_by_account() {
    let all: Vec<SecurityConnector> = serde_json::from_value(json!([
        member("m3", "333333333333", MANAGEMENT),
        organization(),
        member("other", "444444444444", "999999999999"),
        member("m2", "222222222222", MANAGEMENT),
        connector("single", "555555555555", Json::Null),
    ]))
    .unwrap();
    let names: Vec<String> = members_of(all, MANAGEMENT)
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["m2", "m3"]);
}

#[test]
fn only_an_organization_connector_has_members() {
    let org: SecurityConnector = serde_json::from_value(organization()).unwrap();
    assert_eq!(management_account(&org).unwrap(), MANAGEMENT);
    let single: SecurityConnector =
        serde_json::from_value(connector("single", MANAGEMENT, Json::Null)).unwrap();
    let err = management_account(&single).unwrap_err();
    assert!(err.contains("not an organization connector"), "{err}");
    assert!(err.contains("organization` block"), "{err}");
    let m: SecurityConnector =
        serde_json::from_value(member("m", "222222222222", MANAGEMENT)).unwrap();
    assert!(management_account(&m).unwrap_err().contains("\"Member\""));
}

#[tokio::test]
async fn lists_members_with_their_health() {
    let server = MockServer::start().await;
    let clients = ProviderClients::with_azure_client(mock_client(&server));
    server.push(Reply::json(200, organization()));
    server.push(list(json!([
        organization(),
        member("m2", "222222222222", MANAGEMENT)
    ])));
    server.push(list(json!([report("m2", "NotHealthy")])));
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorMembersDataSource
        .read(&clients, &config(None, None), &mut diags)
        .await
        .expect("state");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(state.get("aws_account_id").as_str(), Some(MANAGEMENT));
    assert_eq!(
        state.get("member_account_ids"),
        &Value::string_list(["222222222222"])
    );
    assert_eq!(state.get("healthy_count").as_i64(), Some(0));
    let m = &state.get("members").as_list().unwrap()[0];
    assert_eq!(m.get("name").as_str(), Some("m2"));
    assert_eq!(
        m.get("aws_account_name").as_str(),
        Some("acct-222222222222")
    );
    assert_eq!(m.get("status").as_str(), Some("NotHealthy"));
    assert_eq!(m.get("healthy").as_bool(), Some(false));
    assert!(
        m.get("problems")
            .as_str()
            .unwrap()
            .contains("Deploy the StackSet"),
        "{m:?}"
    );
    assert!(state.is_fully_known());
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.target.split('?').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert!(
        paths[1].ends_with(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Security/securityConnectors"
        )),
        "{paths:?}"
    );
    assert!(
        paths[2].ends_with("/m2/providers/Microsoft.Security/healthReports"),
        "{paths:?}"
    );
}

#[tokio::test]
async fn waits_for_the_count_then_gives_up_naming_what_is_missing() {
    let server = MockServer::start().await;
    let clients = ProviderClients::with_azure_client(mock_client(&server));
    server.push(Reply::json(200, organization()));
    server.push(list(json!([organization()])));
    server.push(list(json!([
        organization(),
        member("m2", "222222222222", MANAGEMENT)
    ])));
    server.push(list(json!([report("m2", "Healthy")])));
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorMembersDataSource
        .read(&clients, &config(Some(1), None), &mut diags)
        .await
        .expect("state");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(state.get("healthy_count").as_i64(), Some(1));
    assert!(
        state.get("members").as_list().unwrap()[0]
            .get("problems")
            .is_null()
    );

    // 10 s, then 20 s: a third wait would pass the 40 s budget.
    let server = MockServer::start().await;
    let clients = ProviderClients::with_azure_client(mock_client(&server));
    server.push(Reply::json(200, organization()));
    for _ in 0..3 {
        server.push(list(json!([
            organization(),
            member("m2", "222222222222", MANAGEMENT)
        ])));
    }
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorMembersDataSource
        .read(&clients, &config(Some(2), Some("40s")), &mut diags)
        .await;
    assert!(state.is_none());
    let d = diags.iter().next().expect("an error");
    assert_eq!(d.summary, "Member connectors missing");
    assert_eq!(d.attribute, Some(AttrPath::root("wait_for_count")));
    assert!(
        d.detail.contains("org has 1 member connectors after 30s"),
        "{}",
        d.detail
    );
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn a_connector_that_is_not_an_organization_or_bad_input_is_reported_on_the_attribute() {
    let server = MockServer::start().await;
    let clients = ProviderClients::with_azure_client(mock_client(&server));
    server.push(Reply::json(200, connector("org", MANAGEMENT, Json::Null)));
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorMembersDataSource
        .read(&clients, &config(None, None), &mut diags)
        .await;
    assert!(state.is_none());
    let d = diags.iter().next().expect("an error");
    assert_eq!(d.summary, "Not an organization connector");
    assert_eq!(
        d.attribute,
        Some(AttrPath::root("organization_connector_id"))
    );

    let mut diags = Diagnostics::new();
    let bad = config(Some(-1), Some("soon")).with_attr("organization_connector_id", "org");
    SecurityConnectorMembersDataSource.validate(&bad, &mut diags);
    let paths: Vec<_> = diags.iter().filter_map(|d| d.attribute.clone()).collect();
    assert_eq!(
        paths,
        [
            AttrPath::root("organization_connector_id"),
            AttrPath::root("wait_for_count"),
            AttrPath::root("wait_timeout")
        ]
    );
}
