//! The multicloud connector enabled by Azure Arc (`Microsoft.HybridConnectivity`, api-version
//! `2024-12-01`): public cloud connectors (long-running create, immutable account fields),
//! their solution configurations (an extension resource on the connector) and the
//! `generateAwsTemplate` action; the operations that read the AWS side (`testPermissions`,
//! the synced inventory) are in [`actions`].

pub(crate) mod actions;
mod inventory;
mod permissions;
pub(crate) mod projection;
mod schema;
pub(crate) mod settings;
pub(crate) mod template;

use std::collections::HashMap;
use std::sync::Arc;

use hyper::StatusCode;
use serde_json::{Value, json};

use crate::errors::ArmError;
use crate::hooks::{BehaviourRegistry, ResourceBehaviour, WriteContext};
use crate::lro::{LroConfig, LroMode};
use crate::schema::{strip_read_only, validate};
use crate::security::connector::payload_error;

/// The api-version the emulator encodes.
pub const API_VERSION: &str = "2024-12-01";
/// Connector resource type.
pub const CONNECTOR_TYPE: &str = "Microsoft.HybridConnectivity/publicCloudConnectors";
/// Solution configuration resource type (scoped to a connector).
pub const SOLUTION_TYPE: &str = "Microsoft.HybridConnectivity/solutionConfigurations";

/// Registers both behaviours.
pub fn register(registry: &mut BehaviourRegistry) {
    registry.register(CONNECTOR_TYPE, Arc::new(Connectors));
    registry.register(SOLUTION_TYPE, Arc::new(SolutionConfigurations));
}

/// The spec declares the connector create long-running (201 + `Azure-AsyncOperation`).
pub(crate) fn default_lro() -> HashMap<String, LroConfig> {
    HashMap::from([(
        CONNECTOR_TYPE.to_ascii_lowercase(),
        LroConfig {
            mode: LroMode::Async,
            ..LroConfig::default()
        },
    )])
}

fn check_name(id: &str) -> Result<(), ArmError> {
    let name = id.rsplit('/').next().unwrap_or_default();
    let ok = (3..=63).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ArmError::bad_request(
            "InvalidResourceName",
            format!(
                "The resource name '{name}' does not match the pattern ^[a-zA-Z0-9-]{{3,63}}$."
            ),
            Some("name"),
        ))
    }
}

/// Keeps the envelope values the store set, strips the rest of the read-only fields.
fn strip(schema: &crate::schema::Schema, body: &mut Value) {
    let kept: Vec<(&str, Option<Value>)> = ["id", "name", "type", "systemData"]
        .into_iter()
        .map(|k| (k, body.get(k).cloned()))
        .collect();
    strip_read_only(schema, body);
    for (k, v) in kept {
        if let Some(v) = v {
            body[k] = v;
        }
    }
}

/// `publicCloudConnectors`.
#[derive(Debug, Default)]
pub struct Connectors;

impl ResourceBehaviour for Connectors {
    fn api_versions(&self) -> &'static [&'static str] {
        &[API_VERSION]
    }

    fn validate(&self, ctx: &WriteContext<'_>, body: &Value) -> Result<(), ArmError> {
        check_name(ctx.id)?;
        if body
            .get("location")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(ArmError::new(
                StatusCode::BAD_REQUEST,
                "LocationRequired",
                "The location property is required for this definition.",
            ));
        }
        let problems = validate(&schema::CONNECTOR, body);
        if !problems.is_empty() {
            return Err(payload_error(&problems));
        }
        let account = body
            .pointer("/properties/awsCloudProfile/accountId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
            return Err(ArmError::bad_request(
                "InvalidAwsAccountId",
                format!("'{account}' is not a 12-digit AWS account id."),
                Some("properties.awsCloudProfile.accountId"),
            ));
        }
        if let Some(old) = ctx.existing {
            let get = |v: &Value, pointer: &str, default: &Value| {
                v.pointer(pointer)
                    .filter(|x| !x.is_null())
                    .cloned()
                    .unwrap_or_else(|| default.clone())
            };
            for (pointer, default) in [
                ("/properties/hostType", Value::Null),
                ("/properties/awsCloudProfile/accountId", Value::Null),
                (
                    "/properties/awsCloudProfile/isOrganizationalAccount",
                    json!(false),
                ),
            ] {
                if get(old, pointer, &default) != get(body, pointer, &default) {
                    let target = pointer.trim_start_matches('/').replace('/', ".");
                    return Err(ArmError::bad_request(
                        "PropertyChangeNotAllowed",
                        format!("Changing property '{target}' is not allowed."),
                        Some(&target),
                    ));
                }
            }
        }
        Ok(())
    }

    fn on_write(&self, ctx: &WriteContext<'_>, body: &mut Value) {
        strip(&schema::CONNECTOR, body);
        if body.get("tags").is_none_or(Value::is_null) {
            body["tags"] = json!({});
        }
        let identifier = ctx
            .existing
            .and_then(|e| e.pointer("/properties/connectorPrimaryIdentifier"))
            .cloned()
            .unwrap_or_else(|| json!(crate::ids::random_guid()));
        body["properties"]["connectorPrimaryIdentifier"] = identifier;
    }
}

/// `solutionConfigurations` on a connector.
#[derive(Debug, Default)]
pub struct SolutionConfigurations;

impl ResourceBehaviour for SolutionConfigurations {
    fn api_versions(&self) -> &'static [&'static str] {
        &[API_VERSION]
    }

    fn validate(&self, ctx: &WriteContext<'_>, body: &Value) -> Result<(), ArmError> {
        check_name(ctx.id)?;
        let problems = validate(&schema::SOLUTION_CONFIGURATION, body);
        if !problems.is_empty() {
            return Err(payload_error(&problems));
        }
        let solution_type = body
            .pointer("/properties/solutionType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let empty = serde_json::Map::new();
        let settings = body
            .pointer("/properties/solutionSettings")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        settings::check(solution_type, settings)?;
        if let Some(old) = ctx.existing
            && old
                .pointer("/properties/solutionType")
                .and_then(Value::as_str)
                != Some(solution_type)
        {
            return Err(ArmError::bad_request(
                "PropertyChangeNotAllowed",
                "Changing property 'properties.solutionType' is not allowed.",
                Some("properties.solutionType"),
            ));
        }
        Ok(())
    }

    fn on_write(&self, _ctx: &WriteContext<'_>, body: &mut Value) {
        strip(&schema::SOLUTION_CONFIGURATION, body);
        body["properties"]["status"] = json!("New");
        body["properties"]["statusDetails"] = json!("Waiting for the first sync.");
    }
}

/// `POST /subscriptions/{sub}/providers/Microsoft.HybridConnectivity/generateAwsTemplate`.
pub(crate) fn generate_aws_template(
    tenant: &str,
    api_version: &str,
    world: &crate::state::World,
    request: &Value,
) -> Result<Value, ArmError> {
    if api_version != API_VERSION {
        return Err(crate::arm::unsupported_api_version(
            api_version,
            "generateAwsTemplate",
            &[API_VERSION],
        ));
    }
    let problems = validate(&schema::GENERATE_REQUEST, request);
    if !problems.is_empty() {
        return Err(payload_error(&problems));
    }
    let connector_id = request["connectorId"].as_str().unwrap_or_default();
    let stored = world
        .resources
        .get(&connector_id.trim_end_matches('/').to_ascii_lowercase())
        .filter(|s| s.resource_type.eq_ignore_ascii_case(CONNECTOR_TYPE))
        .ok_or_else(|| {
            ArmError::new(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!("The public cloud connector '{connector_id}' was not found."),
            )
        })?;
    let mut types = Vec::new();
    for (i, s) in request["solutionTypes"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let t = s["solutionType"].as_str().unwrap_or_default();
        let empty = serde_json::Map::new();
        let settings = s["solutionSettings"].as_object().unwrap_or(&empty);
        settings::check(t, settings).map_err(|mut e| {
            e.target = Some(format!("solutionTypes[{i}]"));
            e
        })?;
        types.push(t);
    }
    let identifier = stored
        .body
        .pointer("/properties/connectorPrimaryIdentifier")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok(template::generate(tenant, identifier, &types))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ID: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridConnectivity/publicCloudConnectors/aws-prod";

    fn ctx<'a>(existing: Option<&'a Value>) -> WriteContext<'a> {
        WriteContext {
            id: ID,
            resource_type: CONNECTOR_TYPE,
            api_version: API_VERSION,
            method: "PUT",
            existing,
        }
    }

    fn body(account: &str) -> Value {
        json!({"location": "eastus", "properties": {"hostType": "AWS",
            "awsCloudProfile": {"accountId": account, "isOrganizationalAccount": false}}})
    }

    #[test]
    fn connector_schema_and_immutable_fields() {
        assert!(
            Connectors
                .validate(&ctx(None), &body("123456789012"))
                .is_ok()
        );
        let mut misspelt = body("123456789012");
        misspelt["properties"]["awsCloudProfile"]["acountId"] = json!("1");
        let e = Connectors.validate(&ctx(None), &misspelt).unwrap_err();
        assert_eq!(e.code, "HttpPayloadAPISpecValidationFailed");
        let mut gcp = body("123456789012");
        gcp["properties"]["hostType"] = json!("GCP");
        assert!(Connectors.validate(&ctx(None), &gcp).is_err());
        assert_eq!(
            Connectors
                .validate(&ctx(None), &body("1234"))
                .unwrap_err()
                .code,
            "InvalidAwsAccountId"
        );
        let old = body("123456789012");
        let e = Connectors
            .validate(&ctx(Some(&old)), &body("210987654321"))
            .unwrap_err();
        assert_eq!(e.code, "PropertyChangeNotAllowed");
        assert_eq!(
            e.target.as_deref(),
            Some("properties.awsCloudProfile.accountId")
        );
        let mut org = old.clone();
        org["properties"]["awsCloudProfile"]["isOrganizationalAccount"] = json!(true);
        assert!(Connectors.validate(&ctx(Some(&old)), &org).is_err());
    }

    #[test]
    fn solution_configuration_checks_type_and_settings() {
        let sctx = WriteContext {
            id: &format!(
                "{ID}/providers/Microsoft.HybridConnectivity/solutionConfigurations/inventory"
            ),
            resource_type: SOLUTION_TYPE,
            api_version: API_VERSION,
            method: "PUT",
            existing: None,
        };
        let ok = json!({"properties": {"solutionType": settings::INVENTORY,
            "solutionSettings": {"periodicSync": "true", "periodicSyncTime": "1"}}});
        assert!(SolutionConfigurations.validate(&sctx, &ok).is_ok());
        let number = json!({"properties": {"solutionType": settings::INVENTORY,
            "solutionSettings": {"periodicSyncTime": 1}}});
        assert!(SolutionConfigurations.validate(&sctx, &number).is_err());
        let missing = json!({"properties": {"solutionSettings": {}}});
        assert!(SolutionConfigurations.validate(&sctx, &missing).is_err());
    }

    #[test]
    fn template_has_the_roles_of_the_chosen_solutions() {
        let roles = |t: &Value| -> Vec<String> {
            t["Resources"]
                .as_object()
                .unwrap()
                .values()
                .filter(|r| r["Type"] == "AWS::IAM::Role")
                .map(|r| r["Properties"]["RoleName"].as_str().unwrap().to_owned())
                .collect()
        };
        let inv = template::generate("t", "c", &[settings::INVENTORY]);
        assert_eq!(roles(&inv), vec![template::INVENTORY_ROLE]);
        let both = template::generate("t", "c", &[settings::INVENTORY, settings::ARC_ONBOARDING]);
        assert_eq!(roles(&both).len(), 3);
        assert_eq!(
            both["Resources"]["AzureArcMultiCloudOidcProvider"]["Properties"]["Url"],
            "https://sts.windows.net/t/"
        );
    }
}
