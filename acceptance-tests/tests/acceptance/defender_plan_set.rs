//! `multicloud_defender_plan_set` and `multicloud_aws_onboarding_template` with the real
//! Terraform CLI. Nothing remote: the scenarios check that every output is known at plan time,
//! that a change of plans shows exactly the outputs that change, that bad input is a plan-time
//! diagnostic on the attribute, and that the data source renders the template of the plans a plan
//! set declares (the plan set itself no longer stores the templates).

use crate::common;

use acceptance_tests::{Emulators, Install, TerraformWorkspace, skip_unless_acc};
use serde_json::Value;

const ADDRESS: &str = "multicloud_defender_plan_set.std";

/// The example's data source, declaring the same plans as `ADDRESS`.
const TEMPLATE: &str = "data.multicloud_aws_onboarding_template.std";

/// Every attribute an applied plan set stores: its configuration, the three outputs `id`,
/// `offerings`, `aws_roles`, and the pricing bookkeeping. No CloudFormation template.
const STATE_ATTRIBUTES: [&str; 12] = [
    "access",
    "aws_roles",
    "containers",
    "databases",
    "defender_cspm",
    "id",
    "offerings",
    "previous_pricings",
    "role_names",
    "servers",
    "subscription_id",
    "subscription_pricings",
];

/// The example's configuration written as JSON, the plan set's import id.
const IMPORT_ID: &str = r#"{"access":"least_privilege","defender_cspm":{"agentless_scanning":{"exclusion_tags":{"DefenderCspmExclusion":"true"}}},"servers":{"plan":"P2","vulnerability_assessment":"mdeTvm"},"containers":{"audit_log_retention_days":30},"databases":{"rds":true}}"#;

fn every_plan() -> String {
    common::config(&common::example(
        "resources/multicloud_defender_plan_set/resource.tf",
    ))
}

/// The example with Containers and Databases switched off.
fn fewer_plans() -> String {
    common::config(
        r#"
resource "multicloud_defender_plan_set" "std" {
  access = "least_privilege"
  defender_cspm {
    agentless_scanning {
      exclusion_tags = { DefenderCspmExclusion = "true" }
    }
  }
  servers {
    plan                     = "P2"
    vulnerability_assessment = "mdeTvm"
  }
}
"#,
    )
}

fn role_keys(values: &Value) -> Vec<String> {
    values["aws_roles"]
        .as_array()
        .expect("aws_roles is a list")
        .iter()
        .map(|r| r["key"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The one change planned for `ADDRESS`: (actions, before, after, after_unknown).
fn planned_change(plan: &Value) -> (Value, Value, Value, Value) {
    let change = plan["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .find(|c| c["address"] == ADDRESS)
        .unwrap_or_else(|| panic!("no change for {ADDRESS}: {plan}"))["change"]
        .clone();
    (
        change["actions"].clone(),
        change["before"].clone(),
        change["after"].clone(),
        change["after_unknown"].clone(),
    )
}

fn changed_keys(before: &Value, after: &Value) -> Vec<String> {
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else {
        panic!("before/after are not objects: {before} {after}");
    };
    let mut keys: Vec<String> = b
        .keys()
        .chain(a.keys())
        .filter(|k| b.get(*k) != a.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn no_unknowns(after_unknown: &Value) -> bool {
    match after_unknown {
        Value::Bool(b) => !b,
        Value::Array(items) => items.iter().all(no_unknowns),
        Value::Object(map) => map.values().all(no_unknowns),
        _ => true,
    }
}

#[test]
fn acc_defender_plan_set_basic() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let ws = TerraformWorkspace::new(&emulators, &every_plan(), Install::DevOverrides);

    // Create: every output is known in the plan, before anything is applied.
    let (actions, _, after, unknown) = planned_change(&ws.plan_json());
    assert_eq!(actions, serde_json::json!(["create"]));
    assert!(
        no_unknowns(&unknown),
        "outputs unknown at plan time: {unknown}"
    );
    assert_eq!(role_keys(&after).len(), 14, "{after}");

    ws.apply();
    let applied = ws.resource_values(ADDRESS).expect("in state");
    assert_eq!(applied, after, "apply stored other values than planned");
    assert!(
        applied["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("dps-"))
    );
    let offerings: Value =
        serde_json::from_str(applied["offerings"].as_str().expect("offerings")).expect("JSON");
    let types: Vec<&str> = offerings
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|o| o["offeringType"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "CspmMonitorAws",
            "DefenderCspmAws",
            "DefenderForServersAws",
            "DefenderForContainersAws",
            "DefenderForDatabasesAws"
        ]
    );
    // The templates are the data source's, not the plan set's.
    let mut stored: Vec<&str> = applied
        .as_object()
        .expect("values")
        .keys()
        .map(String::as_str)
        .collect();
    stored.sort_unstable();
    assert_eq!(stored, STATE_ATTRIBUTES, "{applied}");
    let data = ws.resource_values(TEMPLATE).expect("data source in state");
    assert_eq!(
        data["id"], applied["id"],
        "the data source read other plans"
    );
    let template: Value =
        serde_json::from_str(data["cloudformation_template"].as_str().expect("template"))
            .expect("JSON");
    assert_eq!(
        template["Resources"]["CspmMonitorRole"]["Properties"]["ManagedPolicyArns"][0],
        "arn:aws:iam::aws:policy/SecurityAudit"
    );
    let role_names: Vec<&str> = template["Resources"]
        .as_object()
        .expect("resources")
        .values()
        .filter_map(|r| r["Properties"]["RoleName"].as_str())
        .collect();
    for role in applied["aws_roles"].as_array().expect("aws_roles") {
        let name = role["name"].as_str().expect("name");
        assert!(role_names.contains(&name), "{name} not in {role_names:?}");
    }
    let stackset: Value = serde_json::from_str(
        data["cloudformation_stackset_template"]
            .as_str()
            .expect("stackset template"),
    )
    .expect("JSON");
    assert_eq!(stackset["Resources"], template["Resources"]);
    assert!(stackset.get("Outputs").is_none(), "{stackset}");
    ws.plan_expect_empty();

    ws.import_verify(ADDRESS, IMPORT_ID, &[]);
    // Terraform 1.0's `state rm` + `import` leave the root outputs out of the state, so the
    // plan re-adds them; the imported resource itself must plan no change.
    let (actions, ..) = planned_change(&ws.plan_json());
    assert_eq!(actions, serde_json::json!(["no-op"]));
    ws.apply();
    ws.plan_expect_empty();

    // Update: switching two plans off changes exactly those blocks and the outputs, all known.
    ws.write_config(&fewer_plans());
    let (actions, before, after, unknown) = planned_change(&ws.plan_json());
    assert_eq!(actions, serde_json::json!(["update"]));
    assert!(
        no_unknowns(&unknown),
        "outputs unknown at plan time: {unknown}"
    );
    assert_eq!(
        changed_keys(&before, &after),
        ["aws_roles", "containers", "databases", "id", "offerings"]
    );
    assert_eq!(
        role_keys(&after),
        [
            "cspm_monitor",
            "agentless_scanner",
            "defender_for_servers",
            "arc_auto_provisioning",
            "containers_image_assessment",
            "containers_agentless_discovery_k8s",
            "sensitive_data_discovery",
            "data_security_posture_db",
            "ciem_oidc",
            "ciem"
        ]
    );
    ws.apply();
    ws.plan_expect_empty();

    // Back: the outputs return to exactly what they were.
    ws.write_config(&every_plan());
    ws.apply();
    assert_eq!(ws.resource_values(ADDRESS).expect("in state"), applied);
    ws.plan_expect_empty();

    ws.destroy();
    assert!(ws.resource_values(ADDRESS).is_none());
}

#[test]
fn acc_defender_plan_set_import_rejects_a_non_json_id() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let ws = TerraformWorkspace::new(&emulators, &every_plan(), Install::DevOverrides);
    ws.init();
    let out = ws.run(&["import", "-input=false", "-no-color", ADDRESS, "dps-0123"]);
    assert!(!out.success(), "{out}");
    let text = out
        .combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text.contains("Error: Invalid import id"), "{text}");
    assert!(
        text.contains("imported from its configuration written as JSON"),
        "{text}"
    );
}

#[test]
fn acc_defender_plan_set_invalid_input() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let cases: &[(&str, &str)] = &[
        (
            r#"access = "most""#,
            r#"Unsupported value.*access = "most".*"most" is not one of "default", "least_privilege""#,
        ),
        (
            r#"servers { plan = "P3" }"#,
            r#"Unsupported value.*plan = "P3".*"P3" is not one of "P1", "P2""#,
        ),
        (
            r#"servers { vulnerability_assessment = "tvm" }"#,
            r#"Unsupported value.*vulnerability_assessment = "tvm".*is not one of "mdeTvm", "qualys", "none""#,
        ),
        (
            r#"servers {
  plan = "P1"
  agentless_scanning {}
}"#,
            r#"Conflicting options.*agentless scanning is part of Defender for Servers Plan 2"#,
        ),
        (
            r#"servers {
  mde_auto_provisioning    = false
  vulnerability_assessment = "mdeTvm"
}"#,
            r#"Conflicting options.*vulnerability_assessment = "mdeTvm".*delivered by Defender for Endpoint"#,
        ),
        (
            r#"defender_cspm {
  agentless_scanning {
    exclusion_tags = { "aws:reserved" = "x" }
  }
}"#,
            r#"Invalid exclusion tag.*exclusion_tags =.*uses the reserved prefix "aws:""#,
        ),
        (
            r#"role_names = { cspm_monitor = "CspmMonitorAwsWithAVeryLongNameThatIsLongerThanTheSixtyFourCharacterLimit" }"#,
            r#"Invalid role name.*role_names =.*IAM role names are 1 to 64"#,
        ),
        (
            r#"containers { audit_log_retention_days = 0 }"#,
            r#"Value out of range.*audit_log_retention_days = 0.*0 is not between 1 and 3650 days"#,
        ),
    ];
    for (body, pattern) in cases {
        let hcl = common::config(&format!(
            "resource \"multicloud_defender_plan_set\" \"bad\" {{\n{body}\n}}\n"
        ));
        let ws = TerraformWorkspace::new(&emulators, &hcl, Install::DevOverrides);
        let out = ws.apply_expect_error(pattern);
        let text = out.combined();
        assert!(
            !text.contains("panic") && !text.contains("plugin crashed"),
            "{body}: {text}"
        );
        assert!(
            ws.resource_values("multicloud_defender_plan_set.bad")
                .is_none(),
            "{body}: invalid plan set reached the state"
        );
    }
}

#[test]
fn acc_aws_onboarding_template_renders_the_plan_sets_roles() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let plans = r#"
  access = "least_privilege"
  defender_cspm { permissions_management = false }
  servers { plan = "P1" }
  databases {}
"#;
    let hcl = common::config(&format!(
        r#"
resource "multicloud_defender_plan_set" "p" {{
{plans}
}}
data "multicloud_aws_onboarding_template" "same" {{
{plans}
}}
data "multicloud_aws_onboarding_template" "tenant" {{
  tenant_id = "{tenant}"
{plans}
}}
output "resource_roles" {{ value = multicloud_defender_plan_set.p.aws_roles }}
output "resource_id" {{ value = multicloud_defender_plan_set.p.id }}
output "data" {{ value = data.multicloud_aws_onboarding_template.same.cloudformation_template }}
output "data_stackset" {{ value = data.multicloud_aws_onboarding_template.same.cloudformation_stackset_template }}
output "data_id" {{ value = data.multicloud_aws_onboarding_template.same.id }}
output "tenant" {{ value = data.multicloud_aws_onboarding_template.tenant.cloudformation_template }}
"#
    ));
    let ws = TerraformWorkspace::new(&emulators, &hcl, Install::DevOverrides);
    ws.apply();
    let out = ws.output_json();
    let value = |name: &str| {
        out[name]["value"]
            .as_str()
            .unwrap_or_else(|| panic!("output {name}: {out}"))
            .to_owned()
    };
    // Same plans, same id; the template creates exactly the plan set's roles.
    assert_eq!(value("resource_id"), value("data_id"));
    let plain: Value = serde_json::from_str(&value("data")).expect("JSON");
    let roles = out["resource_roles"]["value"]
        .as_array()
        .unwrap_or_else(|| panic!("output resource_roles: {out}"));
    let in_template: Vec<&Value> = plain["Resources"]
        .as_object()
        .expect("resources")
        .values()
        .filter(|r| r["Type"] == "AWS::IAM::Role")
        .collect();
    assert_eq!(in_template.len(), roles.len(), "{plain}");
    for role in roles {
        let found = in_template
            .iter()
            .find(|r| r["Properties"]["RoleName"] == role["name"])
            .unwrap_or_else(|| panic!("{} not in the template", role["name"]));
        let managed = found["Properties"]
            .get("ManagedPolicyArns")
            .cloned()
            .unwrap_or_else(|| serde_json::json!([]));
        assert_eq!(managed, role["managed_policy_arns"], "{}", role["name"]);
    }
    let stackset: Value = serde_json::from_str(&value("data_stackset")).expect("JSON");
    assert_eq!(stackset["Resources"], plain["Resources"]);
    let with_tenant: Value = serde_json::from_str(&value("tenant")).expect("JSON");
    assert_eq!(with_tenant["Resources"], plain["Resources"]);
    assert_eq!(
        with_tenant["Parameters"]["CustomerTenantId"]["Default"],
        tenant
    );
    assert!(
        plain["Parameters"]["CustomerTenantId"]
            .get("Default")
            .is_none()
    );
    ws.plan_expect_empty();
    ws.destroy();
}

#[test]
fn acc_aws_onboarding_template_deploys_as_a_stack() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let hcl = common::config(&format!(
        r#"
data "multicloud_aws_onboarding_template" "all" {{
  tenant_id = "{tenant}"
  defender_cspm {{}}
  servers {{}}
  containers {{}}
  databases {{}}
}}
output "template" {{ value = data.multicloud_aws_onboarding_template.all.cloudformation_template }}
"#
    ));
    let ws = TerraformWorkspace::new(&emulators, &hcl, Install::DevOverrides);
    ws.apply();
    let out = ws.output_json();
    let template = out["template"]["value"].as_str().expect("template");
    let moto = emulators.moto();
    moto.query(
        "cloudformation",
        "CreateStack",
        &[
            ("StackName", "defender-onboarding"),
            ("TemplateBody", template),
            ("Capabilities.member.1", "CAPABILITY_NAMED_IAM"),
        ],
    );
    // A resource that fails rolls the stack back (as in AWS), so check the status first.
    let stack = moto.query(
        "cloudformation",
        "DescribeStacks",
        &[("StackName", "defender-onboarding")],
    );
    assert!(
        stack.contains("<StackStatus>CREATE_COMPLETE</StackStatus>"),
        "{stack}\n{}",
        moto.query(
            "cloudformation",
            "DescribeStackEvents",
            &[("StackName", "defender-onboarding")],
        )
    );
    let mut roles = moto.iam_role_names();
    roles.sort();
    let expected = [
        "CspmMonitorAws",
        "DefenderForCloud-AgentlessScanner",
        "DefenderForCloud-ArcAutoProvisioning",
        "DefenderForCloud-Ciem",
        "DefenderForCloud-Containers-K8s",
        "DefenderForCloud-Containers-K8s-cloudwatch-to-kinesis",
        "DefenderForCloud-Containers-K8s-kinesis-to-s3",
        "DefenderForCloud-DataCollection",
        "DefenderForCloud-DataSecurityPostureDB",
        "DefenderForCloud-DefenderForServers",
        "DefenderForCloud-OidcCiem",
        "MDCContainersAgentlessDiscoveryK8sRole",
        "MDCContainersImageAssessmentRole",
        "SensitiveDataDiscovery",
    ];
    for name in expected {
        assert!(roles.iter().any(|r| r == name), "{name} not in {roles:?}");
    }
    // moto's CloudFormation skips AWS::IAM::OIDCProvider (not modelled), so only the roles
    // and their trust policies are checked here; the providers are pinned by unit tests.
    let ciem = percent_decode(&moto.query(
        "iam",
        "GetRole",
        &[("RoleName", "DefenderForCloud-OidcCiem")],
    ));
    assert!(
        ciem.contains(&format!("sts.windows.net/{tenant}/:aud")),
        "the customer tenant was not substituted into the CIEM trust: {ciem}"
    );
    let role = moto.query("iam", "GetRole", &[("RoleName", "CspmMonitorAws")]);
    let decoded = percent_decode(&role);
    assert!(
        decoded.contains(&format!("MicrosoftDefenderForClouds_{tenant}")),
        "{decoded}"
    );
    assert!(
        decoded.contains("api://4d8bed1f-eee7-4d8e-b0dc-8462049a4479"),
        "{decoded}"
    );
}

/// IAM returns policy documents URL-encoded inside the XML.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn acc_aws_onboarding_template_example() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let hcl = common::config(&common::example(
        "data-sources/multicloud_aws_onboarding_template/data-source.tf",
    ));
    let ws = TerraformWorkspace::new(&emulators, &hcl, Install::DevOverrides);
    ws.apply();
    let out = ws.output_json();
    let template: Value =
        serde_json::from_str(out["template"]["value"].as_str().expect("template")).expect("JSON");
    let mut resources: Vec<&String> = template["Resources"]
        .as_object()
        .expect("resources")
        .keys()
        .collect();
    resources.sort();
    assert_eq!(
        resources,
        [
            "ArcAutoProvisioningRole",
            "CspmMonitorRole",
            "DefenderForServersRole",
            "MicrosoftOidcProvider"
        ]
    );
    assert_eq!(
        template["Parameters"]["CustomerTenantId"]["Default"],
        "00000000-0000-0000-0000-000000000000"
    );
    ws.plan_expect_empty();
}
