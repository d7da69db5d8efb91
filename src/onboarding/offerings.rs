//! The `offerings` array of a `Microsoft.Security/securityConnectors` AWS connector, api-version
//! `2024-08-01-preview`: one entry per plan that is on, with each role's ARN in the field that
//! api-version defines (`vmScanners.cloudRoleArn` and `arcAutoProvisioning.cloudRoleArn` are
//! siblings of `enabled` there; older versions nested them in `configuration`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value as Json, json};

use super::canonical_json;
use super::plans::{AgentlessScanning, PlanSet, ServersPlan, VulnerabilityAssessment};
use super::roles::RoleKey;

/// The AWS offering types of the connector API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum OfferingType {
    /// Foundational CSPM (free).
    CspmMonitorAws,
    /// Defender CSPM.
    DefenderCspmAws,
    /// Defender for Servers.
    DefenderForServersAws,
    /// Defender for Containers.
    DefenderForContainersAws,
    /// Defender for Databases.
    DefenderForDatabasesAws,
}

impl OfferingType {
    /// The API's `offeringType` value.
    pub fn as_str(self) -> &'static str {
        match self {
            OfferingType::CspmMonitorAws => "CspmMonitorAws",
            OfferingType::DefenderCspmAws => "DefenderCspmAws",
            OfferingType::DefenderForServersAws => "DefenderForServersAws",
            OfferingType::DefenderForContainersAws => "DefenderForContainersAws",
            OfferingType::DefenderForDatabasesAws => "DefenderForDatabasesAws",
        }
    }
}

/// What stands in for role `key`'s ARN until the role exists; the security connector replaces
/// it with the real ARN (see [`fill_role_arns`]).
pub fn role_arn_placeholder(key: RoleKey) -> String {
    format!("<role_arn:{}>", key.as_str())
}

/// App name Microsoft's examples give permissions management's OIDC app.
pub const CIEM_APP_NAME: &str = "mciem-aws-oidc-connector";

struct Arns<'a>(&'a BTreeMap<RoleKey, String>);

impl Arns<'_> {
    fn get(&self, key: RoleKey) -> Json {
        Json::String(
            self.0
                .get(&key)
                .cloned()
                .unwrap_or_else(|| role_arn_placeholder(key)),
        )
    }

    /// `{"enabled": true, "cloudRoleArn": ...}` or `{"enabled": false}`.
    fn toggle(&self, on: bool, key: RoleKey) -> Json {
        if on {
            json!({"enabled": true, "cloudRoleArn": self.get(key)})
        } else {
            json!({"enabled": false})
        }
    }

    fn scanners(&self, scanning: Option<&AgentlessScanning>) -> Json {
        match scanning {
            None => json!({"enabled": false}),
            Some(s) => json!({
                "enabled": true,
                "cloudRoleArn": self.get(RoleKey::AgentlessScanner),
                "configuration": {"scanningMode": s.scanning_mode, "exclusionTags": s.exclusion_tags},
            }),
        }
    }
}

fn offering(kind: OfferingType, fields: Json) -> Json {
    let mut map = Map::new();
    map.insert("offeringType".into(), Json::from(kind.as_str()));
    if let Json::Object(f) = fields {
        map.extend(f);
    }
    Json::Object(map)
}

/// The offerings for `plans`, with ARNs from `role_arns` and placeholders for roles not in it.
pub fn offerings(plans: &PlanSet, role_arns: &BTreeMap<RoleKey, String>) -> Vec<Json> {
    let arns = Arns(role_arns);
    let mut out = vec![offering(
        OfferingType::CspmMonitorAws,
        json!({"nativeCloudConnection": {"cloudRoleArn": arns.get(RoleKey::CspmMonitor)}}),
    )];
    if let Some(c) = &plans.defender_cspm {
        let mut fields = json!({
            "vmScanners": arns.scanners(c.agentless_scanning.as_ref()),
            "dataSensitivityDiscovery": arns.toggle(c.data_sensitivity_discovery, RoleKey::SensitiveDataDiscovery),
            "databasesDspm": arns.toggle(c.databases_dspm, RoleKey::DataSecurityPostureDb),
            "mdcContainersImageAssessment": arns.toggle(c.container_image_assessment, RoleKey::ContainersImageAssessment),
            "mdcContainersAgentlessDiscoveryK8s": arns.toggle(c.agentless_kubernetes_discovery, RoleKey::ContainersAgentlessDiscoveryK8s),
        });
        if c.permissions_management {
            fields["ciem"] = json!({
                "ciemDiscovery": {"cloudRoleArn": arns.get(RoleKey::Ciem)},
                "ciemOidc": {"cloudRoleArn": arns.get(RoleKey::CiemOidc), "azureActiveDirectoryAppName": CIEM_APP_NAME},
            });
        }
        out.push(offering(OfferingType::DefenderCspmAws, fields));
    }
    if let Some(s) = &plans.servers {
        let va = match s.vulnerability_assessment {
            VulnerabilityAssessment::MdeTvm => {
                json!({"enabled": true, "configuration": {"type": "TVM"}})
            }
            VulnerabilityAssessment::Qualys => {
                json!({"enabled": true, "configuration": {"type": "Qualys"}})
            }
            VulnerabilityAssessment::None => json!({"enabled": false}),
        };
        let plan = match s.plan {
            ServersPlan::P1 => "P1",
            ServersPlan::P2 => "P2",
        };
        out.push(offering(
            OfferingType::DefenderForServersAws,
            json!({
                "defenderForServers": {"cloudRoleArn": arns.get(RoleKey::DefenderForServers)},
                "arcAutoProvisioning": arns.toggle(s.arc_auto_provisioning, RoleKey::ArcAutoProvisioning),
                "mdeAutoProvisioning": if s.mde_auto_provisioning { json!({"enabled": true, "configuration": {}}) } else { json!({"enabled": false}) },
                "vaAutoProvisioning": va,
                "subPlan": {"type": plan},
                "vmScanners": arns.scanners(s.agentless_scanning.as_ref()),
            }),
        ));
    }
    if let Some(c) = &plans.containers {
        out.push(offering(
            OfferingType::DefenderForContainersAws,
            json!({
                "kubernetesService": {"cloudRoleArn": arns.get(RoleKey::ContainersK8s)},
                "kubernetesDataCollection": {"cloudRoleArn": arns.get(RoleKey::ContainersDataCollection)},
                "cloudWatchToKinesis": {"cloudRoleArn": arns.get(RoleKey::ContainersCloudwatchToKinesis)},
                "kinesisToS3": {"cloudRoleArn": arns.get(RoleKey::ContainersKinesisToS3)},
                "enableAuditLogsAutoProvisioning": c.audit_logs,
                "enableDefenderAgentAutoProvisioning": c.defender_agent,
                "enablePolicyAgentAutoProvisioning": c.policy_agent,
                "kubeAuditRetentionTime": c.audit_log_retention_days,
                "dataCollectionExternalId": c.data_collection_external_id,
                "mdcContainersImageAssessment": arns.toggle(c.container_image_assessment, RoleKey::ContainersImageAssessment),
                "mdcContainersAgentlessDiscoveryK8s": arns.toggle(c.agentless_kubernetes_discovery, RoleKey::ContainersAgentlessDiscoveryK8s),
                "vmScanners": arns.scanners(c.agentless_scanning.as_ref()),
            }),
        ));
    }
    if let Some(d) = &plans.databases {
        out.push(offering(
            OfferingType::DefenderForDatabasesAws,
            json!({
                "arcAutoProvisioning": arns.toggle(d.arc_auto_provisioning, RoleKey::ArcAutoProvisioning),
                "rds": arns.toggle(d.rds, RoleKey::DataSecurityPostureDb),
                "databasesDspm": arns.toggle(d.databases_dspm, RoleKey::DataSecurityPostureDb),
            }),
        ));
    }
    out
}

/// [`offerings`] as canonical JSON.
pub fn offerings_json(plans: &PlanSet, role_arns: &BTreeMap<RoleKey, String>) -> String {
    canonical_json(&Json::Array(offerings(plans, role_arns)))
}

/// Replaces every role-ARN placeholder in an offerings document with the ARN from `role_arns`;
/// returns the keys whose placeholder is still there because no ARN was given.
pub fn fill_role_arns(offerings: &mut Json, role_arns: &BTreeMap<RoleKey, String>) -> Vec<RoleKey> {
    let mut missing = Vec::new();
    fill(offerings, role_arns, &mut missing);
    missing.sort();
    missing.dedup();
    missing
}

fn fill(value: &mut Json, arns: &BTreeMap<RoleKey, String>, missing: &mut Vec<RoleKey>) {
    match value {
        Json::String(s) => {
            if let Some(key) = RoleKey::ALL
                .into_iter()
                .find(|k| *s == role_arn_placeholder(*k))
            {
                match arns.get(&key) {
                    Some(arn) => *s = arn.clone(),
                    None => missing.push(key),
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|v| fill(v, arns, missing)),
        Json::Object(map) => map.values_mut().for_each(|v| fill(v, arns, missing)),
        _ => {}
    }
}
