//! Fault injection and the request log.

use reqwest::Method;
use serde_json::json;

use crate::{API, env};

#[tokio::test]
async fn throttling_with_retry_after_then_success() {
    let env = env().await;
    let path = format!("{}?{API}", env.sub());
    let (s, b) = env
        .admin(Method::POST, "/faults", Some(json!({"method": "GET", "path_contains": "/subscriptions/", "count": 1, "status": 429, "retry_after": "2"})))
        .await;
    assert_eq!(s, 201, "{b}");
    let resp = env
        .arm(Method::GET, &path)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    let (_, b) = crate::read(resp).await;
    assert_eq!(b["error"]["code"], "TooManyRequests");
    assert_eq!(env.call(Method::GET, &path, None).await.0, 200);

    // HTTP-date form and 503 with a custom ARM error, skipping the first match.
    let date = "Wed, 21 Oct 2037 07:28:00 GMT";
    env.admin(Method::POST, "/faults", Some(json!([{"path_contains": "/SUBSCRIPTIONS/", "skip": 1, "count": 1, "status": 503, "retry_after": date, "error": {"code": "Busy", "message": "try later"}}]))).await;
    assert_eq!(env.call(Method::GET, &path, None).await.0, 200);
    let resp = env
        .arm(Method::GET, &path)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some(date)
    );
    let (s, b) = crate::read(resp).await;
    assert_eq!((s, b["error"]["code"].as_str()), (503, Some("Busy")));
    assert_eq!(env.call(Method::GET, &path, None).await.0, 200);
    let (_, faults) = env.admin(Method::GET, "/faults", None).await;
    assert_eq!(faults["value"][1]["fired"], 1);
}

#[tokio::test]
async fn token_endpoint_faults_use_the_entra_shape() {
    let env = env().await;
    env.admin(
        Method::POST,
        "/faults",
        Some(json!({"path_contains": "/oauth2/", "count": 1, "status": 503})),
    )
    .await;
    let (s, b) = env
        .token_with_secret(
            arm_emulator::config::DEFAULT_CLIENT_ID,
            "emulator-client-secret",
        )
        .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (503, Some("temporarily_unavailable"))
    );
    let (s, _) = env
        .token_with_secret(
            arm_emulator::config::DEFAULT_CLIENT_ID,
            "emulator-client-secret",
        )
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn dropped_connection_then_recovery() {
    let env = env().await;
    let path = format!("{}?{API}", env.sub());
    env.admin(
        Method::POST,
        "/faults",
        Some(json!({"path_contains": "/subscriptions/", "count": 1, "drop": true})),
    )
    .await;
    let err = env
        .arm(Method::GET, &path)
        .send()
        .await
        .err()
        .unwrap_or_else(|| panic!("the connection must be dropped"));
    assert!(!err.is_status(), "{err:?}");
    assert_eq!(env.call(Method::GET, &path, None).await.0, 200);
    let (_, log) = env
        .admin(Method::GET, "/requests?path_contains=/subscriptions/", None)
        .await;
    let statuses: Vec<u64> = log["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["status"].as_u64())
        .collect();
    assert_eq!(statuses, [0, 200]);
    assert_eq!(log["value"][0]["fault"], true);
}

#[tokio::test]
async fn delay_fault_slows_the_response() {
    let env = env().await;
    let path = format!("{}?{API}", env.sub());
    env.admin(
        Method::POST,
        "/faults",
        Some(json!({"path_contains": "/subscriptions/", "count": 1, "delay_ms": 300})),
    )
    .await;
    let t = std::time::Instant::now();
    assert_eq!(env.call(Method::GET, &path, None).await.0, 200);
    assert!(t.elapsed() >= std::time::Duration::from_millis(300));
    let (s, _) = env.admin(Method::DELETE, "/faults", None).await;
    assert_eq!(s, 204);
    let (s, b) = env
        .admin(
            Method::POST,
            "/faults",
            Some(json!({"path_contains": "/x"})),
        )
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (400, Some("BadRequest")),
        "a rule that does nothing is refused"
    );
}

#[tokio::test]
async fn request_log_counts_calls_without_admin_traffic() {
    let env = env().await;
    env.admin(Method::DELETE, "/requests", None).await;
    env.registered("Microsoft.Security").await;
    env.resource_group("rg").await;
    let p = format!(
        "{}/resourceGroups/rg/providers/Microsoft.Security/securityConnectors/c?{API}",
        env.sub()
    );
    let body = crate::connector_body("123456789012");
    env.call(Method::PUT, &p, Some(body.clone())).await;
    env.call(Method::PUT, &p, Some(body)).await;
    env.call(Method::GET, &p, None).await;
    let (_, all) = env.admin(Method::GET, "/requests", None).await;
    assert_eq!(all["count"], 4, "{all}");
    let (_, puts) = env
        .admin(
            Method::GET,
            "/requests?method=PUT&path_contains=securityConnectors",
            None,
        )
        .await;
    assert_eq!(puts["count"], 2);
    let first = &puts["value"][0];
    assert_eq!(first["status"], 201);
    assert!(
        first["path"].as_str().is_some_and(|p| !p.contains('?')),
        "paths only, no query"
    );
    assert!(first.get("headers").is_none() && first.get("body").is_none());
    env.admin(Method::DELETE, "/requests", None).await;
    let (_, none) = env.admin(Method::GET, "/requests", None).await;
    assert_eq!(none["count"], 0);
}
