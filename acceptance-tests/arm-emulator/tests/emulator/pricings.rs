//! `Microsoft.Security/pricings` and the role-assignment reads over HTTPS: every plan `Free` on
//! a new subscription, PUT validated with ARM's error shape and answered with the service's
//! fields, the methods and api-versions the type serves, and the admin API's view.

use arm_emulator::config::DEFAULT_CLIENT_ID;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{Env, claims, env};

const API: &str = "api-version=2024-01-01";

fn path(env: &Env, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Security/pricings{name}?{API}",
        env.sub()
    )
}

fn names_and_tiers(list: &Value) -> Vec<(String, String)> {
    list["value"]
        .as_array()
        .unwrap_or_else(|| panic!("no value array: {list}"))
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_string(),
                p["properties"]["pricingTier"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_new_subscription_lists_every_plan_free_once_registered() {
    let env = env().await;
    let (s, b) = env.call(Method::GET, &path(&env, ""), None).await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["error"]["code"], "MissingSubscriptionRegistration");

    env.registered("Microsoft.Security").await;
    let (s, list) = env.call(Method::GET, &path(&env, ""), None).await;
    assert_eq!(s, 200, "{list}");
    let all = names_and_tiers(&list);
    assert_eq!(all.len(), 16);
    assert!(all.iter().all(|(_, tier)| tier == "Free"), "{all:?}");
    assert!(all.iter().any(|(n, _)| n == "SqlServerVirtualMachines"));

    let filtered = format!(
        "{}/providers/Microsoft.Security/pricings?{API}&$filter=name%20in%20(VirtualMachines,CloudPosture)",
        env.sub()
    );
    let (_, list) = env.call(Method::GET, &filtered, None).await;
    let names: Vec<String> = names_and_tiers(&list).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["VirtualMachines", "CloudPosture"]);

    let (s, one) = env
        .call(Method::GET, &path(&env, "/virtualmachines"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(one["name"], "VirtualMachines");
    assert_eq!(
        one["id"],
        format!(
            "{}/providers/Microsoft.Security/pricings/VirtualMachines",
            env.sub()
        )
    );
    let (s, b) = env.call(Method::GET, &path(&env, "/Servers"), None).await;
    assert_eq!(s, 404, "{b}");
}

#[tokio::test]
async fn switching_a_plan_on_is_validated_and_answered_with_the_service_fields() {
    let env = env().await;
    env.registered("Microsoft.Security").await;
    let vm = path(&env, "/VirtualMachines");
    let (s, b) = env
        .call(
            Method::PUT,
            &vm,
            Some(json!({"properties": {"pricingTier": "Standard", "subPlan": "P3"}})),
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["target"], "properties.subPlan");
    let (s, b) = env
        .call(
            Method::PUT,
            &vm,
            Some(json!({"properties": {"pricingTier": "On"}})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(b["error"]["code"], "HttpPayloadAPISpecValidationFailed");

    let (s, on) = env
        .call(
            Method::PUT,
            &vm,
            Some(
                json!({"properties": {"pricingTier": "Standard", "subPlan": "P2",
                "freeTrialRemainingTime": "P99D"}}),
            ),
        )
        .await;
    assert_eq!(s, 200, "the plan existed already: {on}");
    let p = &on["properties"];
    assert_eq!(p["subPlan"], "P2");
    assert_eq!(
        p["freeTrialRemainingTime"], "P30D",
        "read-only input ignored"
    );
    assert_eq!(p["resourcesCoverageStatus"], "FullyCovered");
    assert!(on.get("systemData").is_none());
    let (_, read) = env.call(Method::GET, &vm, None).await;
    assert_eq!(read, on);
    let (_, list) = env.call(Method::GET, &path(&env, ""), None).await;
    assert!(names_and_tiers(&list).contains(&("VirtualMachines".into(), "Standard".into())));

    for method in [Method::PATCH, Method::DELETE] {
        let (s, _) = env.call(method.clone(), &vm, Some(json!({}))).await;
        assert_eq!(s, 405, "{method}");
    }
    let old = vm.replace(API, "api-version=2023-01-01");
    let (s, b) = env.call(Method::GET, &old, None).await;
    assert_eq!(s, 400);
    assert_eq!(b["error"]["code"], "NoRegisteredProviderFound");
}

#[tokio::test]
async fn the_admin_api_reads_and_writes_plans_like_someone_in_the_portal() {
    let env = env().await;
    let (s, b) = env
        .admin(
            Method::PUT,
            "/pricings/sqlservervirtualmachines",
            Some(json!({"properties": {"pricingTier": "Standard"}})),
        )
        .await;
    assert_eq!(s, 200, "no registration needed: {b}");
    assert_eq!(b["name"], "SqlServerVirtualMachines");
    let (s, b) = env
        .admin(
            Method::PUT,
            "/pricings/VirtualMachines",
            Some(json!({"properties": {"pricingTier": "Standard", "subPlan": "P9"}})),
        )
        .await;
    assert_eq!(s, 400, "{b}");
    let (_, b) = env
        .admin(Method::GET, "/pricings/SqlServerVirtualMachines", None)
        .await;
    assert_eq!(b["properties"]["pricingTier"], "Standard");
    let (_, b) = env
        .admin(Method::GET, "/pricings/VirtualMachines", None)
        .await;
    assert_eq!(b["properties"]["pricingTier"], "Free");
    let (s, _) = env.admin(Method::GET, "/pricings/Nope", None).await;
    assert_eq!(s, 404);

    let (_, log) = env
        .admin(Method::GET, "/requests?path_contains=pricings", None)
        .await;
    let pricing_calls = log["value"]
        .as_array()
        .unwrap_or_else(|| panic!("no request log: {log}"))
        .len();
    assert_eq!(pricing_calls, 0, "admin calls are not ARM calls: {log}");
}

#[tokio::test]
async fn the_caller_is_owner_until_given_other_roles() {
    let env = env().await;
    let oid = claims(&env.token)["oid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mine = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope()%20and%20assignedTo('{oid}')",
        env.sub()
    );
    let role_ids = |b: &Value| -> Vec<String> {
        b["value"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["properties"]["roleDefinitionId"].as_str())
                    .map(|id| id.rsplit('/').next().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (s, b) = env.call(Method::GET, &mine, None).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(role_ids(&b), ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635"]);
    assert_eq!(b["value"][0]["properties"]["principalId"], oid.as_str());

    let (s, _) = env
        .admin(
            Method::PUT,
            &format!("/roles/{DEFAULT_CLIENT_ID}"),
            Some(json!({"roles": ["Contributor", "Reader"]})),
        )
        .await;
    assert_eq!(s, 204);
    let (_, b) = env.call(Method::GET, &mine, None).await;
    let ids = role_ids(&b);
    assert_eq!(ids.len(), 2);
    let definition = format!(
        "{}/providers/Microsoft.Authorization/roleDefinitions/{}?api-version=2022-04-01",
        env.sub(),
        ids[0]
    );
    let (s, d) = env.call(Method::GET, &definition, None).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["properties"]["roleName"], "Contributor");
    assert!(
        d["properties"]["permissions"][0]["notActions"]
            .as_array()
            .is_some_and(|n| n.iter().any(|a| a == "Microsoft.Authorization/*/Write"))
    );
    let (s, _) = env
        .admin(
            Method::PUT,
            &format!("/roles/{DEFAULT_CLIENT_ID}"),
            Some(json!({"roles": ["Boss"]})),
        )
        .await;
    assert_eq!(s, 400);
    let other = mine.replace(&oid, "00000000-0000-0000-0000-000000000000");
    let (_, b) = env.call(Method::GET, &other, None).await;
    assert!(role_ids(&b).is_empty());
}
