//! The classic (legacy) multicloud connectors, `Microsoft.Security/connectors` at subscription
//! scope, api-version `2020-01-01-preview`: encoded from the facts of the official definition
//! (connector settings with `hybridComputeSettings` and `authenticationDetails`, the latter a
//! union on `authenticationType`: `awsCreds`, `awsAssumeRole`, `gcpCredentials`).

use std::sync::LazyLock;

use serde_json::{Value, json};

use super::connector::payload_error;
use crate::errors::ArmError;
use crate::hooks::{ResourceBehaviour, WriteContext};
use crate::schema::{
    Field, Schema, array, field, object, strip_read_only, union, validate, variant,
};

/// The api-version the classic connectors were served with.
pub const CLASSIC_API_VERSION: &str = "2020-01-01-preview";
/// Full resource type.
pub const CLASSIC_RESOURCE_TYPE: &str = "Microsoft.Security/connectors";

const PROVISIONING_STATES: &[&str] = &["Valid", "Invalid", "Expired", "IncorrectPolicy"];
const PERMISSIONS: &[&str] = &[
    "AWS::AWSSecurityHubReadOnlyAccess",
    "AWS::SecurityAudit",
    "AWS::AmazonSSMAutomationRole",
    "GCP::Security Center Admin Viewer",
];

fn s(name: &'static str) -> Field {
    field(name, Schema::String)
}

fn required(name: &'static str) -> Field {
    s(name).required()
}

fn authentication_details() -> Schema {
    union(
        "authenticationType",
        vec![
            field(
                "authenticationProvisioningState",
                Schema::Enum(PROVISIONING_STATES),
            )
            .read_only(),
            field("grantedPermissions", array(Schema::Enum(PERMISSIONS))).read_only(),
        ],
        [
            variant(
                "awsCreds",
                [
                    s("accountId").read_only(),
                    required("awsAccessKeyId"),
                    required("awsSecretAccessKey"),
                ],
            ),
            variant(
                "awsAssumeRole",
                [
                    s("accountId").read_only(),
                    required("awsAssumeRoleArn"),
                    required("awsExternalId"),
                ],
            ),
            variant(
                "gcpCredentials",
                [
                    required("organizationId"),
                    required("type"),
                    required("projectId"),
                    required("privateKeyId"),
                    required("privateKey"),
                    required("clientEmail"),
                    required("clientId"),
                    required("authUri"),
                    required("tokenUri"),
                    required("authProviderX509CertUrl"),
                    required("clientX509CertUrl"),
                ],
            ),
        ],
    )
}

fn hybrid_compute_settings() -> Schema {
    object([
        field(
            "hybridComputeSettingsStatus",
            Schema::Enum(&["Valid", "Invalid", "Expired"]),
        )
        .read_only(),
        field("autoProvision", Schema::Enum(&["On", "Off"])).required(),
        s("resourceGroupName"),
        s("region"),
        field("proxyServer", object([s("ip"), s("port")])),
        field(
            "servicePrincipal",
            object([s("applicationId"), s("secret")]),
        ),
    ])
}

fn connector_setting() -> Schema {
    object([
        s("id").read_only(),
        s("name").read_only(),
        s("type").read_only(),
        // Not in the 2020 definition; the emulator's store adds it to every resource.
        field("systemData", Schema::FreeForm).read_only(),
        field(
            "properties",
            object([
                field("hybridComputeSettings", hybrid_compute_settings()),
                field("authenticationDetails", authentication_details()),
            ]),
        ),
    ])
}

static CONNECTOR_SETTING: LazyLock<Schema> = LazyLock::new(connector_setting);

/// The behaviour registered for [`CLASSIC_RESOURCE_TYPE`].
#[derive(Debug, Default)]
pub struct ClassicConnectors;

impl ResourceBehaviour for ClassicConnectors {
    fn api_versions(&self) -> &'static [&'static str] {
        &[CLASSIC_API_VERSION]
    }

    fn reports_provisioning_state(&self) -> bool {
        false
    }

    fn validate(&self, _ctx: &WriteContext<'_>, body: &Value) -> Result<(), ArmError> {
        let problems = validate(&CONNECTOR_SETTING, body);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(payload_error(&problems))
        }
    }

    fn on_write(&self, _ctx: &WriteContext<'_>, body: &mut Value) {
        let kept: Vec<(&str, Option<Value>)> = ["id", "name", "type", "systemData"]
            .into_iter()
            .map(|k| (k, body.get(k).cloned()))
            .collect();
        strip_read_only(&CONNECTOR_SETTING, body);
        for (k, v) in kept {
            if let Some(v) = v {
                body[k] = v;
            }
        }
        fill(body);
    }
}

/// What the service reports on its own: the account a role ARN names, the authentication
/// state, and (UNVERIFIED, the emulator's choice) no echo of the secret access key.
fn fill(body: &mut Value) {
    let Some(auth) = body
        .pointer_mut("/properties/authenticationDetails")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if let Some(arn) = auth.get("awsAssumeRoleArn").and_then(Value::as_str)
        && let Some(account) = arn.split(':').nth(4)
    {
        let account = account.to_owned();
        auth.insert("accountId".into(), json!(account));
    }
    auth.remove("awsSecretAccessKey");
    auth.insert("authenticationProvisioningState".into(), json!("Valid"));
    if let Some(hybrid) = body
        .pointer_mut("/properties/hybridComputeSettings")
        .and_then(Value::as_object_mut)
    {
        hybrid.insert("hybridComputeSettingsStatus".into(), json!("Valid"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role_body() -> Value {
        json!({"properties": {
            "hybridComputeSettings": {"autoProvision": "Off"},
            "authenticationDetails": {
                "authenticationType": "awsAssumeRole",
                "awsAssumeRoleArn": "arn:aws:iam::123456789012:role/AscConnector",
                "awsExternalId": "00000000-0000-0000-0000-000000000001"
            }
        }})
    }

    #[test]
    fn an_assume_role_connector_is_valid_and_gets_its_account() {
        assert!(validate(&CONNECTOR_SETTING, &role_body()).is_empty());
        let mut body = role_body();
        fill(&mut body);
        assert_eq!(
            body.pointer("/properties/authenticationDetails/accountId"),
            Some(&json!("123456789012"))
        );
    }

    #[test]
    fn the_definition_is_enforced() {
        let mut missing = role_body();
        missing["properties"]["authenticationDetails"]
            .as_object_mut()
            .map(|o| o.remove("awsExternalId"));
        let problems = validate(&CONNECTOR_SETTING, &missing);
        assert!(
            problems.iter().any(|p| p.path.ends_with("awsExternalId")),
            "{problems:?}"
        );
        let mut wrong = role_body();
        wrong["properties"]["authenticationDetails"]["authenticationType"] = json!("awsKeys");
        assert!(!validate(&CONNECTOR_SETTING, &wrong).is_empty());
        let mut no_auto = role_body();
        no_auto["properties"]["hybridComputeSettings"] = json!({});
        assert!(!validate(&CONNECTOR_SETTING, &no_auto).is_empty());
    }

    #[test]
    fn the_secret_access_key_is_not_echoed() {
        let mut body = json!({"properties": {"authenticationDetails": {
            "authenticationType": "awsCreds",
            "awsAccessKeyId": "AKIAEXAMPLE",
            "awsSecretAccessKey": "not-echoed"
        }}});
        assert!(validate(&CONNECTOR_SETTING, &body).is_empty());
        fill(&mut body);
        assert!(
            body.pointer("/properties/authenticationDetails/awsSecretAccessKey")
                .is_none()
        );
    }
}
