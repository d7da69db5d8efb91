//! The subscription-scoped calls against a loopback mock server: pricings, the role-assignment
//! check, and registration on a subscription other than the provider's.

use super::claims::tests::jwt;
use super::credential::tests::StaticCredential;
use super::*;
use crate::http::mock_server::{MockServer, Reply};
use serde_json::json;
use std::time::Duration;

const SUB: &str = "22222222-2222-4222-8222-222222222222";

fn client(server: &MockServer) -> ArmClient {
    let cfg = AzureConfig {
        subscription_id: Some("provider-sub".into()),
        endpoints: AzureEndpoints {
            resource_manager: server.base_url.clone(),
            ..Default::default()
        },
        ..Default::default()
    };
    let token = jwt(&json!({"tid": "t", "oid": "me-oid", "appid": "app"}));
    ArmClient::with_credential(
        cfg,
        StaticCredential::new(&token, Duration::from_secs(3600)),
    )
    .unwrap()
}

#[tokio::test]
async fn pricings_are_read_and_written_on_the_given_subscription() {
    let server = MockServer::start().await;
    server.push(Reply::json(
        200,
        json!({"value": [{"name": "VirtualMachines", "properties": {"pricingTier": "Free"}}]}),
    ));
    server.push(Reply::json(
        404,
        json!({"error": {"code": "NotFound", "message": "no such plan"}}),
    ));
    server.push(Reply::json(
        200,
        json!({"name": "VirtualMachines", "properties": {"pricingTier": "Standard", "subPlan": "P2"}}),
    ));
    let c = client(&server);
    let all = c.pricings(SUB).await.unwrap();
    assert_eq!(all[0].properties.pricing_tier, "Free");
    assert!(c.pricing(SUB, "Nope").await.unwrap().is_none());
    let put = c
        .put_pricing(
            SUB,
            "VirtualMachines",
            &Pricing::update("Standard", Some("P2"), vec![]),
        )
        .await
        .unwrap();
    assert_eq!(put.properties.sub_plan.as_deref(), Some("P2"));
    let reqs = server.requests();
    let base = format!("/subscriptions/{SUB}/providers/Microsoft.Security/pricings");
    assert_eq!(reqs[0].target, format!("{base}?api-version=2024-01-01"));
    assert_eq!(
        reqs[1].target,
        format!("{base}/Nope?api-version=2024-01-01")
    );
    assert_eq!(reqs[2].method, "PUT");
    let body: serde_json::Value = serde_json::from_str(&reqs[2].body).unwrap();
    assert_eq!(
        body,
        json!({"properties": {"pricingTier": "Standard", "subPlan": "P2"}})
    );
}

fn assignment(role_guid: &str) -> serde_json::Value {
    json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"),
        "scope": format!("/subscriptions/{SUB}"), "principalId": "me-oid"}})
}

#[tokio::test]
async fn owner_is_recognised_without_reading_its_definition() {
    let server = MockServer::start().await;
    server.push(Reply::json(
        200,
        json!({"value": [assignment("acdd72a7-3385-48ef-bd42-f606fba81ae7")],
               "nextLink": format!("{}/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$skiptoken=2", server.base_url)}),
    ));
    server.push(Reply::json(
        200,
        json!({"value": [assignment("8e3af657-a8ff-443c-a75c-2fe8c4bcb635")]}),
    ));
    assert!(client(&server).may_assign_roles(SUB).await.unwrap());
    let reqs = server.requests();
    assert_eq!(
        reqs.len(),
        2,
        "the second page is followed, no definition read"
    );
    assert_eq!(
        reqs[0].target,
        format!(
            "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments\
             ?$filter=atScope()%20and%20assignedTo(%27me-oid%27)&api-version=2022-04-01"
        )
    );
}

#[tokio::test]
async fn other_roles_are_judged_by_their_definition() {
    let server = MockServer::start().await;
    let contributor = "b24988ac-6180-42a0-ab88-20f7382dd24c";
    server.push(Reply::json(
        200,
        json!({"value": [assignment(contributor)]}),
    ));
    server.push(Reply::json(
        200,
        json!({"properties": {"roleName": "Contributor", "permissions": [{"actions": ["*"],
            "notActions": ["Microsoft.Authorization/*/Write", "Microsoft.Authorization/*/Delete"]}]}}),
    ));
    assert!(!client(&server).may_assign_roles(SUB).await.unwrap());
    let reqs = server.requests();
    assert_eq!(
        reqs[1].target,
        format!(
            "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{contributor}?api-version=2022-04-01"
        )
    );
}

#[tokio::test]
async fn registration_on_another_subscription_is_checked_there_and_remembered() {
    let server = MockServer::start().await;
    server.push(Reply::json(
        200,
        json!({"namespace": "Microsoft.Security", "registrationState": "Registered"}),
    ));
    let c = client(&server);
    c.ensure_registered_on(SUB, &["Microsoft.Security"])
        .await
        .unwrap();
    c.ensure_registered_on(&SUB.to_uppercase(), &["microsoft.security"])
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].target,
        format!("/subscriptions/{SUB}/providers/Microsoft.Security?api-version=2021-04-01")
    );
}
