//! UpgradeResourceState through the real gRPC server with the real provider: state that older
//! versions of the provider stored is read into the current schema, and what cannot be read is
//! an error diagnostic rather than a silently different state.

mod support;

use serde_json::json;
use support::client::pb::tfplugin6 as pb;
use support::client::{connect_plain, start, terraform_env};
use terraform_provider_multicloud::protocol::{Resource as _, Type, Value, json, msgpack};
use terraform_provider_multicloud::resources::{DefenderPlanSetResource, MulticloudProvider};
use tonic::transport::Channel;

type Client = pb::provider_client::ProviderClient<Channel>;

const PLAN_SET: &str = "multicloud_defender_plan_set";

async fn client() -> Client {
    let started = start(MulticloudProvider, terraform_env(None)).await;
    Client::new(connect_plain(&started).await.expect("connect"))
}

fn plan_set_type() -> Type {
    DefenderPlanSetResource.schema().value_type()
}

/// An applied empty-body plan set as schema version 0 stored it: with both CloudFormation
/// templates (shortened here; their content does not matter to the upgrade).
fn version_0_state() -> serde_json::Value {
    json!({
        "access": null,
        "aws_roles": [{
            "arn_fields": ["CspmMonitorAws.nativeCloudConnection.cloudRoleArn"],
            "audience": "api://4d8bed1f-eee7-4d8e-b0dc-8462049a4479",
            "inline_policy": "{\"Statement\":[],\"Version\":\"2012-10-17\"}",
            "inline_policy_name": "DefenderForCloudCspmMonitorPolicy",
            "key": "cspm_monitor",
            "managed_policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
            "name": "CspmMonitorAws",
            "offerings": ["CspmMonitorAws"],
            "trust": "web_identity",
            "trust_policy": "{\"Statement\":[],\"Version\":\"2012-10-17\"}"
        }],
        "cloudformation_stackset_template": "{\"AWSTemplateFormatVersion\":\"2010-09-09\",\"Resources\":{}}",
        "cloudformation_template": "{\"AWSTemplateFormatVersion\":\"2010-09-09\",\"Resources\":{}}",
        "containers": null,
        "databases": null,
        "defender_cspm": null,
        "id": "dps-c0dcdb1e2df8ae7c",
        "offerings": "[{\"nativeCloudConnection\":{\"cloudRoleArn\":\"<role_arn:cspm_monitor>\"},\"offeringType\":\"CspmMonitorAws\"}]",
        "previous_pricings": null,
        "role_names": null,
        "servers": null,
        "subscription_id": null,
        "subscription_pricings": null
    })
}

fn without(state: &serde_json::Value, keys: &[&str]) -> serde_json::Value {
    let mut out = state.clone();
    if let Some(map) = out.as_object_mut() {
        for k in keys {
            map.remove(*k);
        }
    }
    out
}

async fn upgrade(
    client: &mut Client,
    version: i64,
    state: &serde_json::Value,
) -> pb::upgrade_resource_state::Response {
    client
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: PLAN_SET.into(),
            version,
            raw_state: Some(pb::RawState {
                json: serde_json::to_vec(state).expect("JSON"),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("UpgradeResourceState")
        .into_inner()
}

fn errors(resp: &pb::upgrade_resource_state::Response) -> Vec<(String, String)> {
    resp.diagnostics
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(|d| (d.summary.clone(), d.detail.clone()))
        .collect()
}

fn upgraded(resp: &pb::upgrade_resource_state::Response) -> Value {
    let dv = resp.upgraded_state.as_ref().expect("an upgraded state");
    msgpack::decode(&dv.msgpack, &plan_set_type()).expect("decodable")
}

/// The value the current schema gives `state` when nothing needs rewriting.
fn decoded(state: &serde_json::Value) -> Value {
    let bytes = serde_json::to_vec(state).expect("JSON");
    json::decode(&bytes, &plan_set_type()).expect("decodable")
}

#[tokio::test]
async fn the_schema_is_version_1_without_the_templates() {
    let mut client = client().await;
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema")
        .into_inner();
    let plan_set = &schema.resource_schemas[PLAN_SET];
    assert_eq!(plan_set.version, 1);
    let block = plan_set.block.as_ref().expect("block");
    let names: Vec<&str> = block.attributes.iter().map(|a| a.name.as_str()).collect();
    for removed in [
        "cloudformation_template",
        "cloudformation_stackset_template",
    ] {
        assert!(!names.contains(&removed), "{removed} in {names:?}");
    }
    for kept in ["id", "offerings", "aws_roles"] {
        assert!(names.contains(&kept), "{kept} not in {names:?}");
    }
    // The data source still renders both.
    let data = schema.data_source_schemas["multicloud_aws_onboarding_template"]
        .block
        .as_ref()
        .expect("block");
    let names: Vec<&str> = data.attributes.iter().map(|a| a.name.as_str()).collect();
    assert!(names.contains(&"cloudformation_template"), "{names:?}");
    assert!(
        names.contains(&"cloudformation_stackset_template"),
        "{names:?}"
    );
}

#[tokio::test]
async fn version_0_state_upgrades_to_the_same_state_without_the_templates() {
    let mut client = client().await;
    let stored = version_0_state();
    let resp = upgrade(&mut client, 0, &stored).await;
    assert!(errors(&resp).is_empty(), "{:?}", resp.diagnostics);
    let value = upgraded(&resp);
    let expected = decoded(&without(
        &stored,
        &[
            "cloudformation_template",
            "cloudformation_stackset_template",
        ],
    ));
    assert_eq!(value, expected);
    // Everything else came through unchanged.
    assert_eq!(value.get("id").as_str(), Some("dps-c0dcdb1e2df8ae7c"));
    assert_eq!(
        value.get("offerings").as_str(),
        stored["offerings"].as_str()
    );
    let roles = value.get("aws_roles").as_list().expect("aws_roles");
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].get("name").as_str(), Some("CspmMonitorAws"));
    assert_eq!(
        roles[0].get("audience").as_str(),
        Some("api://4d8bed1f-eee7-4d8e-b0dc-8462049a4479")
    );
}

#[tokio::test]
async fn other_unknown_attributes_and_bad_types_keep_the_existing_rules() {
    let mut client = client().await;

    // The existing rule for any stored attribute the schema does not have: dropped, at every
    // version (Terraform's own SDKs do the same); the upgrade above is not what hides it.
    let mut stored = version_0_state();
    stored["not_an_attribute"] = json!("x");
    for version in [0, 1] {
        let resp = upgrade(&mut client, version, &stored).await;
        assert!(errors(&resp).is_empty(), "{:?}", resp.diagnostics);
        let expected = decoded(&without(
            &stored,
            &[
                "cloudformation_template",
                "cloudformation_stackset_template",
                "not_an_attribute",
            ],
        ));
        assert_eq!(upgraded(&resp), expected, "version {version}");
    }

    // A known attribute of the wrong type is an error naming it, not a silently null value.
    let mut wrong = version_0_state();
    wrong["id"] = json!(["dps-1"]);
    let resp = upgrade(&mut client, 0, &wrong).await;
    let errs = errors(&resp);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, "Stored state does not match the schema");
    assert!(errs[0].1.contains("id"), "{errs:?}");
    assert!(resp.upgraded_state.is_none());

    // State from a newer provider is refused.
    let resp = upgrade(&mut client, 2, &without(&stored, &[])).await;
    let errs = errors(&resp);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, "State from a newer provider");
}
