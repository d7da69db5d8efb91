//! Resource providers, resource groups, the generic resource store and the behaviour hook.

use std::sync::Arc;

use arm_emulator::{ArmError, ResourceBehaviour, WriteContext};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{API, env, env_with};

#[tokio::test]
async fn provider_registration_goes_through_registering() {
    let env = env().await;
    let p = format!("{}/providers/Microsoft.Security?{API}", env.sub());
    let (s, b) = env.call(Method::GET, &p, None).await;
    assert_eq!(
        (s, b["registrationState"].as_str()),
        (200, Some("NotRegistered"))
    );
    assert_eq!(b["namespace"], "Microsoft.Security");

    let reg = format!("{}/providers/microsoft.security/register?{API}", env.sub());
    let (s, b) = env.call(Method::POST, &reg, None).await;
    assert_eq!(
        (s, b["registrationState"].as_str()),
        (200, Some("Registering"))
    );
    assert_eq!(b["namespace"], "Microsoft.Security", "canonical casing");
    let (_, b) = env.call(Method::GET, &p, None).await;
    assert_eq!(b["registrationState"], "Registering");
    let (_, b) = env.call(Method::GET, &p, None).await;
    assert_eq!(b["registrationState"], "Registered");

    let (s, b) = env
        .call(Method::GET, &format!("{}/providers?{API}", env.sub()), None)
        .await;
    assert_eq!(s, 200);
    let states: Vec<(String, String)> = b["value"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p["namespace"].as_str().unwrap_or_default().to_string(),
                        p["registrationState"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(states.contains(&("Microsoft.Security".into(), "Registered".into())));
    assert!(states.contains(&("Microsoft.HybridCompute".into(), "NotRegistered".into())));
    assert!(states.contains(&("Microsoft.Resources".into(), "Registered".into())));

    let (s, b) = env
        .call(
            Method::POST,
            &format!(
                "{}/providers/Microsoft.Security/unregister?{API}",
                env.sub()
            ),
            None,
        )
        .await;
    assert_eq!(
        (s, b["registrationState"].as_str()),
        (200, Some("NotRegistered"))
    );
    let (s, b) = env
        .call(
            Method::GET,
            &format!("{}/providers/Contoso.Nothing?{API}", env.sub()),
            None,
        )
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (404, Some("InvalidResourceNamespace"))
    );
}

#[tokio::test]
async fn register_delay_is_configurable() {
    let env = env_with(|c| c.register_delay_polls = 3).await;
    let p = format!("{}/providers/Microsoft.HybridCompute?{API}", env.sub());
    env.call(
        Method::POST,
        &format!(
            "{}/providers/Microsoft.HybridCompute/register?{API}",
            env.sub()
        ),
        None,
    )
    .await;
    let mut seen = Vec::new();
    for _ in 0..4 {
        let (_, b) = env.call(Method::GET, &p, None).await;
        seen.push(
            b["registrationState"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    assert_eq!(
        seen,
        ["Registering", "Registering", "Registering", "Registered"]
    );
}

#[tokio::test]
async fn writes_need_a_registered_namespace_and_an_existing_group() {
    let env = env().await;
    let id = format!(
        "{}/resourceGroups/rg1/providers/Microsoft.Security/securityConnectors/c1?{API}",
        env.sub()
    );
    let (s, b) = env
        .call(
            Method::PUT,
            &id,
            Some(crate::connector_body("123456789012")),
        )
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (409, Some("MissingSubscriptionRegistration")),
        "{b}"
    );
    let msg = b["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("namespace 'Microsoft.Security'"), "{msg}");

    env.registered("Microsoft.Security").await;
    let (s, b) = env
        .call(
            Method::PUT,
            &id,
            Some(crate::connector_body("123456789012")),
        )
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (404, Some("ResourceGroupNotFound"))
    );
    let (s, _) = env
        .call(
            Method::HEAD,
            &format!("{}/resourcegroups/rg1?api-version=2021-04-01", env.sub()),
            None,
        )
        .await;
    assert_eq!(s, 404);
    env.resource_group("rg1").await;
    let (s, _) = env
        .call(
            Method::HEAD,
            &format!("{}/resourcegroups/RG1?api-version=2021-04-01", env.sub()),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = env
        .call(
            Method::PUT,
            &id,
            Some(crate::connector_body("123456789012")),
        )
        .await;
    assert_eq!(s, 201);
}

#[tokio::test]
async fn put_get_patch_list_delete() {
    let env = env().await;
    env.registered("Microsoft.HybridCompute").await;
    env.resource_group("Demo-RG").await;
    let base = format!(
        "{}/resourcegroups/demo-rg/providers/microsoft.hybridcompute/machines",
        env.sub()
    );
    let path = format!("{base}/conn1?{API}");
    let body = json!({"location": "westeurope", "tags": {"a": "1"}, "properties": {"hostType": "AWS", "awsCloudProfile": {"accountId": "123456789012"}}});
    let resp = env
        .arm(Method::PUT, &path)
        .header("x-ms-correlation-request-id", "corr-1")
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        resp.headers()
            .get("x-ms-correlation-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("corr-1")
    );
    assert!(resp.headers().contains_key("x-ms-request-id"));
    let (s, created) = crate::read(resp).await;
    assert_eq!(s, 201, "{created}");
    let id = format!(
        "{}/resourceGroups/Demo-RG/providers/Microsoft.HybridCompute/machines/conn1",
        env.sub()
    );
    assert_eq!(
        created["id"], id,
        "canonical casing of the keywords, group and namespace"
    );
    assert_eq!(created["name"], "conn1");
    assert_eq!(created["type"], "Microsoft.HybridCompute/machines");
    assert_eq!(created["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        created["properties"]["awsCloudProfile"]["accountId"],
        "123456789012"
    );
    assert_eq!(
        created["systemData"]["createdBy"],
        arm_emulator::config::DEFAULT_CLIENT_ID
    );

    let (s, replaced) = env.call(Method::PUT, &path, Some(body.clone())).await;
    assert_eq!(s, 200);
    assert_eq!(
        replaced["systemData"]["createdAt"],
        created["systemData"]["createdAt"]
    );

    let (s, patched) = env
        .call(
            Method::PATCH,
            &path,
            Some(json!({"tags": {"b": "2"}, "properties": {"hostType": "AWS2"}})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(patched["tags"], json!({"a": "1", "b": "2"}));
    assert_eq!(patched["properties"]["hostType"], "AWS2");
    assert_eq!(
        patched["properties"]["awsCloudProfile"]["accountId"],
        "123456789012"
    );
    let (_, got) = env.call(Method::GET, &path, None).await;
    assert_eq!(got, patched);

    // Children need their parent; child ids nest under it.
    let child = format!("{base}/nope/settings/s1?{API}");
    let (s, b) = env.call(Method::PUT, &child, Some(json!({}))).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (404, Some("ParentResourceNotFound"))
    );
    let child = format!("{base}/conn1/settings/s1?{API}");
    let (s, b) = env
        .call(Method::PUT, &child, Some(json!({"properties": {}})))
        .await;
    assert_eq!(s, 201);
    assert_eq!(b["type"], "Microsoft.HybridCompute/machines/settings");

    // Paging: three connectors, pages of two.
    for n in ["conn2", "conn3"] {
        env.call(
            Method::PUT,
            &format!("{base}/{n}?{API}"),
            Some(body.clone()),
        )
        .await;
    }
    env.admin(Method::PUT, "/settings", Some(json!({"page_size": 2})))
        .await;
    let (s, page1) = env.call(Method::GET, &format!("{base}?{API}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(page1["value"].as_array().map(Vec::len), Some(2));
    let next = page1["nextLink"]
        .as_str()
        .unwrap_or_else(|| panic!("nextLink expected: {page1}"));
    let resp = env
        .http
        .get(next)
        .bearer_auth(&env.token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, page2) = crate::read(resp).await;
    assert_eq!(page2["value"].as_array().map(Vec::len), Some(1));
    assert!(page2.get("nextLink").is_none());
    let mut names: Vec<Value> = page1["value"]
        .as_array()
        .into_iter()
        .chain(page2["value"].as_array())
        .flatten()
        .map(|v| v["name"].clone())
        .collect();
    names.sort_by_key(|v| v.to_string());
    assert_eq!(names, [json!("conn1"), json!("conn2"), json!("conn3")]);
    // Subscription-wide list sees the same type.
    let (_, all) = env
        .call(
            Method::GET,
            &format!(
                "{}/providers/Microsoft.HybridCompute/machines?{API}",
                env.sub()
            ),
            None,
        )
        .await;
    assert_eq!(
        all["value"].as_array().map(Vec::len),
        Some(2),
        "first page of three"
    );

    let (s, _) = env.call(Method::DELETE, &path, None).await;
    assert_eq!(s, 200);
    let (s, _) = env.call(Method::DELETE, &path, None).await;
    assert_eq!(s, 204);
    let (s, b) = env.call(Method::GET, &path, None).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (404, Some("ResourceNotFound"))
    );
    let (s, _) = env.call(Method::GET, &child, None).await;
    assert_eq!(s, 404, "children go with their parent");
    let (s, b) = env.call(Method::PATCH, &path, Some(json!({}))).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (404, Some("ResourceNotFound"))
    );
}

#[tokio::test]
async fn disappears_through_the_admin_api_and_inventory_shows_the_store() {
    let env = env().await;
    env.registered("Microsoft.Security").await;
    env.resource_group("rg").await;
    let id = format!(
        "{}/resourceGroups/rg/providers/Microsoft.Security/securityConnectors/c1",
        env.sub()
    );
    let (s, b) = env
        .call(
            Method::PUT,
            &format!("{id}?{API}"),
            Some(crate::connector_body("123456789012")),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (_, inv) = env.admin(Method::GET, "/resources", None).await;
    assert_eq!(inv["value"][0]["id"], id);
    assert_eq!(inv["value"][0]["body"]["name"], "c1");
    assert_eq!(inv["resourceGroups"][0]["name"], "rg");

    let (s, _) = env
        .admin(
            Method::DELETE,
            &format!("/resources{}", id.to_lowercase()),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = env.call(Method::GET, &format!("{id}?{API}"), None).await;
    assert_eq!(s, 404);
    let (s, _) = env
        .admin(Method::DELETE, &format!("/resources{id}"), None)
        .await;
    assert_eq!(s, 404);
    let (_, inv) = env.admin(Method::GET, "/resources", None).await;
    assert_eq!(inv["value"], json!([]));

    let (s, _) = env.admin(Method::POST, "/reset", None).await;
    assert_eq!(s, 204);
    let (_, inv) = env.admin(Method::GET, "/resources", None).await;
    assert_eq!(inv["resourceGroups"], json!([]));
    let (_, b) = env
        .call(
            Method::GET,
            &format!("{}/providers/Microsoft.Security?{API}", env.sub()),
            None,
        )
        .await;
    assert_eq!(
        b["registrationState"], "NotRegistered",
        "reset restores the initial states"
    );
}

/// Requires `properties.hierarchyIdentifier` and fills a read-only field.
struct NeedsHierarchy;

impl ResourceBehaviour for NeedsHierarchy {
    fn validate(&self, _ctx: &WriteContext<'_>, body: &Value) -> Result<(), ArmError> {
        if body
            .pointer("/properties/hierarchyIdentifier")
            .and_then(Value::as_str)
            .is_none()
        {
            return Err(ArmError::bad_request(
                "InvalidRequestContent",
                "hierarchyIdentifier is required",
                Some("properties.hierarchyIdentifier"),
            ));
        }
        Ok(())
    }

    fn on_write(&self, ctx: &WriteContext<'_>, body: &mut Value) {
        body["properties"]["seenApiVersion"] = json!(ctx.api_version);
    }
}

#[tokio::test]
async fn behaviour_hooks_validate_per_type() {
    let env = env_with(|c| {
        c.behaviours.register(
            "microsoft.security/SECURITYCONNECTORS",
            Arc::new(NeedsHierarchy),
        )
    })
    .await;
    env.registered("Microsoft.Security").await;
    env.resource_group("rg").await;
    let path = format!(
        "{}/resourceGroups/rg/providers/Microsoft.Security/securityConnectors/c1?{API}",
        env.sub()
    );
    let (s, b) = env
        .call(Method::PUT, &path, Some(json!({"properties": {}})))
        .await;
    assert_eq!(s, 400);
    assert_eq!(b["error"]["target"], "properties.hierarchyIdentifier");
    let (s, b) = env
        .call(
            Method::PUT,
            &path,
            Some(json!({"properties": {"hierarchyIdentifier": "123456789012"}})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["properties"]["seenApiVersion"], "2024-08-01-preview");
    // PATCH validates the merged body.
    let (s, _) = env
        .call(
            Method::PATCH,
            &path,
            Some(json!({"properties": {"hierarchyIdentifier": null}})),
        )
        .await;
    assert_eq!(s, 400);
    // Other types are untouched by the hook.
    let other = format!(
        "{}/resourceGroups/rg/providers/Microsoft.Security/automations/a1?{API}",
        env.sub()
    );
    let (s, _) = env
        .call(Method::PUT, &other, Some(json!({"properties": {}})))
        .await;
    assert_eq!(s, 201);
}

#[tokio::test]
async fn resource_group_delete_is_a_location_lro_that_removes_contents() {
    let env = env().await;
    env.registered("Microsoft.Security").await;
    env.resource_group("gone").await;
    let res = format!(
        "{}/resourceGroups/gone/providers/Microsoft.Security/securityConnectors/c?{API}",
        env.sub()
    );
    let (s, b) = env
        .call(
            Method::PUT,
            &res,
            Some(crate::connector_body("123456789012")),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let resp = env
        .arm(
            Method::DELETE,
            &format!("{}/resourcegroups/gone?api-version=2021-04-01", env.sub()),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 202);
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let location = location.unwrap_or_else(|| panic!("Location header expected"));
    let resp = env
        .http
        .get(&location)
        .bearer_auth(&env.token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 204);
    let (s, b) = env
        .call(
            Method::GET,
            &format!("{}/resourcegroups/gone?api-version=2021-04-01", env.sub()),
            None,
        )
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (404, Some("ResourceGroupNotFound"))
    );
    let (_, inv) = env.admin(Method::GET, "/resources", None).await;
    assert_eq!(inv["value"], json!([]));
}
