//! The plugin server end to end, in-process: handshake, AutoMTLS, and the
//! RPCs Terraform makes during validate, plan, apply, refresh, import and destroy.

mod support;

use std::time::Duration;

use support::client::pb::plugin::{Empty, grpc_controller_client::GrpcControllerClient};
use support::client::pb::tfplugin6 as pb;
use support::client::{ClientCert, Started, connect_plain, connect_tls, start, terraform_env};
use support::provider::TestProvider;
use terraform_provider_multicloud::protocol::{
    HandshakeEnv, Schema, Type, Value, msgpack, serve_with,
};
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

type Client = pb::provider_client::ProviderClient<Channel>;

fn thing_type() -> Type {
    use terraform_provider_multicloud::protocol::Provider as _;
    let p = TestProvider::new();
    let thing = p.resources().into_iter().next().expect("thing resource");
    let schema: Schema = thing.schema();
    schema.value_type()
}

fn dv(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: msgpack::encode(v, ty).expect("encodable"),
        json: vec![],
    })
}

fn undv(d: Option<pb::DynamicValue>, ty: &Type) -> Value {
    msgpack::decode(&d.expect("dynamic value").msgpack, ty).expect("decodable")
}

fn thing_config(name: &str, note: Value) -> Value {
    Value::object([
        ("id", Value::Null),
        ("name", Value::from(name)),
        ("note", note),
        ("tags", Value::map([("env", Value::from("test"))])),
        ("etag", Value::Null),
        ("secret", Value::from("hunter2-secret")),
    ])
}

fn errors(diags: &[pb::Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(|d| d.summary.clone())
        .collect()
}

async fn configure(client: &mut Client) {
    let ty = Type::object([("endpoint", Type::String), ("token", Type::String)]);
    let config = Value::object([("endpoint", Value::from("local")), ("token", Value::Null)]);
    let resp = client
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.0.3".into(),
            config: dv(&config, &ty),
            client_capabilities: None,
        })
        .await
        .expect("ConfigureProvider")
        .into_inner();
    assert!(
        errors(&resp.diagnostics).is_empty(),
        "{:?}",
        resp.diagnostics
    );
}

async fn plan(
    client: &mut Client,
    prior: &Value,
    config: &Value,
    proposed: &Value,
) -> pb::plan_resource_change::Response {
    let ty = thing_type();
    client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "multicloud_thing".into(),
            prior_state: dv(prior, &ty),
            proposed_new_state: dv(proposed, &ty),
            config: dv(config, &ty),
            ..Default::default()
        })
        .await
        .expect("PlanResourceChange")
        .into_inner()
}

async fn apply(
    client: &mut Client,
    prior: &Value,
    planned: &Value,
) -> pb::apply_resource_change::Response {
    let ty = thing_type();
    client
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "multicloud_thing".into(),
            prior_state: dv(prior, &ty),
            planned_state: dv(planned, &ty),
            config: dv(planned, &ty),
            ..Default::default()
        })
        .await
        .expect("ApplyResourceChange")
        .into_inner()
}

async fn shutdown(channel: Channel, started: Started) {
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .expect("Shutdown");
    let result = tokio::time::timeout(Duration::from_secs(10), started.task).await;
    assert!(
        matches!(result, Ok(Ok(Ok(())))),
        "server did not stop cleanly: {result:?}"
    );
}

#[tokio::test]
async fn refuses_to_serve_without_the_magic_cookie() {
    let mut out = Vec::new();
    let env = HandshakeEnv {
        protocol_versions: Some("6".into()),
        ..Default::default()
    };
    let err = serve_with(TestProvider::new(), env, &mut out)
        .await
        .expect_err("must refuse");
    assert!(err.to_string().contains("Run terraform instead"), "{err}");
    assert!(out.is_empty(), "no handshake line may be printed");

    let mut env = terraform_env(None);
    env.protocol_versions = Some("4,5".into());
    let err = serve_with(TestProvider::new(), env, &mut out)
        .await
        .expect_err("must refuse");
    assert!(err.to_string().contains("protocol 6"), "{err}");
}

#[tokio::test]
async fn requires_exactly_the_announced_client_certificate() {
    let cert = ClientCert::generate();
    let started = start(TestProvider::new(), terraform_env(Some(&cert))).await;
    assert!(
        !started.server_cert.is_empty(),
        "AutoMTLS announces the server certificate"
    );

    for (label, identity) in [
        ("no certificate", None),
        ("another certificate", Some(ClientCert::generate())),
    ] {
        let outcome = async {
            let channel = connect_tls(&started, identity.as_ref())
                .await
                .map_err(|e| e.to_string())?;
            HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: "plugin".into(),
                })
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        assert!(outcome.is_err(), "{label} must be rejected");
    }
    assert!(
        connect_plain(&started).await.is_err() || {
            let ch = connect_plain(&started).await.expect("plain channel");
            HealthClient::new(ch)
                .check(HealthCheckRequest {
                    service: "plugin".into(),
                })
                .await
                .is_err()
        }
    );

    let channel = connect_tls(&started, Some(&cert))
        .await
        .expect("mTLS connect");
    let health = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .expect("health check")
        .into_inner();
    assert_eq!(health.status, ServingStatus::Serving as i32);
    shutdown(channel, started).await;
}

#[tokio::test]
async fn serves_plaintext_without_a_client_certificate() {
    let started = start(TestProvider::new(), terraform_env(None)).await;
    assert!(started.line.ends_with("|grpc|"), "{}", started.line);
    let channel = connect_plain(&started).await.expect("plain connect");
    let mut client = Client::new(channel.clone());
    let resp = client
        .get_metadata(pb::get_metadata::Request {})
        .await
        .expect("GetMetadata")
        .into_inner();
    assert_eq!(resp.resources.len(), 1);
    assert!(resp.server_capabilities.is_some_and(|c| c.plan_destroy));
    shutdown(channel, started).await;
}

#[tokio::test]
async fn schema_validation_and_unconfigured_calls() {
    let cert = ClientCert::generate();
    let started = start(TestProvider::new(), terraform_env(Some(&cert))).await;
    let channel = connect_tls(&started, Some(&cert))
        .await
        .expect("mTLS connect");
    let mut client = Client::new(channel.clone());

    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    let caps = schema.server_capabilities.expect("capabilities");
    assert!(caps.plan_destroy && !caps.get_provider_schema_optional);
    let thing = schema.resource_schemas["multicloud_thing"]
        .block
        .clone()
        .expect("block");
    let secret = thing
        .attributes
        .iter()
        .find(|a| a.name == "secret")
        .expect("secret attribute");
    assert!(secret.sensitive && secret.optional);
    let token = schema
        .provider
        .and_then(|p| p.block)
        .expect("provider block");
    assert!(
        token
            .attributes
            .iter()
            .any(|a| a.name == "token" && a.sensitive)
    );
    assert!(schema.data_source_schemas.contains_key("multicloud_echo"));

    let ty = thing_type();
    let resp = client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "multicloud_thing".into(),
            config: dv(&thing_config("has space", Value::Unknown), &ty),
            client_capabilities: None,
        })
        .await
        .expect("validate")
        .into_inner();
    assert_eq!(errors(&resp.diagnostics), vec!["Invalid name"]);
    let path = resp.diagnostics[0]
        .attribute
        .clone()
        .expect("attribute path");
    assert_eq!(
        path.steps[0].selector,
        Some(pb::attribute_path::step::Selector::AttributeName(
            "name".into()
        ))
    );

    // CRUD before ConfigureProvider is an error diagnostic, not a crash.
    let config = thing_config("a", Value::Null);
    let resp = apply(&mut client, &Value::Null, &config).await;
    assert_eq!(errors(&resp.diagnostics), vec!["Provider not configured"]);

    let resp = client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "multicloud_nope".into(),
            ..Default::default()
        })
        .await
        .expect("validate unknown type")
        .into_inner();
    assert_eq!(errors(&resp.diagnostics), vec!["Unknown resource type"]);
    shutdown(channel, started).await;
}

#[tokio::test]
async fn resource_lifecycle_over_mtls() {
    let cert = ClientCert::generate();
    let provider = TestProvider::new();
    let store = provider.store.clone();
    let started = start(provider, terraform_env(Some(&cert))).await;
    let channel = connect_tls(&started, Some(&cert))
        .await
        .expect("mTLS connect");
    let mut client = Client::new(channel.clone());
    configure(&mut client).await;
    let ty = thing_type();

    // Plan create: unknown config stays unknown, computed attributes become unknown.
    let config = thing_config("a", Value::Unknown);
    let resp = plan(&mut client, &Value::Null, &config, &config).await;
    assert!(
        errors(&resp.diagnostics).is_empty(),
        "{:?}",
        resp.diagnostics
    );
    let planned = undv(resp.planned_state, &ty);
    assert!(planned.get("note").is_unknown());
    assert!(planned.get("id").is_unknown());
    assert!(planned.get("etag").is_unknown());
    assert_eq!(planned.get("name").as_str(), Some("a"));

    // Apply create with the note known by now.
    let config = thing_config("a", Value::from("first"));
    let planned = undv(
        plan(&mut client, &Value::Null, &config, &config)
            .await
            .planned_state,
        &ty,
    );
    let resp = apply(&mut client, &Value::Null, &planned).await;
    assert!(
        errors(&resp.diagnostics).is_empty(),
        "{:?}",
        resp.diagnostics
    );
    let state = undv(resp.new_state, &ty);
    assert_eq!(state.get("id").as_str(), Some("thing-1"));
    assert_eq!(state.get("etag").as_str(), Some("1"));
    assert_eq!(store.ids(), vec!["thing-1"]);

    // Unchanged plan: the state comes back as is.
    let config = thing_config("a", Value::from("first"));
    let resp = plan(&mut client, &state, &config, &state).await;
    assert_eq!(undv(resp.planned_state, &ty), state);
    assert!(resp.requires_replace.is_empty());

    // In-place update: etag unknown, id kept (use_state_for_unknown).
    let proposed = state.clone().with_attr("note", "second");
    let config = thing_config("a", Value::from("second"));
    let resp = plan(&mut client, &state, &config, &proposed).await;
    let planned = undv(resp.planned_state, &ty);
    assert!(resp.requires_replace.is_empty());
    assert_eq!(planned.get("id").as_str(), Some("thing-1"));
    assert!(planned.get("etag").is_unknown());
    let resp = apply(&mut client, &state, &planned).await;
    let state = undv(resp.new_state, &ty);
    assert_eq!(state.get("etag").as_str(), Some("2"));
    assert_eq!(state.get("note").as_str(), Some("second"));

    // A force_new change requires replacement, with the attribute path.
    let proposed = state.clone().with_attr("name", "b");
    let resp = plan(
        &mut client,
        &state,
        &thing_config("b", Value::from("second")),
        &proposed,
    )
    .await;
    let paths: Vec<_> = resp
        .requires_replace
        .iter()
        .map(|p| p.steps.clone())
        .collect();
    assert_eq!(
        paths,
        vec![vec![pb::attribute_path::Step {
            selector: Some(pb::attribute_path::step::Selector::AttributeName(
                "name".into()
            ))
        }]]
    );

    // A resource leaving unknowns after apply is reported as a provider bug.
    let planned = state.clone().with_attr("note", "leave-unknown");
    let resp = apply(&mut client, &state, &planned).await;
    assert_eq!(
        errors(&resp.diagnostics),
        vec!["Provider returned unknown values after apply"]
    );

    // Refresh sees the object; once it is gone, the state is null.
    let read = |state: Value| pb::read_resource::Request {
        type_name: "multicloud_thing".into(),
        current_state: dv(&state, &ty),
        private: b"opaque".to_vec(),
        ..Default::default()
    };
    let resp = client
        .read_resource(read(state.clone()))
        .await
        .expect("read")
        .into_inner();
    assert_eq!(resp.private, b"opaque");
    assert_eq!(undv(resp.new_state, &ty), state);

    // Import then read completes the state.
    let resp = client
        .import_resource_state(pb::import_resource_state::Request {
            type_name: "multicloud_thing".into(),
            id: "thing-1".into(),
            ..Default::default()
        })
        .await
        .expect("import")
        .into_inner();
    let imported = undv(resp.imported_resources[0].state.clone(), &ty);
    assert_eq!(imported.get("id").as_str(), Some("thing-1"));
    assert!(imported.get("name").is_null());
    let resp = client
        .read_resource(read(imported))
        .await
        .expect("read imported")
        .into_inner();
    assert_eq!(undv(resp.new_state, &ty), state);

    // Destroy: the plan passes null through and apply deletes.
    let resp = plan(&mut client, &state, &Value::Null, &Value::Null).await;
    assert!(undv(resp.planned_state, &ty).is_null());
    let resp = apply(&mut client, &state, &Value::Null).await;
    assert!(
        errors(&resp.diagnostics).is_empty(),
        "{:?}",
        resp.diagnostics
    );
    assert!(undv(resp.new_state, &ty).is_null());
    assert!(store.ids().is_empty());

    let resp = client
        .read_resource(read(state.clone()))
        .await
        .expect("read gone")
        .into_inner();
    assert!(undv(resp.new_state, &ty).is_null());

    // Stored JSON state is shaped to the current schema.
    let resp = client
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "multicloud_thing".into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: br#"{"id":"x","name":"n","dropped":1}"#.to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("upgrade")
        .into_inner();
    let upgraded = undv(resp.upgraded_state, &ty);
    assert_eq!(upgraded.get("name").as_str(), Some("n"));
    assert!(upgraded.get("etag").is_null());
    let resp = client
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "multicloud_thing".into(),
            version: 7,
            raw_state: Some(pb::RawState {
                json: b"{}".to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("upgrade newer")
        .into_inner();
    assert_eq!(
        errors(&resp.diagnostics),
        vec!["State from a newer provider"]
    );

    // Data source.
    let echo_ty = Type::object([("input", Type::String), ("output", Type::String)]);
    let resp = client
        .read_data_source(pb::read_data_source::Request {
            type_name: "multicloud_echo".into(),
            config: dv(&Value::object([("input", Value::from("hi"))]), &echo_ty),
            ..Default::default()
        })
        .await
        .expect("read data source")
        .into_inner();
    assert_eq!(
        undv(resp.state, &echo_ty).get("output").as_str(),
        Some("HI")
    );

    // Unsupported RPCs answer with diagnostics.
    let resp = client
        .validate_ephemeral_resource_config(
            pb::validate_ephemeral_resource_config::Request::default(),
        )
        .await
        .expect("ephemeral")
        .into_inner();
    assert_eq!(errors(&resp.diagnostics).len(), 1);

    client
        .stop_provider(pb::stop_provider::Request {})
        .await
        .expect("StopProvider");
    shutdown(channel, started).await;
}
