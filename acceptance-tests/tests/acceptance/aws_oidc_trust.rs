//! `multicloud_aws_oidc_trust` with the real Terraform CLI against moto (with the project's
//! extension), `deployment = "iam"`: every plan's roles applied from the plan set, a second
//! plan empty, plan switches planned and applied as the exact role changes, the access mode
//! switch, drift, import, a pre-existing provider reused and kept, destroy leaving nothing.

use crate::common;

use acceptance_tests::{Emulators, skip_unless_acc};

use common::trust::*;

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
    ws.write_config(&config(&fewer_plans("P2", true, None), ""));
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
        &fewer_plans("P2", true, Some("least_privilege")),
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
    let ws = workspace(&emu, &config(EVERY_PLAN, "").replace(ROLE_ARNS_OUTPUT, ""));
    ws.apply();

    // A policy edited outside Terraform shows as a diff and is put back.
    assert_policy_drift_is_repaired(&emu, &ws);

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
    let existing = create_shared_provider(&emu);
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
        let arn = arns[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key}: {arns}"));
        let name = arn.rsplit('/').next().unwrap_or_default();
        assert!(moto.iam_role_names().contains(&name.to_owned()), "{name}");
    }
    let tags = moto.query("iam", "ListRoleTags", &[("RoleName", "CspmMonitorAws")]);
    assert!(tags.contains("platform-security"), "{tags}");
    ws.destroy();
    assert!(moto.iam_role_names().is_empty());
    assert!(moto.iam_oidc_provider_arns().is_empty());
}
