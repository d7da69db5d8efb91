//! Which IAM roles a plan set needs in the AWS account: default names, the connector field each
//! role's ARN goes to, how the role trusts Defender for Cloud, and its permissions. Facts from
//! Microsoft's onboarding templates (role names, audiences, principals); see `policies` for the
//! permission lists.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::offerings::OfferingType;
use super::plans::{Access, PlanSet};
use super::policies;

/// A role Defender for Cloud may need, by the job it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleKey {
    /// Foundational CSPM's read-only role.
    CspmMonitor,
    /// Agentless disk scanning (snapshots).
    AgentlessScanner,
    /// Defender for Servers (just-in-time network access).
    DefenderForServers,
    /// Azure Arc auto-provisioning through SSM.
    ArcAutoProvisioning,
    /// Defender for Containers: EKS log pipeline provisioning.
    ContainersK8s,
    /// Defender for Containers: Microsoft's collector reading the audit logs.
    ContainersDataCollection,
    /// CloudWatch Logs writing to Kinesis Data Firehose.
    ContainersCloudwatchToKinesis,
    /// Kinesis Data Firehose writing to S3.
    ContainersKinesisToS3,
    /// Agentless container image assessment (ECR).
    ContainersImageAssessment,
    /// Agentless discovery of EKS clusters.
    ContainersAgentlessDiscoveryK8s,
    /// Sensitive data discovery in S3.
    SensitiveDataDiscovery,
    /// Data security posture of databases.
    DataSecurityPostureDb,
    /// Permissions management: the role Entra ID federates into.
    CiemOidc,
    /// Permissions management: the discovery role the OIDC role assumes.
    Ciem,
}

impl RoleKey {
    /// Every key, in output order.
    pub const ALL: [RoleKey; 14] = [
        RoleKey::CspmMonitor,
        RoleKey::AgentlessScanner,
        RoleKey::DefenderForServers,
        RoleKey::ArcAutoProvisioning,
        RoleKey::ContainersK8s,
        RoleKey::ContainersDataCollection,
        RoleKey::ContainersCloudwatchToKinesis,
        RoleKey::ContainersKinesisToS3,
        RoleKey::ContainersImageAssessment,
        RoleKey::ContainersAgentlessDiscoveryK8s,
        RoleKey::SensitiveDataDiscovery,
        RoleKey::DataSecurityPostureDb,
        RoleKey::CiemOidc,
        RoleKey::Ciem,
    ];

    /// The key as written in configuration and outputs (`cspm_monitor`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKey::CspmMonitor => "cspm_monitor",
            RoleKey::AgentlessScanner => "agentless_scanner",
            RoleKey::DefenderForServers => "defender_for_servers",
            RoleKey::ArcAutoProvisioning => "arc_auto_provisioning",
            RoleKey::ContainersK8s => "containers_k8s",
            RoleKey::ContainersDataCollection => "containers_data_collection",
            RoleKey::ContainersCloudwatchToKinesis => "containers_cloudwatch_to_kinesis",
            RoleKey::ContainersKinesisToS3 => "containers_kinesis_to_s3",
            RoleKey::ContainersImageAssessment => "containers_image_assessment",
            RoleKey::ContainersAgentlessDiscoveryK8s => "containers_agentless_discovery_k8s",
            RoleKey::SensitiveDataDiscovery => "sensitive_data_discovery",
            RoleKey::DataSecurityPostureDb => "data_security_posture_db",
            RoleKey::CiemOidc => "ciem_oidc",
            RoleKey::Ciem => "ciem",
        }
    }

    /// The key named `text`.
    pub fn parse(text: &str) -> Option<RoleKey> {
        RoleKey::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The role name Microsoft's templates use.
    pub fn default_name(self) -> &'static str {
        match self {
            RoleKey::CspmMonitor => "CspmMonitorAws",
            RoleKey::AgentlessScanner => "DefenderForCloud-AgentlessScanner",
            RoleKey::DefenderForServers => "DefenderForCloud-DefenderForServers",
            RoleKey::ArcAutoProvisioning => "DefenderForCloud-ArcAutoProvisioning",
            RoleKey::ContainersK8s => "DefenderForCloud-Containers-K8s",
            RoleKey::ContainersDataCollection => "DefenderForCloud-DataCollection",
            RoleKey::ContainersCloudwatchToKinesis => {
                "DefenderForCloud-Containers-K8s-cloudwatch-to-kinesis"
            }
            RoleKey::ContainersKinesisToS3 => "DefenderForCloud-Containers-K8s-kinesis-to-s3",
            RoleKey::ContainersImageAssessment => "MDCContainersImageAssessmentRole",
            RoleKey::ContainersAgentlessDiscoveryK8s => "MDCContainersAgentlessDiscoveryK8sRole",
            RoleKey::SensitiveDataDiscovery => "SensitiveDataDiscovery",
            RoleKey::DataSecurityPostureDb => "DefenderForCloud-DataSecurityPostureDB",
            RoleKey::CiemOidc => "DefenderForCloud-OidcCiem",
            RoleKey::Ciem => "DefenderForCloud-Ciem",
        }
    }

    /// Defender only assumes the container roles when their name starts with `MDC`.
    pub fn requires_mdc_prefix(self) -> bool {
        matches!(
            self,
            RoleKey::ContainersImageAssessment | RoleKey::ContainersAgentlessDiscoveryK8s
        )
    }

    /// CloudFormation logical id of the role (`CspmMonitorRole`, ...).
    pub fn logical_id(self) -> String {
        logical_id(self.as_str())
    }
}

/// A CloudFormation logical id for a role key: the key's words in CamelCase, then `Role`
/// (`cspm_monitor` -> `CspmMonitorRole`). Logical ids are alphanumeric.
pub fn logical_id(key: &str) -> String {
    let camel: String = key
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!("{camel}Role")
}

/// How a role trusts the principal that assumes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Trust {
    /// `sts:AssumeRoleWithWebIdentity` through the OIDC provider for Microsoft's tenant, bound to
    /// `audience` and to the session name `MicrosoftDefenderForClouds_<customer tenant>`.
    WebIdentity {
        /// The `aud` the token must carry.
        audience: String,
    },
    /// As [`Trust::WebIdentity`], plus `sts:AssumeRole` by Microsoft's collector user in another
    /// AWS account, which must present `external_id`.
    WebIdentityAndExternalAccount {
        /// The `aud` the token must carry.
        audience: String,
        /// ARN of the foreign principal.
        principal: String,
        /// The `sts:ExternalId` it must present.
        external_id: String,
    },
    /// An AWS service assumes the role; optionally it must present the account id as external id.
    Service {
        /// Service principal (`logs.amazonaws.com`, ...).
        service: String,
        /// Require `sts:ExternalId` = the role's own account id.
        external_id_is_account: bool,
    },
    /// Web identity through an OIDC provider for the *customer's* tenant (permissions
    /// management), bound to `audience` and the token subject.
    CustomerTenantOidc {
        /// The `aud` the token must carry.
        audience: String,
        /// The `sub` the token must carry (the service principal's object id).
        subject: String,
    },
    /// `sts:AssumeRole` by another role of this plan set, in the same account.
    AssumedByRole {
        /// Key of that role.
        role: RoleKey,
    },
}

/// One connector field that receives a role's ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ArnField {
    /// The offering the field belongs to.
    pub offering: OfferingType,
    /// Dotted path inside that offering, e.g. `vmScanners.cloudRoleArn`.
    pub path: &'static str,
}

impl std::fmt::Display for ArnField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.offering.as_str(), self.path)
    }
}

/// One IAM role a plan set needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AwsRole {
    /// What the role is for.
    pub key: RoleKey,
    /// Role name (default or overridden).
    pub name: String,
    /// How it trusts its principal.
    pub trust: Trust,
    /// Connector fields its ARN goes to (sorted).
    pub arn_fields: Vec<ArnField>,
    /// AWS managed policies to attach (sorted).
    pub managed_policy_arns: Vec<String>,
    /// Name of the inline policy, when there is one.
    pub inline_policy_name: Option<String>,
    /// Inline policy document (canonical JSON), when there is one.
    pub inline_policy: Option<String>,
}

impl AwsRole {
    /// The web-identity audience, for roles federated through Microsoft's or the customer's tenant.
    pub fn audience(&self) -> Option<&str> {
        match &self.trust {
            Trust::WebIdentity { audience }
            | Trust::WebIdentityAndExternalAccount { audience, .. }
            | Trust::CustomerTenantOidc { audience, .. } => Some(audience),
            Trust::Service { .. } | Trust::AssumedByRole { .. } => None,
        }
    }

    /// The offerings its ARN appears in (sorted, distinct).
    pub fn offerings(&self) -> Vec<OfferingType> {
        let set: BTreeSet<OfferingType> = self.arn_fields.iter().map(|f| f.offering).collect();
        set.into_iter().collect()
    }
}

/// Audience of Foundational CSPM's application.
pub const AUDIENCE_CSPM: &str = "api://4d8bed1f-eee7-4d8e-b0dc-8462049a4479";
/// Audience of Defender for Servers (also Arc auto-provisioning).
pub const AUDIENCE_SERVERS: &str = "api://AzureSecurityCenter.MultiCloud.DefenderForServers";
/// Audience of the agentless scanner.
pub const AUDIENCE_VM_SCANNER: &str =
    "api://AzureSecurityCenter.MultiCloud.DefenderForServers.VmScanner";
/// Audience of Defender for Databases / database DSPM.
pub const AUDIENCE_DATABASES: &str = "api://AzureSecurityCenter.MultiCloud.DefenderForDatabases";
/// Audience of the containers applications.
pub const AUDIENCE_CONTAINERS: &str = "api://6610e979-c931-41ec-adc7-b9920c9d52f1";
/// Audience of the containers data collector.
pub const AUDIENCE_DATA_COLLECTION: &str = "api://1462b192-27f7-4cb9-8523-0f4ecb54b47e";
/// Audience of sensitive data discovery.
pub const AUDIENCE_DATA_DISCOVERY: &str = "api://b2f86835-c959-461c-b08c-2cd5ca382af5";
/// Audience of permissions management's OIDC app (customer tenant).
pub const AUDIENCE_CIEM: &str = "api://mciem-aws-oidc-app";
/// Subject (service principal object id) permissions management's tokens carry.
pub const CIEM_SUBJECT: &str = "f819bf1c-9cf9-42c3-bd59-82c507565fa1";
/// Microsoft's collector user that reads the containers audit logs.
pub const DATA_COLLECTION_PRINCIPAL: &str = "arn:aws:iam::197857026523:user/azuredefender-eks";

fn trust_of(key: RoleKey, plans: &PlanSet) -> Trust {
    let web = |a: &str| Trust::WebIdentity {
        audience: a.to_owned(),
    };
    match key {
        RoleKey::CspmMonitor => web(AUDIENCE_CSPM),
        RoleKey::AgentlessScanner => web(AUDIENCE_VM_SCANNER),
        RoleKey::DefenderForServers | RoleKey::ArcAutoProvisioning => web(AUDIENCE_SERVERS),
        RoleKey::ContainersK8s
        | RoleKey::ContainersImageAssessment
        | RoleKey::ContainersAgentlessDiscoveryK8s => web(AUDIENCE_CONTAINERS),
        RoleKey::ContainersDataCollection => Trust::WebIdentityAndExternalAccount {
            audience: AUDIENCE_DATA_COLLECTION.to_owned(),
            principal: DATA_COLLECTION_PRINCIPAL.to_owned(),
            external_id: plans.containers.as_ref().map_or_else(
                || super::plans::DEFAULT_DATA_COLLECTION_EXTERNAL_ID.to_owned(),
                |c| c.data_collection_external_id.clone(),
            ),
        },
        RoleKey::ContainersCloudwatchToKinesis => Trust::Service {
            service: "logs.amazonaws.com".to_owned(),
            external_id_is_account: false,
        },
        RoleKey::ContainersKinesisToS3 => Trust::Service {
            service: "firehose.amazonaws.com".to_owned(),
            external_id_is_account: true,
        },
        RoleKey::SensitiveDataDiscovery => web(AUDIENCE_DATA_DISCOVERY),
        RoleKey::DataSecurityPostureDb => web(AUDIENCE_DATABASES),
        RoleKey::CiemOidc => Trust::CustomerTenantOidc {
            audience: AUDIENCE_CIEM.to_owned(),
            subject: CIEM_SUBJECT.to_owned(),
        },
        RoleKey::Ciem => Trust::AssumedByRole {
            role: RoleKey::CiemOidc,
        },
    }
}

/// Which connector fields need which role, for this plan set.
fn arn_fields(plans: &PlanSet) -> BTreeMap<RoleKey, BTreeSet<ArnField>> {
    use OfferingType::*;
    let mut out: BTreeMap<RoleKey, BTreeSet<ArnField>> = BTreeMap::new();
    let mut add = |key: RoleKey, offering: OfferingType, path: &'static str| {
        out.entry(key)
            .or_default()
            .insert(ArnField { offering, path });
    };
    add(
        RoleKey::CspmMonitor,
        CspmMonitorAws,
        "nativeCloudConnection.cloudRoleArn",
    );
    const VM: &str = "vmScanners.cloudRoleArn";
    const IMAGES: &str = "mdcContainersImageAssessment.cloudRoleArn";
    const K8S: &str = "mdcContainersAgentlessDiscoveryK8s.cloudRoleArn";
    if let Some(c) = &plans.defender_cspm {
        if c.agentless_scanning.is_some() {
            add(RoleKey::AgentlessScanner, DefenderCspmAws, VM);
        }
        if c.data_sensitivity_discovery {
            add(
                RoleKey::SensitiveDataDiscovery,
                DefenderCspmAws,
                "dataSensitivityDiscovery.cloudRoleArn",
            );
        }
        if c.databases_dspm {
            add(
                RoleKey::DataSecurityPostureDb,
                DefenderCspmAws,
                "databasesDspm.cloudRoleArn",
            );
        }
        if c.permissions_management {
            add(
                RoleKey::Ciem,
                DefenderCspmAws,
                "ciem.ciemDiscovery.cloudRoleArn",
            );
            add(
                RoleKey::CiemOidc,
                DefenderCspmAws,
                "ciem.ciemOidc.cloudRoleArn",
            );
        }
        if c.container_image_assessment {
            add(RoleKey::ContainersImageAssessment, DefenderCspmAws, IMAGES);
        }
        if c.agentless_kubernetes_discovery {
            add(
                RoleKey::ContainersAgentlessDiscoveryK8s,
                DefenderCspmAws,
                K8S,
            );
        }
    }
    if let Some(s) = &plans.servers {
        add(
            RoleKey::DefenderForServers,
            DefenderForServersAws,
            "defenderForServers.cloudRoleArn",
        );
        if s.arc_auto_provisioning {
            add(
                RoleKey::ArcAutoProvisioning,
                DefenderForServersAws,
                "arcAutoProvisioning.cloudRoleArn",
            );
        }
        if s.agentless_scanning.is_some() {
            add(RoleKey::AgentlessScanner, DefenderForServersAws, VM);
        }
    }
    if let Some(c) = &plans.containers {
        // Microsoft's templates always create the four log-pipeline roles with the plan.
        add(
            RoleKey::ContainersK8s,
            DefenderForContainersAws,
            "kubernetesService.cloudRoleArn",
        );
        add(
            RoleKey::ContainersDataCollection,
            DefenderForContainersAws,
            "kubernetesDataCollection.cloudRoleArn",
        );
        add(
            RoleKey::ContainersCloudwatchToKinesis,
            DefenderForContainersAws,
            "cloudWatchToKinesis.cloudRoleArn",
        );
        add(
            RoleKey::ContainersKinesisToS3,
            DefenderForContainersAws,
            "kinesisToS3.cloudRoleArn",
        );
        if c.container_image_assessment {
            add(
                RoleKey::ContainersImageAssessment,
                DefenderForContainersAws,
                IMAGES,
            );
        }
        if c.agentless_kubernetes_discovery {
            add(
                RoleKey::ContainersAgentlessDiscoveryK8s,
                DefenderForContainersAws,
                K8S,
            );
        }
        if c.agentless_scanning.is_some() {
            add(RoleKey::AgentlessScanner, DefenderForContainersAws, VM);
        }
    }
    if let Some(d) = &plans.databases {
        if d.arc_auto_provisioning {
            add(
                RoleKey::ArcAutoProvisioning,
                DefenderForDatabasesAws,
                "arcAutoProvisioning.cloudRoleArn",
            );
        }
        // UNVERIFIED which role `rds` expects; Microsoft's templates define no other database role.
        if d.rds {
            add(
                RoleKey::DataSecurityPostureDb,
                DefenderForDatabasesAws,
                "rds.cloudRoleArn",
            );
        }
        if d.databases_dspm {
            add(
                RoleKey::DataSecurityPostureDb,
                DefenderForDatabasesAws,
                "databasesDspm.cloudRoleArn",
            );
        }
    }
    out
}

/// The name of role `key` in this plan set.
pub fn role_name(plans: &PlanSet, key: RoleKey) -> String {
    plans
        .role_names
        .get(&key)
        .cloned()
        .unwrap_or_else(|| key.default_name().to_owned())
}

/// Every role the plan set needs, in [`RoleKey::ALL`] order.
pub fn required_roles(plans: &PlanSet) -> Vec<AwsRole> {
    let access: Access = plans.access;
    arn_fields(plans)
        .into_iter()
        .map(|(key, fields)| {
            let names = |k: RoleKey| role_name(plans, k);
            let inline = policies::inline_policy(key, access, &names);
            AwsRole {
                key,
                name: role_name(plans, key),
                trust: trust_of(key, plans),
                arn_fields: fields.into_iter().collect(),
                managed_policy_arns: policies::managed_policies(key, access)
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
                inline_policy_name: inline.as_ref().map(|_| policies::inline_policy_name(key)),
                inline_policy: inline.map(|p| super::canonical_json(&p)),
            }
        })
        .collect()
}

/// The client ids (audiences) the OIDC provider for Microsoft's tenant must list: those of the
/// roles federated through it.
pub fn microsoft_audiences(roles: &[AwsRole]) -> BTreeSet<String> {
    roles
        .iter()
        .filter(|r| {
            matches!(
                r.trust,
                Trust::WebIdentity { .. } | Trust::WebIdentityAndExternalAccount { .. }
            )
        })
        .filter_map(|r| r.audience().map(str::to_owned))
        .collect()
}

/// Whether the plan set needs the second OIDC provider, for the customer's own tenant.
pub fn needs_customer_tenant_provider(roles: &[AwsRole]) -> bool {
    roles
        .iter()
        .any(|r| matches!(r.trust, Trust::CustomerTenantOidc { .. }))
}
