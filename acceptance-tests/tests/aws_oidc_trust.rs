//! `multicloud_aws_oidc_trust` with the real Terraform CLI against moto (with the project's
//! extension), `deployment = "iam"`: every plan's roles applied from the plan set, a second
//! plan empty, plan switches planned and applied as the exact role changes, the access mode
//! switch, drift, import, a pre-existing provider reused and kept, destroy leaving nothing.

mod common;

use acceptance_tests::{Emulators, Install, TerraformWorkspace, skip_unless_acc};

const TRUST: &str = "multicloud_aws_oidc_trust.prod";
const MICROSOFT_ISSUER: &str = "sts.windows.net/33e01921-4d64-4f8c-a055-5bdaffd5e33d/";

/// A plan set with `plans` (HCL blocks) and a trust of its roles, with `trust_extra` lines.
pub(crate) fn config(plans: &str, trust_extra: &str) -> String {
    common::config(&format!(
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
const ROLE_ARNS_OUTPUT: &str = r#"
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

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The plan set's role names, from state.
fn planned_role_names(ws: &TerraformWorkspace) -> Vec<String> {
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
fn defender_can_assume_every_role(emu: &Emulators, ws: &TerraformWorkspace) {
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
fn cspm_managed_policies(ws: &TerraformWorkspace) -> Vec<String> {
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

fn microsoft_provider(emu: &Emulators) -> Option<String> {
    emu.moto()
        .iam_oidc_provider_arns()
        .into_iter()
        .find(|a| a.ends_with(MICROSOFT_ISSUER))
}

#[test]
fn acc_oidc_trust_iam_lifecycle() {
    skip_unless_acc!();
    let emu = Emulators::start();
    let moto = emu.moto();
    let ws = workspace(&emu, &config(EVERY_PLAN, ""));
    ws.apply();
    ws.plan_expect_empty();

    // Every role the plan set asks for exists, and nothing else.
    let names = planned_role_names(&ws);
    assert_eq!(names.len(), 14, "every plan and option: {names:?}");
    assert_eq!(sorted(moto.iam_role_names()), names);
    let state = ws.resource_values(TRUST).expect("trust in state");
    let provider = microsoft_provider(&emu).expect("the provider for Microsoft's issuer");
    assert_eq!(state["oidc_provider_arn"], provider.as_str());
    assert_eq!(state["id"], provider.as_str());
    let customer = state["customer_oidc_provider_arn"]
        .as_str()
        .expect("customer provider");
    assert!(
        customer.ends_with(&format!("sts.windows.net/{}/", emu.tenant_id())),
        "{customer}"
    );
    assert_eq!(
        moto.iam_oidc_client_ids(customer),
        ["api://mciem-aws-oidc-app"]
    );
    let audiences = sorted(moto.iam_oidc_client_ids(&provider));
    assert!(
        audiences.contains(&"api://4d8bed1f-eee7-4d8e-b0dc-8462049a4479".to_owned()),
        "{audiences:?}"
    );
    assert!(
        !audiences.contains(&"api://mciem-aws-oidc-app".to_owned()),
        "{audiences:?}"
    );

    // Each federated role trusts the provider for its audience and the tenant's sessions.
    let cspm = moto.iam_role_trust_policy("CspmMonitorAws");
    assert!(cspm.contains(&provider), "{cspm}");
    assert!(
        cspm.contains(&format!("MicrosoftDefenderForClouds_{}", emu.tenant_id())),
        "{cspm}"
    );
    assert!(
        cspm.contains("api://4d8bed1f-eee7-4d8e-b0dc-8462049a4479"),
        "{cspm}"
    );
    let arns = &ws.output_json()["role_arns"]["value"];
    assert_eq!(
        arns["cspm_monitor"],
        format!("arn:aws:iam::{}:role/CspmMonitorAws", moto.account_id()).as_str()
    );
    assert_eq!(
        moto.iam_attached_policy_arns("CspmMonitorAws"),
        cspm_managed_policies(&ws)
    );

    // Switch Containers and permissions management off: exactly their roles go, and the
    // customer tenant's provider with them; nothing else is touched.
    moto.reset_calls();
    ws.write_config(&config(
        r#"
  defender_cspm {
    agentless_scanning {}
    permissions_management = false
  }
  servers {
    plan = "P2"
  }
  databases {
    arc_auto_provisioning = true
  }
"#,
        "",
    ));
    ws.apply();
    ws.plan_expect_empty();
    let after = planned_role_names(&ws);
    assert_eq!(sorted(moto.iam_role_names()), after);
    for gone in [
        "DefenderForCloud-Containers-K8s",
        "DefenderForCloud-OidcCiem",
        "DefenderForCloud-Ciem",
    ] {
        assert!(!after.contains(&gone.to_owned()), "{gone} still planned");
    }
    assert_eq!(
        moto.call_count("iam", "CreateRole"),
        0,
        "no role is recreated"
    );
    assert_eq!(
        moto.call_count("iam", "UpdateAssumeRolePolicy"),
        0,
        "no trust is rewritten"
    );
    assert!(
        !moto.iam_oidc_provider_arns().iter().any(|a| a == customer),
        "customer provider deleted"
    );
    assert!(microsoft_provider(&emu).is_some());

    // Least privilege changes policies in place: roles stay, only policies move.
    moto.reset_calls();
    ws.write_config(&config(
        r#"
  access = "least_privilege"
  defender_cspm {
    agentless_scanning {}
    permissions_management = false
  }
  servers {
    plan = "P2"
  }
  databases {
    arc_auto_provisioning = true
  }
"#,
        "",
    ));
    ws.apply();
    ws.plan_expect_empty();
    assert_eq!(moto.call_count("iam", "CreateRole"), 0);
    assert_eq!(moto.call_count("iam", "DeleteRole"), 0);
    let policy_calls = moto.call_count("iam", "PutRolePolicy")
        + moto.call_count("iam", "AttachRolePolicy")
        + moto.call_count("iam", "DetachRolePolicy");
    assert!(policy_calls > 0, "the access mode changes policies");

    ws.destroy();
    assert!(
        moto.iam_role_names().is_empty(),
        "{:?}",
        moto.iam_role_names()
    );
    assert!(
        moto.iam_oidc_provider_arns().is_empty(),
        "{:?}",
        moto.iam_oidc_provider_arns()
    );
}

#[test]
fn acc_oidc_trust_iam_drift_and_import() {
    skip_unless_acc!();
    let emu = Emulators::start();
    let moto = emu.moto();
    let ws = workspace(&emu, &config(EVERY_PLAN, "").replace(ROLE_ARNS_OUTPUT, ""));
    ws.apply();

    // A policy edited outside Terraform shows as a diff and is put back.
    let managed = cspm_managed_policies(&ws);
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

    // Import by the provider's ARN gives the same state.
    let id = ws.resource_values(TRUST).expect("state")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    ws.import_verify(TRUST, &id, &["oidc_providers"]);
    ws.plan_expect_empty();
}

#[test]
fn acc_oidc_trust_reuses_an_existing_provider() {
    skip_unless_acc!();
    let emu = Emulators::start();
    let moto = emu.moto();
    // Another team's provider for the same issuer, e.g. for Microsoft Sentinel.
    moto.query(
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
    let existing = microsoft_provider(&emu).expect("pre-existing provider");
    let ws = workspace(&emu, &config("servers {\n plan = \"P1\"\n}", ""));
    ws.apply();
    ws.plan_expect_empty();
    let state = ws.resource_values(TRUST).expect("state");
    assert_eq!(state["oidc_provider_arn"], existing.as_str());
    assert_eq!(state["oidc_providers"][0]["created"], false);
    let audiences = sorted(moto.iam_oidc_client_ids(&existing));
    assert!(audiences.contains(&"api://sentinel".to_owned()));
    assert!(
        audiences.contains(&"api://AzureSecurityCenter.MultiCloud.DefenderForServers".to_owned())
    );

    ws.destroy();
    assert_eq!(
        moto.iam_oidc_provider_arns(),
        std::slice::from_ref(&existing),
        "the shared provider survives"
    );
    assert_eq!(
        moto.iam_oidc_client_ids(&existing),
        ["api://sentinel"],
        "only our audiences are removed"
    );
    assert!(moto.iam_role_names().is_empty());
}

#[test]
fn acc_oidc_trust_bad_input_is_a_plan_time_diagnostic() {
    skip_unless_acc!();
    let emu = Emulators::start();
    let too_long = "r".repeat(65);
    let ws = workspace(
        &emu,
        &common::config(&format!(
            r#"
resource "multicloud_aws_oidc_trust" "prod" {{
  tenant_id  = "not-a-guid"
  deployment = "iam"
  stack_name = "x"
  roles = [{{
    key = "cspm_monitor", name = "{too_long}", trust = "web_identity", audience = null,
    managed_policy_arns = ["SecurityAudit"], inline_policy_name = null, inline_policy = null,
    trust_policy = "{{\"Statement\":[{{\"Principal\":{{\"AWS\":\"<role_arn:nope>\"}}}}]}}"
  }}]
}}
"#
        )),
    );
    let out = ws.run(&["plan", "-no-color", "-input=false"]);
    let text = format!("{}{}", out.stdout, out.stderr);
    for expected in [
        "Invalid tenant id",
        "Conflicting options",
        "Invalid role name",
        "Missing value",
        "Invalid policy ARN",
        "Unknown role reference",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    assert!(
        text.contains("roles[0].name:"),
        "the element is named: {text}"
    );
    assert!(emu.moto().iam_role_names().is_empty());
}

#[test]
fn acc_oidc_trust_example() {
    skip_unless_acc!();
    let emu = Emulators::start();
    let moto = emu.moto();
    let ws = workspace(
        &emu,
        &common::config(&common::example(
            "resources/multicloud_aws_oidc_trust/resource.tf",
        )),
    );
    ws.apply();
    ws.plan_expect_empty();
    let arns = &ws.output_json()["role_arns"]["value"];
    for key in ["cspm_monitor", "agentless_scanner", "defender_for_servers"] {
        let arn = arns[key].as_str().unwrap_or_else(|| panic!("{key}: {arns}"));
        let name = arn.rsplit('/').next().unwrap_or_default();
        assert!(moto.iam_role_names().contains(&name.to_owned()), "{name}");
    }
    let tags = moto.query("iam", "ListRoleTags", &[("RoleName", "CspmMonitorAws")]);
    assert!(tags.contains("platform-security"), "{tags}");
    ws.destroy();
    assert!(moto.iam_role_names().is_empty());
    assert!(moto.iam_oidc_provider_arns().is_empty());
}
