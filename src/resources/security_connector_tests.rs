//! The resource against a loopback mock of ARM: which calls each operation makes, what it sends,
//! and the diagnostics it gives.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value as Json, json};

use super::*;
use crate::azure::list::tests::mock_client;
use crate::http::mock_server::{MockServer, Reply};
use crate::protocol::json;

const SUB: &str = crate::azure::list::tests::MOCK_SUBSCRIPTION;
const ID: &str = "/subscriptions/00000000-0000-0000-0000-00000000000a/resourceGroups/rg-sec/providers/Microsoft.Security/securityConnectors/aws-prod";
const OFFERINGS: &str = r#"[{"nativeCloudConnection":{"cloudRoleArn":"<role_arn:cspm_monitor>"},"offeringType":"CspmMonitorAws"}]"#;
const CSPM_ARN: &str = "arn:aws:iam::123456789012:role/CspmMonitorAws";

/// A configuration (and plan) with every attribute present, as Terraform sends it.
fn config() -> Value {
    let ty = SecurityConnectorResource.schema().value_type();
    let mut v = json::decode(b"{}", &ty).unwrap();
    for (k, val) in [
        ("name", Value::from("aws-prod")),
        ("resource_group_name", Value::from("rg-sec")),
        ("location", Value::from("westeurope")),
        ("aws_account_id", Value::from("123456789012")),
        ("offerings", Value::from(OFFERINGS)),
        (
            "role_arns",
            Value::map([("cspm_monitor", Value::from(CSPM_ARN))]),
        ),
    ] {
        v.set_attr(k, val);
    }
    v
}

fn planned() -> Value {
    config()
        .with_attr("id", ID)
        .with_attr("scan_interval_hours", Value::Unknown)
}

fn registered() -> Reply {
    Reply::json(
        200,
        json!({"namespace": "Microsoft.Security", "registrationState": "Registered"}),
    )
}

fn not_found() -> Reply {
    Reply::json(
        404,
        json!({"error": {"code": "ResourceNotFound", "message": "not found"}}),
    )
}

fn connector(id: &str, account: &str) -> Json {
    json!({
        "id": id, "name": id.rsplit('/').next().unwrap_or_default(),
        "location": "westeurope",
        "properties": {"hierarchyIdentifier": account, "environmentName": "AWS",
            "environmentData": {"environmentType": "AwsAccount", "scanInterval": 4},
            "offerings": [{"offeringType": "CspmMonitorAws",
                "nativeCloudConnection": {"cloudRoleArn": CSPM_ARN}}]}
    })
}

async fn setup() -> (MockServer, ProviderClients) {
    let server = MockServer::start().await;
    let clients = ProviderClients::with_azure_client(mock_client(&server));
    (server, clients)
}

fn methods_and_paths(server: &MockServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| {
            let path = r.target.split('?').next().unwrap_or_default().to_owned();
            format!("{} {path}", r.method)
        })
        .collect()
}

#[tokio::test]
async fn create_registers_checks_and_puts_the_filled_offerings() {
    let (server, clients) = setup().await;
    server.push(registered());
    server.push(not_found());
    server.push(Reply::json(
        200,
        json!({"value": [connector("/subscriptions/00000000-0000-0000-0000-00000000000a/resourceGroups/other/providers/Microsoft.Security/securityConnectors/gcp", "999999999999")]}),
    ));
    server.push(Reply::json(201, connector(ID, "123456789012")));
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorResource
        .create(&clients, &planned(), &mut diags)
        .await;
    assert!(diags.is_empty(), "{diags:?}");
    let state = state.expect("state");
    assert_eq!(state.get("id").as_str(), Some(ID));
    assert_eq!(state.get("scan_interval_hours").as_i64(), Some(4));
    assert_eq!(state.get("offerings").as_str(), Some(OFFERINGS));
    assert_eq!(
        methods_and_paths(&server),
        [
            "GET /subscriptions/00000000-0000-0000-0000-00000000000a/providers/Microsoft.Security",
            &format!("GET {ID}"),
            "GET /subscriptions/00000000-0000-0000-0000-00000000000a/providers/Microsoft.Security/securityConnectors",
            &format!("PUT {ID}"),
        ]
    );
    let put = &server.requests()[3];
    assert!(put.target.ends_with("?api-version=2024-08-01-preview"));
    let body: Json = serde_json::from_str(&put.body).unwrap();
    assert_eq!(
        body["properties"]["offerings"][0]["nativeCloudConnection"]["cloudRoleArn"],
        CSPM_ARN
    );
    assert_eq!(body["properties"]["hierarchyIdentifier"], "123456789012");
    assert!(
        body["properties"]["environmentData"]
            .get("scanInterval")
            .is_none(),
        "an interval not configured is left to Azure: {body}"
    );
}

#[tokio::test]
async fn create_over_an_existing_connector_asks_for_an_import() {
    let (server, clients) = setup().await;
    server.push(registered());
    server.push(Reply::json(200, connector(ID, "123456789012")));
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorResource
        .create(&clients, &planned(), &mut diags)
        .await;
    assert!(state.is_none());
    let d = diags.iter().next().expect("an error");
    assert!(
        d.detail
            .contains("already exists - to be managed via Terraform")
    );
    assert!(
        d.detail.contains(&format!(
            "terraform import multicloud_security_connector.<name> {ID}"
        )),
        "{}",
        d.detail
    );
    assert!(server.requests().iter().all(|r| r.method == "GET"));
}

#[tokio::test]
async fn create_for_an_account_another_connector_has_names_it() {
    let (server, clients) = setup().await;
    let other = "/subscriptions/00000000-0000-0000-0000-00000000000a/resourceGroups/rg-old/providers/Microsoft.Security/securityConnectors/legacy-aws";
    server.push(registered());
    server.push(not_found());
    server.push(Reply::json(
        200,
        json!({"value": [connector(other, "123456789012")]}),
    ));
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorResource
        .create(&clients, &planned(), &mut diags)
        .await;
    assert!(state.is_none());
    let d = diags.iter().next().expect("an error");
    assert_eq!(d.summary, "AWS account already connected");
    assert_eq!(d.attribute, Some(AttrPath::root("aws_account_id")));
    for part in ["\"legacy-aws\"", other, "only once"] {
        assert!(d.detail.contains(part), "{part}: {}", d.detail);
    }
    assert!(server.requests().iter().all(|r| r.method == "GET"));
}

#[tokio::test]
async fn apply_time_checks_catch_what_was_unknown_at_plan() {
    let (server, clients) = setup().await;
    // The trust's map arrived without the key the offerings need.
    let plan = planned().with_attr("role_arns", Value::map([("ciem", Value::from(CSPM_ARN))]));
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorResource
        .create(&clients, &plan, &mut diags)
        .await;
    assert!(state.is_none());
    let d = diags.iter().next().expect("an error");
    assert_eq!(d.summary, "Missing role ARN");
    assert!(d.detail.contains("CspmMonitorAws"), "{}", d.detail);
    assert!(server.requests().is_empty(), "nothing is written");
}

#[tokio::test]
async fn read_refreshes_and_drops_a_deleted_connector() {
    let (server, clients) = setup().await;
    let mut remote = connector(ID, "123456789012");
    remote["properties"]["environmentData"]["scanInterval"] = json!(24);
    server.push(Reply::json(200, remote));
    server.push(not_found());
    let prior = planned().with_attr("scan_interval_hours", 4_i64);
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorResource
        .read(&clients, &prior, &mut diags)
        .await
        .expect("still there");
    assert_eq!(state.get("scan_interval_hours").as_i64(), Some(24));
    assert_eq!(state.get("offerings").as_str(), Some(OFFERINGS));
    let gone = SecurityConnectorResource
        .read(&clients, &prior, &mut diags)
        .await;
    assert!(gone.is_none() && diags.is_empty(), "{diags:?}");
}

#[tokio::test]
async fn read_refuses_a_connector_of_another_cloud() {
    let (server, clients) = setup().await;
    let mut remote = connector(ID, "123456789012");
    remote["properties"]["environmentName"] = json!("GCP");
    remote["properties"]["environmentData"] = json!({"environmentType": "GcpProject"});
    server.push(Reply::json(200, remote));
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorResource
        .read(&clients, &planned(), &mut diags)
        .await;
    assert!(state.is_none());
    assert_eq!(
        diags.iter().next().map(|d| d.summary.as_str()),
        Some("Not an AWS connector")
    );
}

#[tokio::test]
async fn delete_of_a_missing_connector_succeeds() {
    let (server, clients) = setup().await;
    server.push(not_found());
    let mut diags = Diagnostics::new();
    SecurityConnectorResource
        .delete(&clients, &planned(), &mut diags)
        .await;
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(methods_and_paths(&server), [format!("DELETE {ID}")]);
}

#[tokio::test]
async fn a_missing_resource_group_points_at_the_attribute() {
    let (server, clients) = setup().await;
    let prior = planned().with_attr("scan_interval_hours", 4_i64);
    server.push(Reply::json(
        404,
        json!({"error": {"code": "ResourceGroupNotFound", "message": "Resource group 'rg-sec' could not be found."}}),
    ));
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorResource
        .update(&clients, &prior, &prior, &mut diags)
        .await;
    assert!(state.is_none());
    let d = diags.iter().next().expect("an error");
    assert_eq!(d.attribute, Some(AttrPath::root("resource_group_name")));
}

#[tokio::test]
async fn import_takes_an_arm_id_and_explains_a_malformed_one() {
    let (_server, clients) = setup().await;
    let mut diags = Diagnostics::new();
    let state = SecurityConnectorResource
        .import(&clients, &ID.to_ascii_lowercase(), &mut diags)
        .await
        .expect("imported");
    assert_eq!(state.get("name").as_str(), Some("aws-prod"));
    assert_eq!(state.get("resource_group_name").as_str(), Some("rg-sec"));
    assert!(state.get("offerings").is_null());
    let bad = SecurityConnectorResource
        .import(&clients, "aws-prod", &mut diags)
        .await;
    assert!(bad.is_none());
    let d = diags.iter().next().expect("an error");
    assert!(
        d.detail
            .contains("terraform import multicloud_security_connector.prod /subscriptions/")
    );
}

#[tokio::test]
async fn plan_knows_the_id_and_treats_a_respelled_region_as_the_same() {
    let (_server, clients) = setup().await;
    let mut ctx = PlanContext {
        prior: None,
        config: config(),
        planned: config().with_attr("id", Value::Unknown),
        requires_replace: Vec::new(),
    };
    let mut diags = Diagnostics::new();
    SecurityConnectorResource
        .modify_plan(Some(&clients), &mut ctx, &mut diags)
        .await;
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(ctx.planned.get("id").as_str(), Some(ID));
    assert!(ID.contains(SUB));

    let prior = planned().with_attr("scan_interval_hours", 4_i64);
    let respelled = config().with_attr("location", "West Europe");
    let mut ctx = PlanContext {
        prior: Some(prior.clone()),
        config: respelled.clone(),
        planned: respelled,
        requires_replace: vec![AttrPath::root("location")],
    };
    SecurityConnectorResource
        .modify_plan(Some(&clients), &mut ctx, &mut diags)
        .await;
    assert!(ctx.requires_replace.is_empty());
    let moved = config().with_attr("location", "eastus");
    let mut ctx = PlanContext {
        prior: Some(prior),
        config: moved.clone(),
        planned: moved,
        requires_replace: vec![AttrPath::root("location")],
    };
    SecurityConnectorResource
        .modify_plan(Some(&clients), &mut ctx, &mut diags)
        .await;
    assert_eq!(ctx.requires_replace, vec![AttrPath::root("location")]);
}
