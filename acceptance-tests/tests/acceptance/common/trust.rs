//! What the OIDC trust scenarios share: configurations of a plan set and a trust, and checks
//! of the AWS side through moto.

use acceptance_tests::{Emulators, Install, TerraformWorkspace};

pub(crate) const TRUST: &str = "multicloud_aws_oidc_trust.prod";
pub(crate) const MICROSOFT_ISSUER: &str = "sts.windows.net/33e01921-4d64-4f8c-a055-5bdaffd5e33d/";

/// A plan set with `plans` (HCL blocks) and a trust of its roles, with `trust_extra` lines.
pub(crate) fn config(plans: &str, trust_extra: &str) -> String {
    super::config(&format!(
        r#"
variable "tenant_id" {{
  type = string
}}

resource "multicloud_defender_plan_set" "std" {{
{plans}
}}

resource "multicloud_aws_oidc_trust" "prod" {{
  tenant_id = var.tenant_id
  roles     = multicloud_defender_plan_set.std.aws_roles
{trust_extra}
}}
{ROLE_ARNS_OUTPUT}"#
    ))
}

/// Terraform 1.0 counts a new output as a change, and `terraform import` does not write
/// outputs: scenarios that import leave this out.
pub(crate) const ROLE_ARNS_OUTPUT: &str = r#"
output "role_arns" {
  value = multicloud_aws_oidc_trust.prod.role_arns
}
"#;

pub(crate) const EVERY_PLAN: &str = r#"
  defender_cspm {
    agentless_scanning {}
    permissions_management = true
  }
  servers {
    plan = "P2"
  }
  containers {}
  databases {
    arc_auto_provisioning = true
  }
"#;

pub(crate) fn workspace(emu: &Emulators, hcl: &str) -> TerraformWorkspace {
    let ws = TerraformWorkspace::new(emu, hcl, Install::DevOverrides);
    ws.set_env("TF_VAR_tenant_id", emu.tenant_id());
    ws
}

pub(crate) fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The plan set's role names, from state.
pub(crate) fn planned_role_names(ws: &TerraformWorkspace) -> Vec<String> {
    let values = ws
        .resource_values("multicloud_defender_plan_set.std")
        .expect("plan set in state");
    sorted(
        values["aws_roles"]
            .as_array()
            .expect("aws_roles")
            .iter()
            .map(|r| r["name"].as_str().unwrap_or_default().to_owned())
            .collect(),
    )
}

/// Every federated role admits a token from Microsoft's issuer for its audience in a session
/// named after the customer's tenant, and refuses a session named after another tenant: the
/// trust is one Defender for Cloud can use, and only for this customer.
pub(crate) fn defender_can_assume_every_role(emu: &Emulators, ws: &TerraformWorkspace) {
    let moto = emu.moto();
    let trust = ws.resource_values(TRUST).expect("trust in state");
    let session = format!("MicrosoftDefenderForClouds_{}", emu.tenant_id());
    let other = "MicrosoftDefenderForClouds_00000000-0000-0000-0000-000000000000";
    let mut checked = 0;
    for role in trust["roles"].as_array().expect("roles") {
        let kind = role["trust"].as_str().unwrap_or_default();
        if !kind.starts_with("web_identity") {
            continue;
        }
        let audience = role["audience"].as_str().expect("audience");
        let arn = trust["role_arns"][role["key"].as_str().expect("key")]
            .as_str()
            .expect("role arn");
        let issuer = format!("https://{MICROSOFT_ISSUER}");
        let (status, body) = moto.assume_role_with_web_identity(arn, &session, &issuer, audience);
        assert_eq!(status, 200, "{arn}: {body}");
        let (status, body) = moto.assume_role_with_web_identity(arn, other, &issuer, audience);
        assert_eq!(status, 403, "{arn} admits another tenant: {body}");
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} federated roles");
}

/// The managed policies the plan set gives the CSPM role.
pub(crate) fn cspm_managed_policies(ws: &TerraformWorkspace) -> Vec<String> {
    let values = ws
        .resource_values("multicloud_defender_plan_set.std")
        .expect("plan set in state");
    let role = values["aws_roles"]
        .as_array()
        .expect("aws_roles")
        .iter()
        .find(|r| r["key"] == "cspm_monitor")
        .expect("the CSPM role")
        .clone();
    let arns: Vec<String> = role["managed_policy_arns"]
        .as_array()
        .expect("managed_policy_arns")
        .iter()
        .map(|a| a.as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(!arns.is_empty(), "the CSPM role has a managed policy");
    arns
}

pub(crate) fn microsoft_provider(emu: &Emulators) -> Option<String> {
    emu.moto()
        .iam_oidc_provider_arns()
        .into_iter()
        .find(|a| a.ends_with(MICROSOFT_ISSUER))
}

/// Creates another team's provider for Microsoft's issuer (e.g. for Microsoft Sentinel), with
/// its own audience `api://sentinel`; returns its ARN.
pub(crate) fn create_shared_provider(emu: &Emulators) -> String {
    emu.moto().query(
        "iam",
        "CreateOpenIDConnectProvider",
        &[
            ("Url", &format!("https://{MICROSOFT_ISSUER}")),
            ("ClientIDList.member.1", "api://sentinel"),
            (
                "ThumbprintList.member.1",
                "626d44e704d1ceabe3bf0d53397464ac8080142c",
            ),
        ],
    );
    microsoft_provider(emu).expect("pre-existing provider")
}

/// Detaches the CSPM role's managed policy outside Terraform: the next plan must update the
/// trust, and applying it must put the policy back.
pub(crate) fn assert_policy_drift_is_repaired(emu: &Emulators, ws: &TerraformWorkspace) {
    let moto = emu.moto();
    let managed = cspm_managed_policies(ws);
    moto.query(
        "iam",
        "DetachRolePolicy",
        &[("RoleName", "CspmMonitorAws"), ("PolicyArn", &managed[0])],
    );
    let plan = ws.plan_json();
    let change = plan["resource_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["address"] == TRUST)
        .expect("the trust changes");
    assert_eq!(
        change["change"]["actions"],
        serde_json::json!(["update"]),
        "{change}"
    );
    ws.apply();
    assert_eq!(moto.iam_attached_policy_arns("CspmMonitorAws"), managed);
    ws.plan_expect_empty();
}

/// Defender CSPM without permissions management, Servers `P1`/`P2` as `servers_plan`,
/// Databases with Arc auto-provisioning when `databases`, and `access` when given.
pub(crate) fn fewer_plans(servers_plan: &str, databases: bool, access: Option<&str>) -> String {
    let access = access.map_or(String::new(), |a| format!("  access = \"{a}\"\n"));
    let databases = if databases {
        "  databases {\n    arc_auto_provisioning = true\n  }\n"
    } else {
        ""
    };
    format!(
        "{access}  defender_cspm {{\n    agentless_scanning {{}}\n    permissions_management = false\n  }}\n  servers {{\n    plan = \"{servers_plan}\"\n  }}\n{databases}"
    )
}
