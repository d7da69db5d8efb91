//! Classic connector migration with the real Terraform CLI: a classic `awsAssumeRole`
//! connector (legacy `Microsoft.Security/connectors`) and its role are discovered; the
//! migration refuses to delete anything while the native connector is unhealthy, and once it is
//! healthy removes the classic connector and the named role, and nothing else.

use crate::common;

use acceptance_tests::{Emulators, Install, TerraformWorkspace, skip_unless_acc};
use serde_json::json;

const CLASSIC_ROLE: &str = "AscConnectorRole";

fn classic_path(emu: &Emulators, name: &str) -> String {
    format!(
        "/subscriptions/{}/providers/Microsoft.Security/connectors/{name}?api-version=2020-01-01-preview",
        emu.arm().subscription_id()
    )
}

/// The classic setup as its instructions had it: a role trusting Microsoft's account with the
/// subscription id as external id, and the connector naming it.
fn create_classic(emu: &Emulators) -> String {
    let moto = emu.moto();
    let sub = emu.arm().subscription_id().to_owned();
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::197857026523:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": sub}},
        }],
    })
    .to_string();
    moto.query(
        "iam",
        "CreateRole",
        &[
            ("RoleName", CLASSIC_ROLE),
            ("AssumeRolePolicyDocument", &trust),
        ],
    );
    let arn = format!("arn:aws:iam::{}:role/{CLASSIC_ROLE}", moto.account_id());
    emu.arm()
        .set_provider_state("Microsoft.Security", "Registered");
    let (status, body) = emu.arm().arm_call(
        "PUT",
        &classic_path(emu, "aws-classic"),
        Some(json!({"properties": {
            "hybridComputeSettings": {"autoProvision": "Off"},
            "authenticationDetails": {
                "authenticationType": "awsAssumeRole",
                "awsAssumeRoleArn": arn,
                "awsExternalId": sub,
            },
        }})),
    );
    assert!((200..300).contains(&status), "{status} {body}");
    body["id"]
        .as_str()
        .expect("classic connector id")
        .to_owned()
}

const LISTING: &str = r#"
data "multicloud_classic_connectors" "all" {}

output "classic" {
  value = data.multicloud_classic_connectors.all.connectors
}
"#;

/// The quickstart without its health data source, which would itself wait for health.
fn quickstart_without_status() -> String {
    let main = common::example("quickstart/main.tf");
    let start = main
        .find("# Waits until Defender")
        .expect("status data source in the quickstart");
    let end = start + main[start..].find("\n}\n").expect("end of block") + 3;
    let output = "output \"connector_status\" {\n  value = data.multicloud_security_connector_status.this.status\n}\n";
    format!("{}{}", &main[..start], &main[end..]).replace(output, "")
}

fn migration(timeout: &str) -> String {
    format!(
        r#"
resource "multicloud_classic_connector_migration" "this" {{
  classic_connector_id  = data.multicloud_classic_connectors.all.connectors[0].id
  security_connector_id = multicloud_security_connector.this.id
  delete_aws_role_name  = "{CLASSIC_ROLE}"
  wait_timeout          = "{timeout}"
}}
"#
    )
}

#[test]
fn acc_classic_connector_migration_waits_for_health() {
    skip_unless_acc!();
    let emu = Emulators::start();
    emu.arm()
        .create_resource_group("rg-defender-aws", "westeurope");
    let classic_id = create_classic(&emu);
    let base = format!(
        "{}\n{}\n{LISTING}",
        common::example("quickstart/providers.tf"),
        common::example("quickstart/main.tf")
    );
    let ws = TerraformWorkspace::new(&emu, &base, Install::DevOverrides);
    ws.apply();

    // Discovered, with its AWS account and authentication type.
    let listed = &ws.output_json()["classic"]["value"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["id"], classic_id.as_str());
    assert_eq!(listed[0]["authentication_type"], "awsAssumeRole");
    assert_eq!(
        listed[0]["aws_account_id"],
        emu.moto().account_id().as_str()
    );
    assert_eq!(listed[0]["aws_external_id"], emu.arm().subscription_id());

    // The native connector made unhealthy: one of its roles is gone. Nothing is deleted.
    detach_and_delete_role(&emu, "CspmMonitorAws");
    // Without refresh the trust does not put the role back, so the connector stays unhealthy.
    let base = format!(
        "{}\n{}\n{LISTING}",
        common::example("quickstart/providers.tf"),
        quickstart_without_status()
    );
    assert!(
        !base.contains("multicloud_security_connector_status"),
        "{base}"
    );
    ws.write_config(&format!("{base}{}", migration("1s")));
    let out = ws.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-refresh=false",
    ]);
    assert!(!out.success(), "the migration must not proceed\n{out}");
    let text = out
        .combined()
        .replace(['│', '╷', '╵'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text.contains("Security connector not healthy"), "{text}");
    assert!(
        text.contains("the classic connector was not deleted"),
        "{text}"
    );
    let (status, _) = emu
        .arm()
        .arm_call("GET", &classic_path(&emu, "aws-classic"), None);
    assert_eq!(status, 200, "the classic connector is kept while unhealthy");
    assert!(
        emu.moto()
            .iam_role_names()
            .contains(&CLASSIC_ROLE.to_owned())
    );

    // The trust puts the role back; the migration waits for health, then removes exactly the
    // classic connector and its role.
    ws.write_config(&format!("{base}{}", migration("5m")));
    ws.apply();
    let (status, _) = emu
        .arm()
        .arm_call("GET", &classic_path(&emu, "aws-classic"), None);
    assert_eq!(status, 404, "the classic connector is deleted");
    let roles = emu.moto().iam_role_names();
    assert!(!roles.contains(&CLASSIC_ROLE.to_owned()), "{roles:?}");
    assert!(roles.contains(&"CspmMonitorAws".to_owned()), "{roles:?}");
    let state = ws
        .resource_values("multicloud_classic_connector_migration.this")
        .expect("migration in state");
    assert_eq!(
        state["deleted"],
        json!([classic_id, format!("role/{CLASSIC_ROLE}")])
    );
    assert_eq!(
        emu.connector_health(
            ws.output_json()["connector_id"]["value"]
                .as_str()
                .expect("connector id")
        )["status"],
        "Healthy"
    );
}

fn detach_and_delete_role(emu: &Emulators, role: &str) {
    let moto = emu.moto();
    for arn in moto.iam_attached_policy_arns(role) {
        moto.query(
            "iam",
            "DetachRolePolicy",
            &[("RoleName", role), ("PolicyArn", &arn)],
        );
    }
    for name in moto.iam_inline_policy_names(role) {
        moto.query(
            "iam",
            "DeleteRolePolicy",
            &[("RoleName", role), ("PolicyName", &name)],
        );
    }
    moto.query("iam", "DeleteRole", &[("RoleName", role)]);
}
