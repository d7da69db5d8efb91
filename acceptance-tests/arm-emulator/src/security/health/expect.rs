//! What Defender for Cloud needs from each IAM role a connector names: which principal assumes
//! it and with which token audience, session name or external id. Facts from Microsoft's
//! onboarding templates (role trust policies, OIDC provider client ids), kept here independently
//! of the provider's own tables so a mistake on either side shows up as an unhealthy connector.

use std::collections::BTreeMap;

use serde_json::Value;

/// Entra ID tenant that holds Defender for Cloud's applications; its tokens are what AWS sees.
pub(crate) const MICROSOFT_TENANT_ID: &str = "33e01921-4d64-4f8c-a055-5bdaffd5e33d";
/// Prefix of the role session name Defender uses; the customer's tenant id follows.
pub(crate) const SESSION_NAME_PREFIX: &str = "MicrosoftDefenderForClouds_";
/// `sub` the emulated Defender tokens carry (no public value exists; roles should not bind it).
pub(crate) const DEFENDER_TOKEN_SUBJECT: &str = "defender-for-cloud-multicloud";

/// Foundational CSPM.
pub(crate) const AUDIENCE_CSPM: &str = "api://4d8bed1f-eee7-4d8e-b0dc-8462049a4479";
/// Defender for Servers and Arc auto-provisioning.
pub(crate) const AUDIENCE_SERVERS: &str = "api://AzureSecurityCenter.MultiCloud.DefenderForServers";
/// Agentless (VM) scanning.
pub(crate) const AUDIENCE_VM_SCANNER: &str =
    "api://AzureSecurityCenter.MultiCloud.DefenderForServers.VmScanner";
/// Defender for Databases and database DSPM.
pub(crate) const AUDIENCE_DATABASES: &str =
    "api://AzureSecurityCenter.MultiCloud.DefenderForDatabases";
/// Defender for Containers applications.
pub(crate) const AUDIENCE_CONTAINERS: &str = "api://6610e979-c931-41ec-adc7-b9920c9d52f1";
/// The containers data collector.
pub(crate) const AUDIENCE_DATA_COLLECTION: &str = "api://1462b192-27f7-4cb9-8523-0f4ecb54b47e";
/// Sensitive data discovery.
pub(crate) const AUDIENCE_DATA_DISCOVERY: &str = "api://b2f86835-c959-461c-b08c-2cd5ca382af5";
/// Permissions management's OIDC app (customer tenant).
pub(crate) const AUDIENCE_CIEM: &str = "api://mciem-aws-oidc-app";
/// `sub` of permissions management's tokens.
pub(crate) const CIEM_SUBJECT: &str = "f819bf1c-9cf9-42c3-bd59-82c507565fa1";
/// Microsoft's collector user that reads the containers audit logs.
pub(crate) const DATA_COLLECTION_PRINCIPAL: &str =
    "arn:aws:iam::197857026523:user/azuredefender-eks";
/// External id Microsoft's templates use when the connector names none.
pub(crate) const DEFAULT_DATA_COLLECTION_EXTERNAL_ID: &str = "b6d36db8-eda7-4617-9d4f-41149b899dc7";

/// One way a role must be assumable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Expect {
    /// Web identity through the OIDC provider for Microsoft's tenant, with this audience and the
    /// session name bound to the customer's tenant.
    MicrosoftWebIdentity { audience: &'static str },
    /// `sts:AssumeRole` by a principal in another account presenting an external id.
    ExternalAccount {
        principal: &'static str,
        external_id: String,
    },
    /// `sts:AssumeRole` by an AWS service; with the role's own account id as external id when set.
    Service {
        service: &'static str,
        external_id_is_account: bool,
    },
    /// Web identity through the OIDC provider for the customer's own tenant (permissions
    /// management), bound to audience and subject.
    CustomerWebIdentity {
        audience: &'static str,
        subject: &'static str,
    },
    /// `sts:AssumeRole` by another role of the connector.
    AssumedByRole { role_arn: String },
}

/// A role ARN and everything the connector uses it for.
#[derive(Debug, Clone, Default)]
pub(crate) struct RoleUse {
    pub(crate) arn: String,
    /// `Offering.path.cloudRoleArn` of every field naming it, in connector order.
    pub(crate) fields: Vec<String>,
    /// Offering types naming it.
    pub(crate) offerings: Vec<String>,
    pub(crate) expects: Vec<Expect>,
    /// Defender only assumes these roles when their name starts with `MDC`.
    pub(crate) needs_mdc_prefix: bool,
}

fn web(audience: &'static str) -> Vec<Expect> {
    vec![Expect::MicrosoftWebIdentity { audience }]
}

/// Expectations of the role in `offering`'s feature at `path` (the object holding
/// `cloudRoleArn`), plus whether its name must start with `MDC`. `None` for paths Defender does
/// not assume roles through.
fn expectations(offering: &Value, kind: &str, path: &str) -> Option<(Vec<Expect>, bool)> {
    let containers = web(AUDIENCE_CONTAINERS);
    Some(match (kind, path) {
        ("CspmMonitorAws", "nativeCloudConnection") => (web(AUDIENCE_CSPM), false),
        (_, "vmScanners") => (web(AUDIENCE_VM_SCANNER), false),
        ("DefenderForServersAws", "defenderForServers") | (_, "arcAutoProvisioning") => {
            (web(AUDIENCE_SERVERS), false)
        }
        ("DefenderCspmAws", "dataSensitivityDiscovery") => (web(AUDIENCE_DATA_DISCOVERY), false),
        (_, "databasesDspm") | ("DefenderForDatabasesAws", "rds") => {
            (web(AUDIENCE_DATABASES), false)
        }
        (_, "mdcContainersImageAssessment" | "mdcContainersAgentlessDiscoveryK8s") => {
            (containers, true)
        }
        ("DefenderForContainersAws", "kubernetesService") => (containers, false),
        ("DefenderForContainersAws", "kubernetesDataCollection") => {
            let external_id = offering
                .get("dataCollectionExternalId")
                .and_then(Value::as_str)
                .unwrap_or(DEFAULT_DATA_COLLECTION_EXTERNAL_ID)
                .to_string();
            let mut e = web(AUDIENCE_DATA_COLLECTION);
            e.push(Expect::ExternalAccount {
                principal: DATA_COLLECTION_PRINCIPAL,
                external_id,
            });
            (e, false)
        }
        ("DefenderForContainersAws", "cloudWatchToKinesis") => (
            vec![Expect::Service {
                service: "logs.amazonaws.com",
                external_id_is_account: false,
            }],
            false,
        ),
        ("DefenderForContainersAws", "kinesisToS3") => (
            vec![Expect::Service {
                service: "firehose.amazonaws.com",
                external_id_is_account: true,
            }],
            false,
        ),
        ("DefenderCspmAws", "ciem.ciemOidc") => (
            vec![Expect::CustomerWebIdentity {
                audience: AUDIENCE_CIEM,
                subject: CIEM_SUBJECT,
            }],
            false,
        ),
        ("DefenderCspmAws", "ciem.ciemDiscovery") => {
            let role_arn = offering
                .pointer("/ciem/ciemOidc/cloudRoleArn")
                .and_then(Value::as_str)?
                .to_string();
            (vec![Expect::AssumedByRole { role_arn }], false)
        }
        _ => return None,
    })
}

/// Paths (below an offering) of objects that may hold a `cloudRoleArn`.
const ROLE_PATHS: &[&str] = &[
    "nativeCloudConnection",
    "vmScanners",
    "defenderForServers",
    "arcAutoProvisioning",
    "dataSensitivityDiscovery",
    "databasesDspm",
    "rds",
    "mdcContainersImageAssessment",
    "mdcContainersAgentlessDiscoveryK8s",
    "kubernetesService",
    "kubernetesDataCollection",
    "cloudWatchToKinesis",
    "kinesisToS3",
    "ciem.ciemOidc",
    "ciem.ciemDiscovery",
];

/// Every role the connector's enabled AWS features use, one entry per distinct ARN, in the order
/// the connector first names them.
pub(crate) fn role_uses(connector: &Value) -> Vec<RoleUse> {
    let offerings = connector
        .pointer("/properties/offerings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut order: Vec<String> = Vec::new();
    let mut by_arn: BTreeMap<String, RoleUse> = BTreeMap::new();
    for offering in &offerings {
        let kind = offering
            .get("offeringType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        for path in ROLE_PATHS {
            let pointer = format!("/{}", path.replace('.', "/"));
            let Some(feature) = offering.pointer(&pointer) else {
                continue;
            };
            if feature.get("enabled") == Some(&Value::Bool(false)) {
                continue;
            }
            let Some(arn) = feature.get("cloudRoleArn").and_then(Value::as_str) else {
                continue;
            };
            let Some((expects, mdc)) = expectations(offering, kind, path) else {
                continue;
            };
            let entry = by_arn.entry(arn.to_string()).or_insert_with(|| {
                order.push(arn.to_string());
                RoleUse {
                    arn: arn.to_string(),
                    ..RoleUse::default()
                }
            });
            entry.fields.push(format!("{kind}.{path}.cloudRoleArn"));
            if !entry.offerings.iter().any(|o| o == kind) {
                entry.offerings.push(kind.to_string());
            }
            for e in expects {
                if !entry.expects.contains(&e) {
                    entry.expects.push(e);
                }
            }
            entry.needs_mdc_prefix |= mdc;
        }
    }
    order
        .into_iter()
        .filter_map(|arn| by_arn.remove(&arn))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shared_roles_are_grouped_and_disabled_features_skipped() {
        let scanner = "arn:aws:iam::123456789012:role/DefenderForCloud-AgentlessScanner";
        let connector = json!({"properties": {"offerings": [
            {"offeringType": "CspmMonitorAws", "nativeCloudConnection": {"cloudRoleArn": "arn:aws:iam::123456789012:role/CspmMonitorAws"}},
            {"offeringType": "DefenderCspmAws", "vmScanners": {"enabled": true, "cloudRoleArn": scanner},
             "databasesDspm": {"enabled": false, "cloudRoleArn": "arn:aws:iam::123456789012:role/Db"},
             "mdcContainersImageAssessment": {"enabled": true, "cloudRoleArn": "arn:aws:iam::123456789012:role/MDCImages"}},
            {"offeringType": "DefenderForServersAws", "vmScanners": {"enabled": true, "cloudRoleArn": scanner}},
        ]}});
        let uses = role_uses(&connector);
        let arns: Vec<&str> = uses.iter().map(|u| u.arn.as_str()).collect();
        assert_eq!(
            arns,
            [
                "arn:aws:iam::123456789012:role/CspmMonitorAws",
                scanner,
                "arn:aws:iam::123456789012:role/MDCImages"
            ]
        );
        assert_eq!(
            uses[1].offerings,
            ["DefenderCspmAws", "DefenderForServersAws"]
        );
        assert_eq!(
            uses[1].expects,
            [Expect::MicrosoftWebIdentity {
                audience: AUDIENCE_VM_SCANNER
            }]
        );
        assert!(uses[2].needs_mdc_prefix);
    }

    #[test]
    fn data_collection_needs_both_paths_with_the_connector_external_id() {
        let connector = json!({"properties": {"offerings": [{"offeringType": "DefenderForContainersAws",
            "dataCollectionExternalId": "ext-1",
            "kubernetesDataCollection": {"cloudRoleArn": "arn:aws:iam::123456789012:role/DC"}}]}});
        let uses = role_uses(&connector);
        assert_eq!(uses[0].expects.len(), 2);
        assert!(uses[0].expects.contains(&Expect::ExternalAccount {
            principal: DATA_COLLECTION_PRINCIPAL,
            external_id: "ext-1".into()
        }));
    }
}
