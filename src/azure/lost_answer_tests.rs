//! Writes whose answer was lost, or refused while an earlier operation runs, against a
//! loopback server replaying queued answers: the client reads the resource until it settles
//! instead of sending the write into a running operation, then sends it once more.

use super::credential::tests::StaticCredential;
use super::*;
use crate::http::RetryPolicy;
use crate::http::mock_server::{MockServer, Reply, test_pki};
use crate::http::retry::tests::FakeClock;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const API: &str = "2024-12-01";
const PATH: &str = "/subscriptions/sub/resourceGroups/rg-arc/providers/Microsoft.HybridConnectivity/publicCloudConnectors/aws-prod";

fn config(server: &MockServer) -> AzureConfig {
    AzureConfig {
        subscription_id: Some("sub".into()),
        endpoints: AzureEndpoints {
            resource_manager: server.base_url.clone(),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn client_for(cfg: AzureConfig, clock: Arc<FakeClock>) -> ArmClient {
    ArmClient::with_credential(
        cfg,
        StaticCredential::new("arm-token", Duration::from_secs(3600)),
    )
    .unwrap()
    .with_retry_policy(RetryPolicy::default().with_seed(7).with_clock(clock))
}

fn state(s: &str) -> Reply {
    Reply::json(
        200,
        json!({"name": "aws-prod", "properties": {"provisioningState": s}}),
    )
}

fn not_found() -> Reply {
    Reply::json(
        404,
        json!({"error": {"code": "ResourceNotFound", "message": "not found"}}),
    )
}

fn busy() -> Reply {
    Reply::json(
        409,
        json!({"error": {"code": "AnotherOperationInProgress", "message": "busy"}}),
    )
}

/// `METHOD path` of every request, the query left out.
fn seen(server: &MockServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| {
            let path = r.target.split('?').next().unwrap_or_default();
            format!("{} {path}", r.method)
        })
        .collect()
}

fn put() -> String {
    format!("PUT {PATH}")
}

fn get() -> String {
    format!("GET {PATH}")
}

#[tokio::test]
async fn lost_put_answer_waits_for_the_running_operation_then_sends_again() {
    let server = MockServer::start().await;
    let clock = Arc::new(FakeClock::default());
    server.push(Reply::Drop);
    server.push(state("Creating").header("retry-after", "2"));
    server.push(state("Creating").header("retry-after", "3"));
    server.push(state("Succeeded"));
    server.push(state("Succeeded"));
    let c = client_for(config(&server), clock.clone());
    let v: Value = c
        .put(PATH, API, &json!({"location": "eastus"}))
        .await
        .unwrap();
    assert_eq!(v["properties"]["provisioningState"], "Succeeded");
    assert_eq!(seen(&server), [put(), get(), get(), get(), put()]);
    assert_eq!(
        clock.sleeps(),
        [Duration::from_secs(2), Duration::from_secs(3)],
        "the PUT is not sent again while the resource is being provisioned"
    );
    let reqs = server.requests();
    assert_eq!(reqs[0].body, reqs[4].body, "the same write is sent again");
}

#[tokio::test]
async fn lost_put_answer_of_a_write_that_never_arrived_sends_again_at_once() {
    let server = MockServer::start().await;
    let clock = Arc::new(FakeClock::default());
    server.push(Reply::Drop);
    server.push(not_found());
    server.push(state("Succeeded"));
    let c = client_for(config(&server), clock.clone());
    let v: Value = c.put(PATH, API, &json!({})).await.unwrap();
    assert_eq!(v["name"], "aws-prod");
    assert_eq!(seen(&server), [put(), get(), put()]);
    assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
}

#[tokio::test]
async fn lost_answer_over_tls_is_recovered_like_any_broken_connection() {
    // The server closes the TLS connection without close_notify after reading the PUT: the
    // message names TLS, but the handshake had succeeded and the write may have happened.
    let pki = test_pki();
    let server = MockServer::start_tls(&pki).await;
    let dir = std::env::temp_dir().join(format!("mc-lost-answer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    server.push(Reply::Drop);
    server.push(state("Succeeded"));
    server.push(state("Succeeded"));
    let mut cfg = config(&server);
    cfg.ca_cert_file = Some(ca);
    let c = client_for(cfg, Arc::default());
    let v: Value = c.put(PATH, API, &json!({})).await.unwrap();
    assert_eq!(v["properties"]["provisioningState"], "Succeeded");
    assert_eq!(seen(&server), [put(), get(), put()]);
}

#[tokio::test]
async fn refused_write_waits_for_the_resource_instead_of_hammering_it() {
    let server = MockServer::start().await;
    let clock = Arc::new(FakeClock::default());
    server.push(busy());
    server.push(state("Updating").header("retry-after", "4"));
    server.push(state("Succeeded"));
    server.push(state("Succeeded"));
    let c = client_for(config(&server), clock.clone());
    let _: Value = c.put(PATH, API, &json!({})).await.unwrap();
    assert_eq!(seen(&server), [put(), get(), get(), put()]);
    assert_eq!(clock.sleeps(), [Duration::from_secs(4)]);

    // Refused though the resource looks settled (the running operation is on something else):
    // one poll interval passes before the write goes again.
    server.push(busy());
    server.push(state("Succeeded"));
    server.push(state("Succeeded"));
    let _: Value = c.patch(PATH, API, &json!({"tags": {}})).await.unwrap();
    assert_eq!(
        clock.sleeps()[1..],
        [crate::azure::lro::DEFAULT_POLL_INTERVAL]
    );
    assert_eq!(server.requests()[6].method, "PATCH");
}

#[tokio::test]
async fn updating_answer_with_an_operation_polls_the_operation() {
    // A PUT of an existing resource answered 200 with a non-terminal state and the operation's
    // URL: following the operation is what ends the write (this is the answer a re-sent PUT
    // gets once the lost one's operation is over).
    let server = MockServer::start().await;
    let clock = Arc::new(FakeClock::default());
    let op = server.url("/subscriptions/sub/providers/Microsoft.HybridConnectivity/operationStatuses/op2?api-version=2024-12-01");
    server.push(
        state("Updating")
            .header("azure-asyncoperation", &op)
            .header("retry-after", "1"),
    );
    server.push(Reply::json(200, json!({"status": "InProgress"})).header("retry-after", "1"));
    server.push(Reply::json(200, json!({"status": "Succeeded"})));
    server.push(state("Succeeded"));
    let c = client_for(config(&server), clock.clone());
    let v: Value = c.put(PATH, API, &json!({})).await.unwrap();
    assert_eq!(v["properties"]["provisioningState"], "Succeeded");
    let op_path =
        "GET /subscriptions/sub/providers/Microsoft.HybridConnectivity/operationStatuses/op2";
    assert_eq!(
        seen(&server),
        [put(), op_path.into(), op_path.into(), get()]
    );

    // A 200 that is already terminal is final, whatever headers it carries.
    server.push(state("Succeeded").header("azure-asyncoperation", &op));
    let _: Value = c.put(PATH, API, &json!({})).await.unwrap();
    assert_eq!(server.requests().len(), 5);
}

#[tokio::test]
async fn waiting_for_a_lost_write_is_bounded_by_the_operation_timeout() {
    let server = MockServer::start().await;
    server.push(Reply::Drop);
    for _ in 0..10 {
        server.push(state("Creating").header("retry-after", "30"));
    }
    let c = client_for(config(&server), Arc::default())
        .with_operation_timeout(Duration::from_secs(100));
    let err = c.put::<_, Value>(PATH, API, &json!({})).await.unwrap_err();
    assert!(matches!(err, AzureError::Timeout { .. }), "{err}");
    assert_eq!(seen(&server), [put(), get(), get(), get(), get()]);
}

#[tokio::test]
async fn a_server_that_keeps_dropping_the_write_is_given_up_on() {
    let server = MockServer::start().await;
    for _ in 0..=super::lost_answer::MAX_RESENDS {
        server.push(Reply::Drop);
        server.push(not_found());
    }
    let c = client_for(config(&server), Arc::default());
    let err = c.put::<_, Value>(PATH, API, &json!({})).await.unwrap_err();
    assert!(
        matches!(
            err,
            AzureError::Transport {
                kind: crate::http::TransportFailure::Interrupted,
                ..
            }
        ),
        "{err}"
    );
    let puts = seen(&server)
        .iter()
        .filter(|s| s.starts_with("PUT"))
        .count();
    assert_eq!(puts, 1 + super::lost_answer::MAX_RESENDS as usize);
}

#[tokio::test]
async fn write_refused_while_another_operation_runs_is_sent_again() {
    let server = MockServer::start().await;
    let busy = json!({"error": {"code": "AnotherOperationInProgress", "message": "busy"}});
    server.push(Reply::json(409, busy));
    // Sent again once the resource has settled.
    server.push(Reply::json(
        200,
        json!({"name": "c1", "properties": {"provisioningState": "Updating"}}),
    ));
    server.push(Reply::json(200, json!({"name": "c1"})));
    server.push(Reply::json(200, json!({"name": "c1"})));
    let c = client_for(config(&server), Arc::default());
    let v: Value = c
        .put(PATH, API, &json!({"location": "westeurope"}))
        .await
        .unwrap();
    assert_eq!(v["name"], "c1");
    let methods: Vec<String> = server.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["PUT", "GET", "GET", "PUT"]);

    // Any other conflict is the caller's to handle, at once.
    let other = json!({"error": {"code": "Conflict", "message": "no"}});
    server.push(Reply::json(409, other));
    let err = c
        .put::<Value, Value>(PATH, API, &json!({"location": "westeurope"}))
        .await
        .unwrap_err();
    assert!(matches!(err, AzureError::Conflict(_)), "{err}");
    assert_eq!(server.requests().len(), 5);
}

#[tokio::test]
async fn put_is_resent_after_dropped_connection() {
    let server = MockServer::start().await;
    server.push(Reply::Drop);
    // The resource is read first, to wait for whatever the lost PUT started.
    server.push(Reply::json(
        404,
        json!({"error": {"code": "ResourceNotFound", "message": "gone"}}),
    ));
    server.push(Reply::json(200, json!({"name": "c1"})));
    let c = client_for(config(&server), Arc::default());
    let v: Value = c
        .put(PATH, API, &json!({"location": "westeurope"}))
        .await
        .unwrap();
    assert_eq!(v["name"], "c1");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[1].method, "GET");
    assert!(
        [&reqs[0], &reqs[2]]
            .iter()
            .all(|r| r.method == "PUT" && r.body == r#"{"location":"westeurope"}"#)
    );
}
