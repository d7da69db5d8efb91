//! Long-running operations in Azure-AsyncOperation and Location modes.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{API, Env, env, read};

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn poll(env: &Env, url: &str) -> (u16, Value) {
    read(
        env.http
            .get(url)
            .bearer_auth(&env.token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .await
}

async fn setup(env: &Env, lro: Value) -> String {
    env.registered("Microsoft.HybridCompute").await;
    env.resource_group("rg").await;
    let (s, b) = env
        .admin(
            Method::PUT,
            "/lro/Microsoft.HybridCompute/machines",
            Some(lro),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    format!(
        "{}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/c1?{API}",
        env.sub()
    )
}

#[tokio::test]
async fn async_operation_polls_in_progress_then_succeeds() {
    let env = env().await;
    let path = setup(&env, json!({"mode": "async", "polls": 2})).await;
    let resp = env
        .arm(Method::PUT, &path)
        .json(&json!({"location": "westeurope"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 201);
    assert_eq!(header(&resp, "retry-after").as_deref(), Some("1"));
    let op = header(&resp, "azure-asyncoperation")
        .unwrap_or_else(|| panic!("Azure-AsyncOperation expected"));
    assert!(op.starts_with(env.emu.url()), "{op}");
    let (_, body) = read(resp).await;
    assert_eq!(body["properties"]["provisioningState"], "Creating");

    let (_, got) = env.call(Method::GET, &path, None).await;
    assert_eq!(
        got["properties"]["provisioningState"], "Creating",
        "not Succeeded before the operation ends"
    );
    // A second write while the first runs is refused.
    let (s, b) = env.call(Method::PUT, &path, Some(json!({}))).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (409, Some("AnotherOperationInProgress"))
    );

    let mut seen = Vec::new();
    for _ in 0..3 {
        let (s, b) = poll(&env, &op).await;
        assert_eq!(s, 200);
        seen.push(b["status"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(seen, ["InProgress", "InProgress", "Succeeded"]);
    let (_, got) = env.call(Method::GET, &path, None).await;
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");

    // Async delete: 202 with both headers, resource visible as Deleting until done.
    let resp = env
        .arm(Method::DELETE, &path)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 202);
    assert!(header(&resp, "location").is_some());
    let op = header(&resp, "azure-asyncoperation").unwrap_or_default();
    let (_, got) = env.call(Method::GET, &path, None).await;
    assert_eq!(got["properties"]["provisioningState"], "Deleting");
    poll(&env, &op).await;
    poll(&env, &op).await;
    let (_, b) = poll(&env, &op).await;
    assert_eq!(b["status"], "Succeeded");
    let (s, _) = env.call(Method::GET, &path, None).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn async_operation_can_fail_with_an_error_body() {
    let env = env().await;
    let path = setup(
        &env,
        json!({"mode": "async", "polls": 0, "final_status": "Failed",
               "error": {"code": "AwsRoleNotAssumable", "message": "role cannot be assumed"}}),
    )
    .await;
    let resp = env
        .arm(Method::PUT, &path)
        .json(&json!({}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let op = header(&resp, "azure-asyncoperation").unwrap_or_default();
    let (s, b) = poll(&env, &op).await;
    assert_eq!(s, 200);
    assert_eq!(b["status"], "Failed");
    assert_eq!(b["error"]["code"], "AwsRoleNotAssumable");
    let (_, got) = env.call(Method::GET, &path, None).await;
    assert_eq!(got["properties"]["provisioningState"], "Failed");
}

#[tokio::test]
async fn location_operation_returns_202_then_the_result() {
    let env = env().await;
    let path = setup(
        &env,
        json!({"mode": "location", "polls": 1, "retry_after": 0}),
    )
    .await;
    let resp = env
        .arm(Method::PUT, &path)
        .json(&json!({"tags": {"k": "v"}}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 202);
    assert!(header(&resp, "azure-asyncoperation").is_none());
    let loc = header(&resp, "location").unwrap_or_else(|| panic!("Location expected"));
    let (s, _) = poll(&env, &loc).await;
    assert_eq!(s, 202);
    let (s, b) = poll(&env, &loc).await;
    assert_eq!(s, 200);
    assert_eq!(b["tags"]["k"], "v");
    assert_eq!(b["properties"]["provisioningState"], "Succeeded");

    let resp = env
        .arm(Method::DELETE, &path)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 202);
    let loc = header(&resp, "location").unwrap_or_default();
    assert_eq!(poll(&env, &loc).await.0, 202);
    assert_eq!(poll(&env, &loc).await.0, 204);
    assert_eq!(env.call(Method::GET, &path, None).await.0, 404);

    let (s, b) = poll(
        &env,
        &format!(
            "{}/providers/Microsoft.HybridCompute/operationResults/nope?{API}",
            env.url(&env.sub())
        ),
    )
    .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (404, Some("OperationNotFound"))
    );
}

#[tokio::test]
async fn an_operation_nobody_polls_completes_after_its_run_time() {
    let env = env().await;
    let path = setup(
        &env,
        json!({"mode": "async", "polls": 5, "duration_ms": 300}),
    )
    .await;
    let resp = env
        .arm(Method::PUT, &path)
        .json(&json!({"location": "westeurope"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 201);
    // The status URL is never used before the run time is over, as when the answer is lost.
    let op = header(&resp, "azure-asyncoperation").unwrap_or_default();
    let (s, b) = env.call(Method::PUT, &path, Some(json!({}))).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (409, Some("AnotherOperationInProgress")),
        "still running right after the write"
    );

    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let (_, got) = env.call(Method::GET, &path, None).await;
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");
    let (_, b) = poll(&env, &op).await;
    assert_eq!(
        b["status"], "Succeeded",
        "five polls were configured, none needed"
    );
    assert!(b["endTime"].is_string(), "{b}");

    // The resource is free again: the next write starts its own operation.
    let resp = env
        .arm(Method::PUT, &path)
        .json(&json!({"location": "westeurope", "tags": {"k": "v"}}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 200);
    let next = header(&resp, "azure-asyncoperation").unwrap_or_default();
    assert_ne!(next, op);
    let (_, body) = read(resp).await;
    assert_eq!(body["properties"]["provisioningState"], "Updating");
}
