//! Responses no healthy ARM sends: truncated JSON, wrong types, HTML error pages from a proxy,
//! empty bodies. Each must end in a clear error (what was asked, what came back), never a panic,
//! a silent default, or polling until the operation timeout.

use std::sync::Arc;

use serde_json::{Value, json};

use super::security_connector::SecurityConnector;
use super::*;
use crate::http::mock_server::{MockServer, Reply};
use crate::http::retry::tests::FakeClock;

const API: &str = "2024-08-01-preview";
const ID: &str =
    "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Security/securityConnectors/c1";
const HTML: &str = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>\
                    <body><h1>Bad Gateway</h1><p>The proxy could not reach the upstream.</p></body></html>";

fn client(server: &MockServer) -> ArmClient {
    super::list::tests::mock_client_in(server, "sub", 3, Arc::new(FakeClock::default()))
}

fn raw(status: u16, content_type: &str, body: &str) -> Reply {
    Reply::Respond {
        status,
        headers: vec![("content-type".into(), content_type.into())],
        body: body.into(),
    }
}

fn decode_error(result: Result<Option<SecurityConnector>, AzureError>) -> String {
    match result {
        Err(e @ AzureError::Decode { .. }) => e.to_string(),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_truncated_body_is_a_decode_error_naming_the_request() {
    let server = MockServer::start().await;
    server.push(raw(
        200,
        "application/json",
        r#"{"id":"x","properties":{"environmentName":"A"#,
    ));
    let msg = decode_error(client(&server).security_connector(ID).await);
    assert!(msg.contains("cannot decode response of"), "{msg}");
    assert!(msg.contains("securityConnectors/c1"), "{msg}");
    assert!(msg.contains("EOF"), "{msg}");
}

#[tokio::test]
async fn an_html_page_with_status_200_is_a_decode_error() {
    let server = MockServer::start().await;
    server.push(raw(200, "text/html", HTML));
    let msg = decode_error(client(&server).security_connector(ID).await);
    assert!(msg.contains("expected value"), "{msg}");
}

#[tokio::test]
async fn an_empty_200_body_is_a_decode_error() {
    let server = MockServer::start().await;
    server.push(raw(200, "application/json", ""));
    let msg = decode_error(client(&server).security_connector(ID).await);
    assert!(msg.contains("invalid type: null"), "{msg}");
}

#[tokio::test]
async fn wrong_types_are_a_decode_error_naming_the_field() {
    let server = MockServer::start().await;
    server.push(Reply::json(
        200,
        json!({"id": ID, "name": "c1", "location": "westeurope",
               "properties": {"environmentName": ["AWS"], "hierarchyIdentifier": 42}}),
    ));
    let msg = decode_error(client(&server).security_connector(ID).await);
    assert!(msg.contains("invalid type"), "{msg}");
}

#[tokio::test]
async fn an_html_error_page_keeps_status_and_a_bounded_excerpt() {
    let server = MockServer::start().await;
    let long = format!("{HTML}{}", "x".repeat(5000));
    server.push(raw(400, "text/html", &long));
    let err = client(&server)
        .get::<Value>(ID, API)
        .await
        .expect_err("400 is an error");
    let msg = err.to_string();
    assert!(msg.contains("400"), "{msg}");
    assert!(msg.contains("Bad Gateway"), "{msg}");
    assert!(
        msg.len() < 1200,
        "the raw body must be cut: {} bytes",
        msg.len()
    );
}

#[tokio::test]
async fn an_empty_error_body_still_names_method_url_and_status() {
    let server = MockServer::start().await;
    server.push(raw(403, "application/json", ""));
    let err = client(&server)
        .get::<Value>(ID, API)
        .await
        .expect_err("403 is an error");
    assert!(matches!(err, AzureError::PermissionDenied(_)), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("GET") && msg.contains("403") && msg.contains("securityConnectors/c1"),
        "{msg}"
    );
}

#[tokio::test]
async fn an_error_body_with_wrong_types_falls_back_to_the_raw_text() {
    let server = MockServer::start().await;
    server.push(raw(
        409,
        "application/json",
        r#"{"error":{"code":17,"message":["busy"]}}"#,
    ));
    let err = client(&server)
        .get::<Value>(ID, API)
        .await
        .expect_err("409 is an error");
    let msg = err.to_string();
    assert!(msg.contains("409") && msg.contains("busy"), "{msg}");
}

#[tokio::test]
async fn repeated_html_5xx_pages_end_as_a_transient_error_after_retries() {
    let server = MockServer::start().await;
    for _ in 0..8 {
        server.push(raw(502, "text/html", HTML));
    }
    let err = client(&server)
        .get::<Value>(ID, API)
        .await
        .expect_err("502 is an error");
    let msg = err.to_string();
    assert!(msg.contains("502") && msg.contains("Bad Gateway"), "{msg}");
    assert!(server.requests().len() > 1, "5xx must be retried");
}

#[tokio::test]
async fn a_list_whose_value_is_not_an_array_is_a_decode_error() {
    let server = MockServer::start().await;
    server.push(Reply::json(200, json!({"value": "not a list"})));
    let err = client(&server)
        .security_connectors_in_subscription("sub")
        .await
        .expect_err("malformed page");
    assert!(err.to_string().contains("invalid type"), "{err}");
}

/// An async operation whose status URL answers with a proxy's HTML page: before, the body read
/// as "in progress" and the client polled until the 30-minute operation timeout.
#[tokio::test]
async fn an_operation_status_that_is_not_json_fails_at_once() {
    for body in [HTML, r#"{"status":"Runn"#] {
        let server = MockServer::start().await;
        server.push(
            Reply::json(201, json!({}))
                .header("azure-asyncoperation", &server.url("/operations/op1"))
                .header("retry-after", "1"),
        );
        server.push(raw(200, "text/html", body));
        let c = client(&server);
        let err = c
            .put::<_, Value>(ID, API, &json!({"location": "westeurope"}))
            .await
            .expect_err("the outcome is unknown");
        let msg = err.to_string();
        assert!(matches!(err, AzureError::Decode { .. }), "{err:?}");
        assert!(msg.contains("operations/op1"), "{msg}");
        assert_eq!(server.requests().len(), 2, "no further polling");
    }
}

#[tokio::test]
async fn an_operation_status_with_a_failed_state_but_no_error_object_is_reported() {
    let server = MockServer::start().await;
    server.push(
        Reply::json(202, json!(null))
            .header("azure-asyncoperation", &server.url("/operations/op2"))
            .header("retry-after", "1"),
    );
    server.push(Reply::json(
        200,
        json!({"status": "Failed", "error": "quota"}),
    ));
    let err = client(&server)
        .put::<_, Value>(ID, API, &json!({}))
        .await
        .expect_err("failed operation");
    let msg = err.to_string();
    assert!(matches!(err, AzureError::OperationFailed { .. }), "{err:?}");
    assert!(
        msg.contains("Failed") && msg.contains("operations/op2"),
        "{msg}"
    );
}
