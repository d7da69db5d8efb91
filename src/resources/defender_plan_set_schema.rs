//! The plan set's input blocks, shared by `multicloud_defender_plan_set` and
//! `multicloud_aws_onboarding_template`, and the conversions between Terraform values and the
//! onboarding domain: configuration to [`PlanSetSpec`], input problems to diagnostics, and a
//! validated [`PlanSet`] to the computed attributes.

use std::collections::BTreeMap;

use crate::onboarding::{
    self, AgentlessScanningSpec, ContainersSpec, DatabasesSpec, DefenderCspmSpec, InputIssue,
    OnboardingError, PathSegment, PlanSet, PlanSetSpec, ServersSpec, TemplateKind,
};
use crate::protocol::{AttrPath, Attribute, Block, Diagnostics, NestedBlock, Type, Value};

fn opt_bool(name: &str, description: &str) -> Attribute {
    Attribute::bool(name).optional().description(description)
}

fn opt_string(name: &str, description: &str) -> Attribute {
    Attribute::string(name).optional().description(description)
}

fn scanning_block(default: &str) -> NestedBlock {
    NestedBlock::single(
        "agentless_scanning",
        Block::new()
            .description(format!(
                "Agentless scanning of EC2 disks through snapshots. {default}"
            ))
            .attribute(opt_bool(
                "enabled",
                "Whether agentless scanning is on. Defaults to `true` when the block is present.",
            ))
            .attribute(opt_string(
                "scanning_mode",
                "The scanning mode; `Default` is the only one the API defines. Defaults to `Default`.",
            ))
            .attribute(
                Attribute::map("exclusion_tags", Type::String)
                    .optional()
                    .description(
                        "Instances with any of these tags (key = value) are not scanned. Keys are 1 to 128 \
                         characters without the `aws:` prefix, values up to 256, as EC2 tags allow.",
                    ),
            ),
    )
}

/// Adds the plan set's input attributes and blocks to `block`.
pub(crate) fn input_schema(block: Block) -> Block {
    block
        .attribute(opt_string(
            "access",
            "How much access the IAM roles grant: `default` (broad read access that also covers \
             capabilities Microsoft adds later) or `least_privilege` (only what today's capabilities \
             need). Defaults to `default`.",
        ))
        .attribute(
            Attribute::map("role_names", Type::String)
                .optional()
                .description(ROLE_NAMES),
        )
        .block(NestedBlock::single(
            "defender_cspm",
            Block::new()
                .description(
                    "Defender CSPM (paid posture management). Every component defaults to on, as in the \
                     portal; switch one off with `false`.",
                )
                .attribute(opt_bool("data_sensitivity_discovery", "Sensitive data discovery in S3. Defaults to `true`."))
                .attribute(opt_bool("permissions_management", "Permissions management (CIEM). Defaults to `true`."))
                .attribute(opt_bool("container_image_assessment", "Agentless vulnerability assessment of ECR images. Defaults to `true`."))
                .attribute(opt_bool("agentless_kubernetes_discovery", "Agentless discovery of EKS clusters. Defaults to `true`."))
                .attribute(opt_bool("databases_dspm", "Data security posture of databases (RDS). Defaults to `true`."))
                .block(scanning_block("On when the block is absent.")),
        ))
        .block(NestedBlock::single(
            "servers",
            Block::new()
                .description("Defender for Servers on EC2 instances.")
                .attribute(opt_string("plan", "The sub-plan: `P1` or `P2`. Defaults to `P2`."))
                .attribute(opt_bool("arc_auto_provisioning", "Install Azure Arc on EC2 instances through SSM. Defaults to `true`."))
                .attribute(opt_bool("mde_auto_provisioning", "Provision Defender for Endpoint on the machines. Defaults to `true`."))
                .attribute(opt_string(
                    "vulnerability_assessment",
                    "Vulnerability assessment: `mdeTvm` (Defender Vulnerability Management, needs \
                     `mde_auto_provisioning`), `qualys` or `none`. Defaults to `mdeTvm`, or `none` when \
                     `mde_auto_provisioning` is `false`.",
                ))
                .block(scanning_block("Plan 2 only; on for `P2` when the block is absent.")),
        ))
        .block(NestedBlock::single(
            "containers",
            Block::new()
                .description("Defender for Containers on EKS clusters.")
                .attribute(opt_bool("audit_logs", "Ship EKS audit logs to Defender. Defaults to `true`."))
                .attribute(opt_bool("defender_agent", "Provision the Defender sensor on the clusters. Defaults to `true`."))
                .attribute(opt_bool("policy_agent", "Provision the Azure Policy extension on the clusters. Defaults to `true`."))
                .attribute(
                    Attribute::int("audit_log_retention_days")
                        .optional()
                        .description("Days the audit logs are kept, 1 to 3650. Defaults to `30`."),
                )
                .attribute(opt_string(
                    "data_collection_external_id",
                    "The external id Microsoft's collector presents to the data collection role. Defaults to \
                     the id Microsoft's templates use.",
                ))
                .attribute(opt_bool("container_image_assessment", "Agentless vulnerability assessment of ECR images. Defaults to `true`."))
                .attribute(opt_bool("agentless_kubernetes_discovery", "Agentless discovery of EKS clusters. Defaults to `true`."))
                .block(scanning_block("Off when the block is absent.")),
        ))
        .block(NestedBlock::single(
            "databases",
            Block::new()
                .description("Defender for Databases (SQL Server on EC2, RDS).")
                .attribute(opt_bool("arc_auto_provisioning", "Install Azure Arc on EC2 instances through SSM. Defaults to `true`."))
                .attribute(opt_bool("rds", "Protect RDS instances. Defaults to `true`."))
                .attribute(opt_bool("databases_dspm", "Data security posture of databases. Defaults to `true`.")),
        ))
}

const ROLE_NAMES: &str = "IAM role names that replace the defaults, by role key: `cspm_monitor`, \
`agentless_scanner`, `defender_for_servers`, `arc_auto_provisioning`, `containers_k8s`, \
`containers_data_collection`, `containers_cloudwatch_to_kinesis`, `containers_kinesis_to_s3`, \
`containers_image_assessment`, `containers_agentless_discovery_k8s`, `sensitive_data_discovery`, \
`data_security_posture_db`, `ciem_oidc`, `ciem`. Names are at most 64 characters; the two \
`containers_image_assessment` / `containers_agentless_discovery_k8s` names must start with `MDC`. \
Keys of roles the plans do not need are ignored.";

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_map()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn present(v: &Value) -> Option<&Value> {
    (!v.is_null()).then_some(v)
}

fn scanning(v: &Value) -> Option<AgentlessScanningSpec> {
    present(v.get("agentless_scanning")).map(|s| AgentlessScanningSpec {
        enabled: s.get("enabled").as_bool(),
        scanning_mode: string(s.get("scanning_mode")),
        exclusion_tags: string_map(s.get("exclusion_tags")),
    })
}

/// The plan set written in `config`, or `None` while any of it is unknown.
pub(crate) fn spec(config: &Value) -> Option<PlanSetSpec> {
    let inputs = [
        "access",
        "role_names",
        "defender_cspm",
        "servers",
        "containers",
        "databases",
    ];
    if !inputs.iter().all(|n| config.get(n).is_fully_known()) {
        return None;
    }
    Some(PlanSetSpec {
        access: string(config.get("access")),
        role_names: string_map(config.get("role_names")),
        defender_cspm: present(config.get("defender_cspm")).map(|c| DefenderCspmSpec {
            agentless_scanning: scanning(c),
            data_sensitivity_discovery: c.get("data_sensitivity_discovery").as_bool(),
            permissions_management: c.get("permissions_management").as_bool(),
            container_image_assessment: c.get("container_image_assessment").as_bool(),
            agentless_kubernetes_discovery: c.get("agentless_kubernetes_discovery").as_bool(),
            databases_dspm: c.get("databases_dspm").as_bool(),
        }),
        servers: present(config.get("servers")).map(|s| ServersSpec {
            plan: string(s.get("plan")),
            arc_auto_provisioning: s.get("arc_auto_provisioning").as_bool(),
            mde_auto_provisioning: s.get("mde_auto_provisioning").as_bool(),
            vulnerability_assessment: string(s.get("vulnerability_assessment")),
            agentless_scanning: scanning(s),
        }),
        containers: present(config.get("containers")).map(|c| ContainersSpec {
            audit_logs: c.get("audit_logs").as_bool(),
            defender_agent: c.get("defender_agent").as_bool(),
            policy_agent: c.get("policy_agent").as_bool(),
            audit_log_retention_days: c.get("audit_log_retention_days").as_i64(),
            data_collection_external_id: string(c.get("data_collection_external_id")),
            container_image_assessment: c.get("container_image_assessment").as_bool(),
            agentless_kubernetes_discovery: c.get("agentless_kubernetes_discovery").as_bool(),
            agentless_scanning: scanning(c),
        }),
        databases: present(config.get("databases")).map(|d| DatabasesSpec {
            arc_auto_provisioning: d.get("arc_auto_provisioning").as_bool(),
            rds: d.get("rds").as_bool(),
            databases_dspm: d.get("databases_dspm").as_bool(),
        }),
    })
}

fn attr_path(issue: &InputIssue) -> Option<AttrPath> {
    let mut segments = issue.path.iter();
    let mut path = match segments.next()? {
        PathSegment::Attr(a) => AttrPath::root(a),
        PathSegment::Key(_) => return None,
    };
    for seg in segments {
        path = match seg {
            PathSegment::Attr(a) => path.attr(a),
            PathSegment::Key(k) => path.key(k),
        };
    }
    Some(path)
}

/// Validates the plan set in `config`; problems become diagnostics on their attributes.
/// `None` when the configuration is not fully known yet or is invalid.
pub(crate) fn plan_set(config: &Value, diags: &mut Diagnostics) -> Option<PlanSet> {
    // The domain takes whole days; a fraction would otherwise read as "not set".
    if let Value::Number(n) = config.get("containers").get("audit_log_retention_days")
        && n.as_i64().is_none()
    {
        diags.attribute_error(
            AttrPath::root("containers").attr("audit_log_retention_days"),
            "Value out of range",
            format!("{n} is not a whole number of days; use a number between 1 and 3650"),
        );
        return None;
    }
    let spec = spec(config)?;
    match PlanSet::new(&spec) {
        Ok(p) => Some(p),
        Err(OnboardingError::Invalid(issues)) => {
            for issue in issues {
                match attr_path(&issue) {
                    Some(path) => diags.attribute_error(path, issue.summary, issue.detail),
                    None => diags.error(issue.summary, issue.detail),
                }
            }
            None
        }
        Err(other) => {
            diags.error("Invalid plan set", other.to_string());
            None
        }
    }
}

/// The object type of one `aws_roles` element.
pub(crate) fn role_type() -> Type {
    let strings = || Type::list(Type::String);
    Type::object([
        ("key", Type::String),
        ("name", Type::String),
        ("trust", Type::String),
        ("audience", Type::String),
        ("offerings", strings()),
        ("arn_fields", strings()),
        ("managed_policy_arns", strings()),
        ("inline_policy_name", Type::String),
        ("inline_policy", Type::String),
        ("trust_policy", Type::String),
    ])
}

fn trust_kind(trust: &onboarding::Trust) -> &'static str {
    match trust {
        onboarding::Trust::WebIdentity { .. } => "web_identity",
        onboarding::Trust::WebIdentityAndExternalAccount { .. } => {
            "web_identity_and_external_account"
        }
        onboarding::Trust::Service { .. } => "aws_service",
        onboarding::Trust::CustomerTenantOidc { .. } => "customer_tenant_oidc",
        onboarding::Trust::AssumedByRole { .. } => "assumed_by_role",
    }
}

/// The `aws_roles` value.
pub(crate) fn roles_value(plans: &PlanSet) -> Value {
    Value::list(onboarding::required_roles(plans).iter().map(|r| {
        Value::object([
            ("key", Value::from(r.key.as_str())),
            ("name", Value::from(&r.name)),
            ("trust", Value::from(trust_kind(&r.trust))),
            ("audience", Value::from(r.audience())),
            (
                "offerings",
                Value::string_list(r.offerings().iter().map(|o| o.as_str())),
            ),
            (
                "arn_fields",
                Value::string_list(r.arn_fields.iter().map(ToString::to_string)),
            ),
            (
                "managed_policy_arns",
                Value::string_list(r.managed_policy_arns.iter().cloned()),
            ),
            (
                "inline_policy_name",
                Value::from(r.inline_policy_name.clone()),
            ),
            ("inline_policy", Value::from(r.inline_policy.clone())),
            (
                "trust_policy",
                Value::from(onboarding::trust_policy_template(r)),
            ),
        ])
    }))
}

/// Both CloudFormation templates: `(single account, StackSet)`.
pub(crate) fn templates(plans: &PlanSet, tenant_id: Option<&str>) -> (String, String) {
    (
        onboarding::cloudformation_template(plans, TemplateKind::SingleAccount, tenant_id),
        onboarding::cloudformation_template(plans, TemplateKind::StackSet, tenant_id),
    )
}
