//! The typed plan set: which Defender plans are on for an AWS account, their options, and the
//! access mode. [`PlanSetSpec`] is the input as written (strings, unset options); [`PlanSet::new`]
//! validates it, applies the portal's defaults and reports every problem with its path.

use std::collections::BTreeMap;

use serde::Serialize;

use super::error::{InputIssue, OnboardingError, PathSegment};
use super::roles::RoleKey;

/// The external id Microsoft's templates put in the data collection role's trust policy.
pub const DEFAULT_DATA_COLLECTION_EXTERNAL_ID: &str = "b6d36db8-eda7-4617-9d4f-41149b899dc7";

/// IAM's limit on role names.
pub const MAX_ROLE_NAME_LEN: usize = 64;

/// How much access the roles grant (the portal's "Configure access" step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Broad read access that also covers capabilities Microsoft adds later.
    Default,
    /// Only the permissions today's capabilities need.
    LeastPrivilege,
}

/// Defender for Servers sub-plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum ServersPlan {
    /// Plan 1: Defender for Endpoint integration.
    P1,
    /// Plan 2: everything in P1 plus agentless scanning and more.
    P2,
}

/// Which vulnerability assessment Defender for Servers provisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum VulnerabilityAssessment {
    /// Defender Vulnerability Management through Defender for Endpoint (API value `TVM`).
    #[serde(rename = "mdeTvm")]
    MdeTvm,
    /// The Qualys scanner (API value `Qualys`).
    #[serde(rename = "qualys")]
    Qualys,
    /// None provisioned.
    #[serde(rename = "none")]
    None,
}

/// Agentless (snapshot-based) scanning of EC2 disks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentlessScanning {
    /// The API's scanning mode; `Default` is the only value it defines today.
    pub scanning_mode: String,
    /// Instances carrying any of these tags (key = value) are not scanned.
    pub exclusion_tags: BTreeMap<String, String>,
}

/// Defender CSPM (paid posture management) and its components.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DefenderCspm {
    /// Agentless scanning, when on.
    pub agentless_scanning: Option<AgentlessScanning>,
    /// Sensitive data discovery in S3.
    pub data_sensitivity_discovery: bool,
    /// Permissions management (CIEM).
    pub permissions_management: bool,
    /// Agentless container image vulnerability assessment (ECR).
    pub container_image_assessment: bool,
    /// Agentless discovery of EKS clusters.
    pub agentless_kubernetes_discovery: bool,
    /// Data security posture of databases (RDS snapshots).
    pub databases_dspm: bool,
}

/// Defender for Servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Servers {
    /// P1 or P2.
    pub plan: ServersPlan,
    /// Install Azure Arc on EC2 instances through SSM.
    pub arc_auto_provisioning: bool,
    /// Provision Defender for Endpoint on the Arc machines.
    pub mde_auto_provisioning: bool,
    /// Vulnerability assessment solution.
    pub vulnerability_assessment: VulnerabilityAssessment,
    /// Agentless scanning (P2 only), when on.
    pub agentless_scanning: Option<AgentlessScanning>,
}

/// Defender for Containers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Containers {
    /// Ship EKS audit logs to Defender.
    pub audit_logs: bool,
    /// Auto-provision the Defender sensor on EKS clusters (through Arc).
    pub defender_agent: bool,
    /// Auto-provision the Azure Policy extension on EKS clusters.
    pub policy_agent: bool,
    /// Days Defender keeps the audit logs in the account.
    pub audit_log_retention_days: i64,
    /// External id the data collection role requires from Microsoft's collector.
    pub data_collection_external_id: String,
    /// Agentless container image vulnerability assessment (ECR).
    pub container_image_assessment: bool,
    /// Agentless discovery of EKS clusters.
    pub agentless_kubernetes_discovery: bool,
    /// Agentless scanning of the nodes, when on.
    pub agentless_scanning: Option<AgentlessScanning>,
}

/// Defender for Databases (SQL on EC2 and RDS, open-source relational databases).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Databases {
    /// Install Azure Arc on EC2 instances through SSM.
    pub arc_auto_provisioning: bool,
    /// Protection of RDS instances.
    pub rds: bool,
    /// Data security posture of databases.
    pub databases_dspm: bool,
}

/// A validated, normalised plan set. Foundational CSPM is always on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanSet {
    /// Access mode.
    pub access: Access,
    /// Role names that replace the defaults, by role key.
    pub role_names: BTreeMap<RoleKey, String>,
    /// Defender CSPM, when on.
    pub defender_cspm: Option<DefenderCspm>,
    /// Defender for Servers, when on.
    pub servers: Option<Servers>,
    /// Defender for Containers, when on.
    pub containers: Option<Containers>,
    /// Defender for Databases, when on.
    pub databases: Option<Databases>,
}

/// `agentless_scanning {}` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentlessScanningSpec {
    /// `enabled`; the block's presence means on.
    pub enabled: Option<bool>,
    /// `scanning_mode`.
    pub scanning_mode: Option<String>,
    /// `exclusion_tags`.
    pub exclusion_tags: BTreeMap<String, String>,
}

/// `defender_cspm {}` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefenderCspmSpec {
    /// `agentless_scanning {}`; absent means on with defaults.
    pub agentless_scanning: Option<AgentlessScanningSpec>,
    /// `data_sensitivity_discovery`.
    pub data_sensitivity_discovery: Option<bool>,
    /// `permissions_management`.
    pub permissions_management: Option<bool>,
    /// `container_image_assessment`.
    pub container_image_assessment: Option<bool>,
    /// `agentless_kubernetes_discovery`.
    pub agentless_kubernetes_discovery: Option<bool>,
    /// `databases_dspm`.
    pub databases_dspm: Option<bool>,
}

/// `servers {}` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServersSpec {
    /// `plan`.
    pub plan: Option<String>,
    /// `arc_auto_provisioning`.
    pub arc_auto_provisioning: Option<bool>,
    /// `mde_auto_provisioning`.
    pub mde_auto_provisioning: Option<bool>,
    /// `vulnerability_assessment`.
    pub vulnerability_assessment: Option<String>,
    /// `agentless_scanning {}`; absent means on for P2, off for P1.
    pub agentless_scanning: Option<AgentlessScanningSpec>,
}

/// `containers {}` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainersSpec {
    /// `audit_logs`.
    pub audit_logs: Option<bool>,
    /// `defender_agent`.
    pub defender_agent: Option<bool>,
    /// `policy_agent`.
    pub policy_agent: Option<bool>,
    /// `audit_log_retention_days`.
    pub audit_log_retention_days: Option<i64>,
    /// `data_collection_external_id`.
    pub data_collection_external_id: Option<String>,
    /// `container_image_assessment`.
    pub container_image_assessment: Option<bool>,
    /// `agentless_kubernetes_discovery`.
    pub agentless_kubernetes_discovery: Option<bool>,
    /// `agentless_scanning {}`; absent means off.
    pub agentless_scanning: Option<AgentlessScanningSpec>,
}

/// `databases {}` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatabasesSpec {
    /// `arc_auto_provisioning`.
    pub arc_auto_provisioning: Option<bool>,
    /// `rds`.
    pub rds: Option<bool>,
    /// `databases_dspm`.
    pub databases_dspm: Option<bool>,
}

/// The whole plan set as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanSetSpec {
    /// `access`.
    pub access: Option<String>,
    /// `role_names`.
    pub role_names: BTreeMap<String, String>,
    /// `defender_cspm {}`.
    pub defender_cspm: Option<DefenderCspmSpec>,
    /// `servers {}`.
    pub servers: Option<ServersSpec>,
    /// `containers {}`.
    pub containers: Option<ContainersSpec>,
    /// `databases {}`.
    pub databases: Option<DatabasesSpec>,
}

type Path = Vec<PathSegment>;

fn at(base: &[PathSegment], attr: &'static str) -> Path {
    let mut p = base.to_vec();
    p.push(PathSegment::Attr(attr));
    p
}

fn one_of<T: Copy>(
    value: &str,
    choices: &[(&str, T)],
    path: Path,
    issues: &mut Vec<InputIssue>,
) -> Option<T> {
    if let Some((_, v)) = choices.iter().find(|(name, _)| *name == value) {
        return Some(*v);
    }
    let names: Vec<String> = choices.iter().map(|(n, _)| format!("{n:?}")).collect();
    issues.push(InputIssue::new(
        path,
        "Unsupported value",
        format!("{value:?} is not one of {}", names.join(", ")),
    ));
    None
}

impl PlanSet {
    /// Validates `spec` and applies the defaults the portal uses when a plan is switched on.
    /// Every problem is reported, each with the path of the value that caused it.
    pub fn new(spec: &PlanSetSpec) -> Result<PlanSet, OnboardingError> {
        let mut issues = Vec::new();
        let access = match spec.access.as_deref() {
            None => Access::Default,
            Some(a) => one_of(
                a,
                &[
                    ("default", Access::Default),
                    ("least_privilege", Access::LeastPrivilege),
                ],
                vec![PathSegment::Attr("access")],
                &mut issues,
            )
            .unwrap_or(Access::Default),
        };
        let defender_cspm = spec.defender_cspm.as_ref().map(|s| cspm(s, &mut issues));
        let servers = spec.servers.as_ref().map(|s| servers(s, &mut issues));
        let containers = spec.containers.as_ref().map(|s| containers(s, &mut issues));
        let databases = spec.databases.as_ref().map(DatabasesSpec::resolve);
        let role_names = role_names(&spec.role_names, &mut issues);
        if issues.is_empty() {
            Ok(PlanSet {
                access,
                role_names,
                defender_cspm,
                servers,
                containers,
                databases,
            })
        } else {
            Err(OnboardingError::Invalid(issues))
        }
    }

    /// A stable id naming this normalised plan set: equal inputs (after defaults) give equal ids.
    pub fn id(&self) -> String {
        let json = serde_json::to_value(self).unwrap_or_default();
        format!("dps-{}", super::stable_hash(&super::canonical_json(&json)))
    }

    /// Foundational CSPM only, default access.
    pub fn foundational() -> PlanSet {
        PlanSet {
            access: Access::Default,
            role_names: BTreeMap::new(),
            defender_cspm: None,
            servers: None,
            containers: None,
            databases: None,
        }
    }
}

impl DatabasesSpec {
    fn resolve(&self) -> Databases {
        Databases {
            arc_auto_provisioning: self.arc_auto_provisioning.unwrap_or(true),
            rds: self.rds.unwrap_or(true),
            databases_dspm: self.databases_dspm.unwrap_or(true),
        }
    }
}

fn cspm(spec: &DefenderCspmSpec, issues: &mut Vec<InputIssue>) -> DefenderCspm {
    let base = [PathSegment::Attr("defender_cspm")];
    DefenderCspm {
        agentless_scanning: scanning(spec.agentless_scanning.as_ref(), true, &base, issues),
        data_sensitivity_discovery: spec.data_sensitivity_discovery.unwrap_or(true),
        permissions_management: spec.permissions_management.unwrap_or(true),
        container_image_assessment: spec.container_image_assessment.unwrap_or(true),
        agentless_kubernetes_discovery: spec.agentless_kubernetes_discovery.unwrap_or(true),
        databases_dspm: spec.databases_dspm.unwrap_or(true),
    }
}

fn servers(spec: &ServersSpec, issues: &mut Vec<InputIssue>) -> Servers {
    let base = [PathSegment::Attr("servers")];
    let plan = match spec.plan.as_deref() {
        None => ServersPlan::P2,
        Some(p) => one_of(
            p,
            &[("P1", ServersPlan::P1), ("P2", ServersPlan::P2)],
            at(&base, "plan"),
            issues,
        )
        .unwrap_or(ServersPlan::P2),
    };
    let mde = spec.mde_auto_provisioning.unwrap_or(true);
    let va = match spec.vulnerability_assessment.as_deref() {
        None if mde => VulnerabilityAssessment::MdeTvm,
        None => VulnerabilityAssessment::None,
        Some(v) => one_of(
            v,
            &[
                ("mdeTvm", VulnerabilityAssessment::MdeTvm),
                ("qualys", VulnerabilityAssessment::Qualys),
                ("none", VulnerabilityAssessment::None),
            ],
            at(&base, "vulnerability_assessment"),
            issues,
        )
        .unwrap_or(VulnerabilityAssessment::None),
    };
    if va == VulnerabilityAssessment::MdeTvm && !mde {
        issues.push(InputIssue::new(
            at(&base, "vulnerability_assessment"),
            "Conflicting options",
            "\"mdeTvm\" is delivered by Defender for Endpoint, but mde_auto_provisioning is false; \
             turn mde_auto_provisioning on, or choose \"qualys\" or \"none\"",
        ));
    }
    let explicit_scan = spec
        .agentless_scanning
        .as_ref()
        .is_some_and(|s| s.enabled != Some(false));
    if plan == ServersPlan::P1 && explicit_scan {
        issues.push(InputIssue::new(
            at(&base, "agentless_scanning"),
            "Conflicting options",
            "agentless scanning is part of Defender for Servers Plan 2; set plan = \"P2\" or remove \
             the agentless_scanning block (or set enabled = false)",
        ));
    }
    Servers {
        plan,
        arc_auto_provisioning: spec.arc_auto_provisioning.unwrap_or(true),
        mde_auto_provisioning: mde,
        vulnerability_assessment: va,
        agentless_scanning: scanning(
            spec.agentless_scanning.as_ref(),
            plan == ServersPlan::P2,
            &base,
            issues,
        ),
    }
}

fn containers(spec: &ContainersSpec, issues: &mut Vec<InputIssue>) -> Containers {
    let base = [PathSegment::Attr("containers")];
    let days = spec.audit_log_retention_days.unwrap_or(30);
    // Our choice of bounds: the API only says "days"; a day to ten years keeps typos out.
    if !(1..=3650).contains(&days) {
        issues.push(InputIssue::new(
            at(&base, "audit_log_retention_days"),
            "Value out of range",
            format!("{days} is not between 1 and 3650 days"),
        ));
    }
    let external_id = spec
        .data_collection_external_id
        .clone()
        .unwrap_or_else(|| DEFAULT_DATA_COLLECTION_EXTERNAL_ID.to_owned());
    // IAM's rule for sts:ExternalId values.
    let ok_chars = external_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/-_".contains(c));
    if !(2..=1224).contains(&external_id.len()) || !ok_chars {
        issues.push(InputIssue::new(
            at(&base, "data_collection_external_id"),
            "Invalid external id",
            format!(
                "{external_id:?} is not a valid STS external id: 2 to 1224 characters of letters, \
                 digits and +=,.@:/-_"
            ),
        ));
    }
    Containers {
        audit_logs: spec.audit_logs.unwrap_or(true),
        defender_agent: spec.defender_agent.unwrap_or(true),
        policy_agent: spec.policy_agent.unwrap_or(true),
        audit_log_retention_days: days,
        data_collection_external_id: external_id,
        container_image_assessment: spec.container_image_assessment.unwrap_or(true),
        agentless_kubernetes_discovery: spec.agentless_kubernetes_discovery.unwrap_or(true),
        agentless_scanning: scanning(spec.agentless_scanning.as_ref(), false, &base, issues),
    }
}

fn scanning(
    spec: Option<&AgentlessScanningSpec>,
    on_when_absent: bool,
    base: &[PathSegment],
    issues: &mut Vec<InputIssue>,
) -> Option<AgentlessScanning> {
    let base = at(base, "agentless_scanning");
    let enabled = spec.map_or(on_when_absent, |s| s.enabled.unwrap_or(true));
    let default = AgentlessScanningSpec::default();
    let spec = spec.unwrap_or(&default);
    let mode = spec.scanning_mode.as_deref().unwrap_or("Default");
    one_of(mode, &[("Default", ())], at(&base, "scanning_mode"), issues);
    for (key, value) in &spec.exclusion_tags {
        if let Err(detail) = tag(key, value) {
            let mut path = at(&base, "exclusion_tags");
            path.push(PathSegment::Key(key.clone()));
            issues.push(InputIssue::new(path, "Invalid exclusion tag", detail));
        }
    }
    enabled.then(|| AgentlessScanning {
        scanning_mode: mode.to_owned(),
        exclusion_tags: spec.exclusion_tags.clone(),
    })
}

/// EC2's tag rules: key 1-128 characters, value up to 256, no `aws:` prefix, letters, digits,
/// spaces and `_ . : / = + - @`.
fn tag(key: &str, value: &str) -> Result<(), String> {
    let allowed = |s: &str| {
        s.chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
    };
    if key.is_empty() || key.chars().count() > 128 {
        return Err(format!("tag key {key:?} must be 1 to 128 characters"));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(format!("tag key {key:?} uses the reserved prefix \"aws:\""));
    }
    if value.chars().count() > 256 {
        return Err(format!(
            "the value of tag {key:?} is longer than 256 characters"
        ));
    }
    if !allowed(key) || !allowed(value) {
        return Err(format!(
            "tag {key:?} = {value:?} has characters EC2 tags do not allow; use letters, digits, \
             spaces and _ . : / = + - @"
        ));
    }
    Ok(())
}

fn role_names(
    given: &BTreeMap<String, String>,
    issues: &mut Vec<InputIssue>,
) -> BTreeMap<RoleKey, String> {
    let mut out = BTreeMap::new();
    let mut seen: BTreeMap<String, RoleKey> = BTreeMap::new();
    for (key_text, name) in given {
        let path = vec![
            PathSegment::Attr("role_names"),
            PathSegment::Key(key_text.clone()),
        ];
        let Some(key) = RoleKey::parse(key_text) else {
            let keys: Vec<&str> = RoleKey::ALL.iter().map(|k| k.as_str()).collect();
            issues.push(InputIssue::new(
                path,
                "Unknown role key",
                format!(
                    "{key_text:?} is not a role key; use one of {}",
                    keys.join(", ")
                ),
            ));
            continue;
        };
        if let Err(detail) = role_name(key, name) {
            issues.push(InputIssue::new(path, "Invalid role name", detail));
            continue;
        }
        if let Some(other) = seen.insert(name.clone(), key) {
            issues.push(InputIssue::new(
                path,
                "Duplicate role name",
                format!("{name:?} is also the name of role {:?}", other.as_str()),
            ));
        }
        out.insert(key, name.clone());
    }
    out
}

/// IAM's rules for role names, plus Defender's rule that some names start with `MDC`.
fn role_name(key: RoleKey, name: &str) -> Result<(), String> {
    iam_role_name(name)?;
    if key.requires_mdc_prefix() && !name.starts_with("MDC") {
        return Err(format!(
            "{name:?} must start with \"MDC\": Defender for Cloud only assumes {} roles named so",
            key.as_str()
        ));
    }
    Ok(())
}

/// IAM's rules for role names: 1 to 64 characters of letters, digits and `+=,.@_-`.
pub fn iam_role_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_ROLE_NAME_LEN {
        return Err(format!(
            "{name:?} is {} characters; IAM role names are 1 to {MAX_ROLE_NAME_LEN}",
            name.len()
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    {
        return Err(format!(
            "{name:?} has characters IAM role names do not allow; use letters, digits and +=,.@_-"
        ));
    }
    Ok(())
}
