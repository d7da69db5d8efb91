//! `Microsoft.Security/securityConnectors` over HTTPS: schema validation with ARM's error shape,
//! the service's own checks, server-filled properties, list endpoints and api-version pinning.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{API, Env, connector_body, env};

const ACCOUNT: &str = "123456789012";

async fn ready() -> (Env, String) {
    let env = env().await;
    env.registered("Microsoft.Security").await;
    env.resource_group("rg").await;
    let path = format!(
        "{}/resourceGroups/rg/providers/Microsoft.Security/securityConnectors/aws-prod?{API}",
        env.sub()
    );
    (env, path)
}

/// Status, error code, target and message of a rejected PUT.
async fn rejected(env: &Env, path: &str, body: Value) -> (u16, String, String, String) {
    let (s, b) = env.call(Method::PUT, path, Some(body)).await;
    let text = |k: &str| b["error"][k].as_str().unwrap_or_default().to_string();
    (s, text("code"), text("target"), text("message"))
}

fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    if let Some(slot) = body.pointer_mut(pointer) {
        *slot = value;
    }
    body
}

#[tokio::test]
async fn schema_violations_are_rejected_with_the_path() {
    let (env, path) = ready().await;
    let base = connector_body(ACCOUNT);
    let cases = [
        (
            with(
                base.clone(),
                "/properties/offerings/0",
                json!({"offeringType": "CspmMonitorAws", "nativeCloudConection": {"cloudRoleArn": "arn:aws:iam::123456789012:role/R"}}),
            ),
            "ObjectAdditionalProperties",
            "properties.offerings[0].nativeCloudConection",
        ),
        (
            with(base.clone(), "/properties/environmentName", json!("Amazon")),
            "EnumMismatch",
            "properties.environmentName",
        ),
        (
            with(
                base.clone(),
                "/properties/environmentData",
                json!({"regions": ["us-east-1"]}),
            ),
            "ObjectMissingRequiredProperty",
            "properties.environmentData.environmentType",
        ),
        (
            with(
                base.clone(),
                "/properties/offerings/0/offeringType",
                json!("CspmMonitorAzure"),
            ),
            "DiscriminatorValueNotFound",
            "properties.offerings[0].offeringType",
        ),
        (
            with(
                base.clone(),
                "/properties/environmentData",
                json!({"environmentType": "AwsAccount", "scanInterval": "12"}),
            ),
            "InvalidType",
            "properties.environmentData.scanInterval",
        ),
        (
            with(
                base.clone(),
                "/properties/offerings/0",
                json!({"offeringType": "DefenderForServersAws", "vmScanners": {"enabled": true,
                    "configuration": {"scanningMode": "Default", "cloudRoleArn": "arn:aws:iam::123456789012:role/S"}}}),
            ),
            "ObjectAdditionalProperties",
            "properties.offerings[0].vmScanners.configuration.cloudRoleArn",
        ),
    ];
    for (body, code, target) in cases {
        let (s, c, t, m) = rejected(&env, &path, body).await;
        assert_eq!(s, 400, "{m}");
        assert_eq!(c, "HttpPayloadAPISpecValidationFailed", "{m}");
        assert_eq!(t, target, "{m}");
        assert!(m.contains(code) && m.contains(target), "{m}");
    }
    let (_, b) = env
        .call(
            Method::PUT,
            &path,
            Some(with(base, "/properties/environmentName", json!("aws"))),
        )
        .await;
    assert_eq!(b["error"]["details"][0]["code"], "EnumCaseMismatch", "{b}");
    let (_, inv) = env.admin(Method::GET, "/resources", None).await;
    assert_eq!(inv["value"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn service_checks_reject_inconsistent_connectors() {
    let (env, path) = ready().await;
    let base = connector_body(ACCOUNT);
    let (s, c, _, _) = rejected(&env, &path, json!({"properties": base["properties"]})).await;
    assert_eq!((s, c.as_str()), (400, "LocationRequired"));
    let cases = [
        (
            with(
                base.clone(),
                "/properties/hierarchyIdentifier",
                json!("12345"),
            ),
            "properties.hierarchyIdentifier",
        ),
        (
            with(
                base.clone(),
                "/properties/offerings/0/nativeCloudConnection/cloudRoleArn",
                json!("<role_arn:cspm_monitor>"),
            ),
            "properties.offerings[0].nativeCloudConnection.cloudRoleArn",
        ),
        (
            with(
                base.clone(),
                "/properties/environmentData",
                json!({"environmentType": "GcpProject"}),
            ),
            "properties.environmentData.environmentType",
        ),
        (
            with(
                base.clone(),
                "/properties/environmentData",
                json!({"environmentType": "AwsAccount", "scanInterval": 48}),
            ),
            "properties.environmentData.scanInterval",
        ),
        (
            with(
                base.clone(),
                "/properties/offerings",
                json!([base["properties"]["offerings"][0], {"offeringType": "CspmMonitorGcp"}]),
            ),
            "properties.offerings[1].offeringType",
        ),
        (
            with(
                base.clone(),
                "/properties/offerings",
                json!([
                    base["properties"]["offerings"][0],
                    base["properties"]["offerings"][0]
                ]),
            ),
            "properties.offerings[1].offeringType",
        ),
    ];
    for (body, target) in cases {
        let (s, c, t, m) = rejected(&env, &path, body).await;
        assert_eq!(
            (s, c.as_str(), t.as_str()),
            (400, "BadRequest", target),
            "{m}"
        );
    }
}

#[tokio::test]
async fn the_service_fills_read_only_properties_and_defaults() {
    let (env, path) = ready().await;
    let mut body = connector_body(ACCOUNT);
    // Read-only values sent back from a GET are ignored, not rejected.
    body["properties"]["hierarchyIdentifierTrialEndDate"] = json!("2000-01-01T00:00:00Z");
    body["properties"]["environmentData"]["accountName"] = json!("client-made");
    body["properties"]["offerings"][0]["description"] = json!("client-made");
    let (s, created) = env.call(Method::PUT, &path, Some(body)).await;
    assert_eq!(s, 201, "{created}");
    let env_data = &created["properties"]["environmentData"];
    assert_eq!(env_data["scanInterval"], 4, "default scan interval");
    assert_eq!(env_data["accountName"], ACCOUNT);
    assert_eq!(
        created["properties"]["offerings"][0]["description"],
        "Foundational CSPM for AWS"
    );
    assert!(
        created["properties"]
            .get("hierarchyIdentifierTrialEndDate")
            .is_none(),
        "free offering: no trial"
    );
    assert!(
        created["properties"].get("provisioningState").is_none(),
        "{created}"
    );
    assert_eq!(
        (created["kind"].as_str(), created["tags"].clone()),
        (Some(""), json!({}))
    );
    let etag = created["etag"].as_str().unwrap_or_default().to_string();
    assert!(!etag.is_empty());

    let mut paid = connector_body(ACCOUNT);
    paid["properties"]["offerings"]
        .as_array_mut()
        .unwrap_or_else(|| panic!("offerings"))
        .push(json!({"offeringType": "DefenderForServersAws", "subPlan": {"type": "P2"},
            "defenderForServers": {"cloudRoleArn": "arn:aws:iam::123456789012:role/DefenderForCloud-DefenderForServers"}}));
    let (s, updated) = env.call(Method::PUT, &path, Some(paid.clone())).await;
    assert_eq!(s, 200, "{updated}");
    let trial = updated["properties"]["hierarchyIdentifierTrialEndDate"].clone();
    assert!(trial.as_str().is_some_and(|t| t > "2026"), "{updated}");
    assert_ne!(updated["etag"].as_str(), Some(etag.as_str()));
    let (_, again) = env.call(Method::PUT, &path, Some(paid)).await;
    assert_eq!(
        again["properties"]["hierarchyIdentifierTrialEndDate"], trial,
        "the trial does not restart"
    );
    let (s, got) = env.call(Method::GET, &path, None).await;
    assert_eq!((s, &got), (200, &again));
}

#[tokio::test]
async fn updates_cannot_change_the_account_or_move_the_connector() {
    let (env, path) = ready().await;
    assert_eq!(
        env.call(Method::PUT, &path, Some(connector_body(ACCOUNT)))
            .await
            .0,
        201
    );
    let (s, c, t, _) = rejected(&env, &path, connector_body("210987654321")).await;
    assert_eq!(
        (s, c.as_str(), t.as_str()),
        (
            400,
            "PropertyChangeNotAllowed",
            "properties.hierarchyIdentifier"
        )
    );
    let (s, b) = env
        .call(
            Method::PATCH,
            &path,
            Some(json!({"properties": {"environmentName": "GCP"}})),
        )
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (400, Some("BadRequest")),
        "{b}"
    );
    let moved = with(connector_body(ACCOUNT), "/location", json!("eastus"));
    let (s, c, _, _) = rejected(&env, &path, moved).await;
    assert_eq!((s, c.as_str()), (400, "InvalidResourceLocation"));
    // PATCH validates the merged body: a misspelt field fails there too.
    let (s, b) = env
        .call(
            Method::PATCH,
            &path,
            Some(json!({"properties": {"environmentData": {"scanIntervall": 6}}})),
        )
        .await;
    assert_eq!(
        (s, b["error"]["target"].as_str()),
        (400, Some("properties.environmentData.scanIntervall"))
    );
    let (s, b) = env
        .call(Method::PATCH, &path, Some(json!({"tags": {"env": "prod"}, "properties": {"environmentData": {"scanInterval": 6}}})))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (
            b["tags"]["env"].as_str(),
            b["properties"]["environmentData"]["scanInterval"].as_i64()
        ),
        (Some("prod"), Some(6))
    );
}

#[tokio::test]
async fn lists_by_resource_group_and_subscription_and_the_pinned_api_version() {
    let (env, path) = ready().await;
    env.resource_group("rg2").await;
    let other = path.replace("/rg/", "/rg2/").replace("aws-prod", "aws-dev");
    assert_eq!(
        env.call(Method::PUT, &path, Some(connector_body(ACCOUNT)))
            .await
            .0,
        201
    );
    assert_eq!(
        env.call(Method::PUT, &other, Some(connector_body("210987654321")))
            .await
            .0,
        201
    );
    let list =
        |scope: String| format!("{scope}/providers/Microsoft.Security/securityConnectors?{API}");
    let (s, by_rg) = env
        .call(
            Method::GET,
            &list(format!("{}/resourceGroups/rg", env.sub())),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let names = |v: &Value| -> Vec<String> {
        v["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(names(&by_rg), ["aws-prod"]);
    let (_, by_sub) = env.call(Method::GET, &list(env.sub()), None).await;
    let mut all = names(&by_sub);
    all.sort();
    assert_eq!(all, ["aws-dev", "aws-prod"]);

    let old = path.replace(API, "api-version=2022-08-01-preview");
    for (method, body) in [
        (Method::GET, None),
        (Method::PUT, Some(connector_body(ACCOUNT))),
        (Method::DELETE, None),
    ] {
        let (s, b) = env.call(method.clone(), &old, body).await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (400, Some("NoRegisteredProviderFound")),
            "{method} {b}"
        );
        assert!(
            b["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("2024-08-01-preview"))
        );
    }
    assert_eq!(env.call(Method::DELETE, &path, None).await.0, 200);
    assert_eq!(env.call(Method::DELETE, &path, None).await.0, 204);
}

#[tokio::test]
async fn write_counts_and_api_versions_are_logged_per_resource() {
    let (env, path) = ready().await;
    env.admin(Method::DELETE, "/requests", None).await;
    env.admin(
        Method::POST,
        "/faults",
        Some(json!({"method": "PUT", "count": 1, "status": 429, "retry_after": "1"})),
    )
    .await;
    assert_eq!(
        env.call(Method::PUT, &path, Some(connector_body(ACCOUNT)))
            .await
            .0,
        429
    );
    assert_eq!(
        env.call(Method::PUT, &path, Some(connector_body(ACCOUNT)))
            .await
            .0,
        201
    );
    env.call(Method::GET, &path, None).await;
    env.call(Method::DELETE, &path, None).await;
    let (_, counts) = env
        .admin(
            Method::GET,
            "/write-counts?path_contains=securityconnectors",
            None,
        )
        .await;
    let key = path
        .split('?')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert_eq!(counts["total"], 2, "{counts}");
    assert_eq!(counts["by_resource"][&key], json!({"PUT": 1, "DELETE": 1}));
    let (_, with_faults) = env
        .admin(Method::GET, "/write-counts?include_faults=true", None)
        .await;
    assert_eq!(with_faults["by_resource"][&key]["PUT"], 2);
    let (_, writes) = env
        .admin(
            Method::GET,
            "/requests?writes=true&fault=false&api_version=2024-08-01-preview",
            None,
        )
        .await;
    assert_eq!(writes["count"], 2, "{writes}");
}

#[tokio::test]
async fn a_write_whose_answer_is_dropped_still_takes_effect() {
    let (env, path) = ready().await;
    env.admin(Method::POST, "/faults", Some(json!({"method": "PUT", "path_contains": "securityConnectors", "count": 1, "drop_after": true}))).await;
    let sent = env
        .arm(Method::PUT, &path)
        .json(&connector_body(ACCOUNT))
        .send()
        .await;
    assert!(sent.is_err(), "the connection closes without an answer");
    let (s, _) = env.call(Method::GET, &path, None).await;
    assert_eq!(s, 200, "the PUT was applied");
    let (_, log) = env
        .admin(
            Method::GET,
            "/requests?method=PUT&path_contains=securityConnectors",
            None,
        )
        .await;
    assert_eq!(
        (
            log["value"][0]["dropped"].as_bool(),
            log["value"][0]["status"].as_u64()
        ),
        (Some(true), Some(201))
    );
}

#[tokio::test]
async fn health_is_not_applicable_without_an_aws_endpoint() {
    let (env, path) = ready().await;
    assert_eq!(
        env.call(Method::PUT, &path, Some(connector_body(ACCOUNT)))
            .await
            .0,
        201
    );
    let id = path.split('?').next().unwrap_or_default().to_string();
    let health =
        format!("{id}/providers/Microsoft.Security/healthReports?api-version=2023-05-01-preview");
    let (s, b) = env.call(Method::GET, &health, None).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["value"][0]["properties"]["status"]["code"],
        "NotApplicable"
    );
    assert_eq!(
        b["value"][0]["properties"]["environmentDetails"]["nativeResourceId"],
        "arn:aws:iam::123456789012:role/CspmMonitorAws"
    );
    let (s, b) = env
        .call(
            Method::GET,
            &health.replace("2023-05-01-preview", "2024-08-01-preview"),
            None,
        )
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (400, Some("NoRegisteredProviderFound"))
    );
    let (s, b) = env
        .call(Method::GET, &health.replace("aws-prod", "nope"), None)
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (404, Some("ResourceNotFound"))
    );
    let (s, b) = env
        .admin(Method::GET, &format!("/connector-health{id}"), None)
        .await;
    assert_eq!(
        (s, b["status"].as_str()),
        (200, Some("NotApplicable")),
        "{b}"
    );
}
