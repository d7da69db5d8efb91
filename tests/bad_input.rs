//! The bad-input corpus (`tests/bad_input/cases/*.json`): every invalid configuration must come
//! back from the provider as an error diagnostic naming the attribute and the fix, without a
//! panic and without a single connection to a cloud endpoint.
//!
//! Each case file holds a valid `base` configuration (checked to pass) and the cases that break
//! it. The provider runs in-process behind the real gRPC server; its endpoints all point at a
//! loopback listener that counts connections.

mod support;

#[path = "bad_input/harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::path::Path;

use harness::{CaseFile, Kind, Rpc, Tripwire};
use support::client::pb::tfplugin6 as pb;
use support::client::{connect_plain, start, terraform_env};
use terraform_provider_multicloud::protocol::Type;
use terraform_provider_multicloud::resources::{MulticloudProvider, provider_schema};
use tonic::transport::Channel;

type Client = pb::provider_client::ProviderClient<Channel>;

async fn provider(wire: &Tripwire, configured: bool) -> Client {
    let started = start(MulticloudProvider, terraform_env(None)).await;
    let mut client = Client::new(connect_plain(&started).await.expect("connect"));
    if configured {
        let ty = provider_schema().value_type();
        let case = no_case();
        let config = harness::dynamic_value(&ty, &wire.provider_config(), &case);
        let resp = client
            .configure_provider(pb::configure_provider::Request {
                terraform_version: "1.9.0".into(),
                config: Some(config),
                client_capabilities: None,
            })
            .await
            .expect("ConfigureProvider")
            .into_inner();
        assert!(
            resp.diagnostics
                .iter()
                .all(|d| d.severity != pb::diagnostic::Severity::Error as i32),
            "the tripwire provider configuration must be valid: {:?}",
            resp.diagnostics
        );
    }
    client
}

fn no_case() -> harness::Case {
    serde_json::from_value(serde_json::json!({"name": "base", "path": "", "fix": ""}))
        .expect("case")
}

/// Sends `config` through the case's RPC; the diagnostics, or the transport error.
async fn send(
    client: &mut Client,
    file: &CaseFile,
    ty: &Type,
    rpc: Rpc,
    config: pb::DynamicValue,
) -> Result<Vec<pb::Diagnostic>, tonic::Status> {
    let name = file.type_name.clone();
    Ok(match (file.kind, rpc) {
        (Kind::Provider, Rpc::Validate) => {
            let req = pb::validate_provider_config::Request {
                config: Some(config),
            };
            client
                .validate_provider_config(req)
                .await?
                .into_inner()
                .diagnostics
        }
        (Kind::Provider, Rpc::Configure) => {
            let req = pb::configure_provider::Request {
                terraform_version: "1.9.0".into(),
                config: Some(config),
                client_capabilities: None,
            };
            client
                .configure_provider(req)
                .await?
                .into_inner()
                .diagnostics
        }
        (Kind::Resource, Rpc::Validate) => {
            let req = pb::validate_resource_config::Request {
                type_name: name,
                config: Some(config),
                client_capabilities: None,
            };
            client
                .validate_resource_config(req)
                .await?
                .into_inner()
                .diagnostics
        }
        (Kind::Resource, Rpc::Plan) => {
            let null = pb::DynamicValue {
                msgpack: terraform_provider_multicloud::protocol::msgpack::encode(
                    &terraform_provider_multicloud::protocol::Value::Null,
                    ty,
                )
                .expect("null"),
                json: vec![],
            };
            let req = pb::plan_resource_change::Request {
                type_name: name,
                prior_state: Some(null),
                proposed_new_state: Some(config.clone()),
                config: Some(config),
                ..Default::default()
            };
            client
                .plan_resource_change(req)
                .await?
                .into_inner()
                .diagnostics
        }
        (Kind::DataSource, Rpc::Validate) => {
            let req = pb::validate_data_resource_config::Request {
                type_name: name,
                config: Some(config),
            };
            client
                .validate_data_resource_config(req)
                .await?
                .into_inner()
                .diagnostics
        }
        (kind, rpc) => panic!("{kind:?} cases cannot use {rpc:?}"),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_names_the_attribute_and_the_fix_without_calling_a_cloud() {
    let wire = Tripwire::start().await;
    let mut configured = provider(&wire, true).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_input/cases");
    let files = harness::load(&dir);
    let mut failures = Vec::new();
    let mut per_type: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_rpc: BTreeMap<String, usize> = BTreeMap::new();
    let mut total = 0;
    let mut case_hits = 0;

    for (file_name, file) in &files {
        let ty = harness::schema_type(file.kind, &file.type_name);
        // The base must pass, or the cases would prove nothing.
        let base_rpcs: &[Rpc] = match file.kind {
            Kind::Resource => &[Rpc::Validate, Rpc::Plan],
            _ => &[Rpc::Validate],
        };
        for rpc in base_rpcs {
            let dv = harness::dynamic_value(&ty, &file.base, &no_case());
            match send(&mut configured, file, &ty, *rpc, dv).await {
                Ok(d)
                    if d.iter()
                        .all(|d| d.severity != pb::diagnostic::Severity::Error as i32) => {}
                other => {
                    failures.push(format!("{file_name}: base config fails {rpc:?}: {other:?}"))
                }
            }
        }
        for case in &file.cases {
            total += 1;
            *per_type.entry(label(file)).or_default() += 1;
            *per_rpc
                .entry(format!("{:?}/{:?}", case.rpc, case.wire))
                .or_default() += 1;
            let config = harness::merge(&file.base, &case.set);
            let dv = harness::dynamic_value(&ty, &config, case);
            let before = wire.hits();
            let outcome = if case.rpc == Rpc::Configure {
                // Configuring replaces the provider's clients: a fresh server for each.
                let mut fresh = provider(&wire, false).await;
                send(&mut fresh, file, &ty, case.rpc, dv).await
            } else {
                send(&mut configured, file, &ty, case.rpc, dv).await
            };
            let id = format!("{file_name}: {:?}", case.name);
            match outcome {
                Ok(diags) => {
                    if let Err(e) = harness::check(case, &diags) {
                        failures.push(format!("{id}: {e}"));
                    }
                }
                Err(status) => failures.push(format!("{id}: RPC failed: {status}")),
            }
            if wire.hits() != before {
                case_hits += wire.hits() - before;
                failures.push(format!(
                    "{id}: made {} remote connection(s)",
                    wire.hits() - before
                ));
            }
        }
    }

    println!("bad-input corpus: {total} cases in {} files", files.len());
    for (t, n) in &per_type {
        println!("  {t:<52} {n:>4}");
    }
    for (r, n) in &per_rpc {
        println!("  rpc/wire {r:<43} {n:>4}");
    }
    println!(
        "  remote connections: {case_hits} by the cases, {} by planning the valid bases",
        wire.hits() - case_hits
    );
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        total >= 200,
        "the corpus must hold at least 200 cases, has {total}"
    );
}

fn label(file: &CaseFile) -> String {
    match file.kind {
        Kind::Provider => "provider".to_owned(),
        Kind::Resource => format!("resource {}", file.type_name),
        Kind::DataSource => format!("data {}", file.type_name),
    }
}

/// The tripwire is not blind: a data source read that must reach AWS is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tripwire_sees_a_real_remote_call() {
    let wire = Tripwire::start().await;
    let mut client = provider(&wire, true).await;
    let ty = harness::schema_type(Kind::DataSource, "multicloud_caller_identity");
    let config = serde_json::json!({"clouds": ["aws"]});
    let dv = harness::dynamic_value(&ty, &config, &no_case());
    let resp = client
        .read_data_source(pb::read_data_source::Request {
            type_name: "multicloud_caller_identity".into(),
            config: Some(dv),
            ..Default::default()
        })
        .await
        .expect("ReadDataSource")
        .into_inner();
    assert!(wire.hits() > 0, "the read did not reach the tripwire");
    assert!(
        resp.diagnostics
            .iter()
            .any(|d| d.severity == pb::diagnostic::Severity::Error as i32),
        "a refused connection must be an error: {:?}",
        resp.diagnostics
    );
}
