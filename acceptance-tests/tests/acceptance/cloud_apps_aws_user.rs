//! `multicloud_cloud_apps_aws_user` with the real Terraform CLI against moto: the user, its
//! policy with exactly Microsoft's permissions and a key that passes the Test API; a trimmed
//! policy reported with the missing permission; rotation that always leaves a working key;
//! the secret kept out of state and out of every log.

use crate::common;

use acceptance_tests::{Emulators, Install, TerraformWorkspace, skip_unless_acc};
use serde_json::json;

use common::cloud_apps::*;

const MICROSOFT_ACTIONS: [&str; 12] = [
    "cloudtrail:DescribeTrails",
    "cloudtrail:LookupEvents",
    "cloudtrail:GetTrailStatus",
    "cloudwatch:Describe*",
    "cloudwatch:Get*",
    "cloudwatch:List*",
    "iam:List*",
    "iam:Get*",
    "s3:ListAllMyBuckets",
    "s3:PutBucketAcl",
    "s3:GetBucketAcl",
    "s3:GetBucketLocation",
];

const OUTPUTS: &str = r#"
output "key_id" {
  value = multicloud_cloud_apps_aws_user.cloud_apps.access_key_id
}

output "secret" {
  value     = multicloud_cloud_apps_aws_user.cloud_apps.secret_access_key
  sensitive = true
}
"#;

#[test]
fn acc_cloud_apps_user_lifecycle() {
    skip_unless_acc!();
    let emu = Emulators::start();
    let moto = emu.moto();
    // New keys are refused for a while by real IAM: the Test API waits that out.
    moto.add_fault(json!({
        "service": "sts", "action": "GetCallerIdentity", "count": 2,
        "code": "InvalidClientTokenId", "status": 403,
    }));
    let ws = TerraformWorkspace::new(
        &emu,
        &format!("{}{OUTPUTS}", config("")),
        Install::DevOverrides,
    );
    ws.apply();
    assert!(
        moto.call_count("sts", "GetCallerIdentity") >= 3,
        "{}",
        moto.calls()
    );
    ws.plan_expect_empty();

    // Exactly Microsoft's permissions, one key, and the key is the user's.
    assert_eq!(
        policy_actions(moto, "DefenderForCloudAppsSecurityAuditing"),
        MICROSOFT_ACTIONS
    );
    let keys = access_keys(moto);
    assert_eq!(keys.len(), 1, "{keys:?}");
    let outputs = ws.output_json();
    assert_eq!(outputs["key_id"]["value"], keys[0].as_str());
    let secret = outputs["secret"]["value"].as_str().expect("secret output");
    assert_eq!(secret.len(), 40, "an AWS secret access key");
    assert_eq!(caller_arn(moto, &keys[0]), user_arn(moto));
    let state = ws.resource_values(USER).expect("user in state");
    assert_eq!(state["arn"], user_arn(moto).as_str());
    assert_eq!(state["account_id"], moto.account_id().as_str());

    // The policy edited outside Terraform is drift, and apply puts it back.
    moto.query(
        "iam",
        "PutUserPolicy",
        &[
            ("UserName", USER_NAME),
            ("PolicyName", "DefenderForCloudAppsSecurityAuditing"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListAllMyBuckets"],"Resource":"*"}]}"#,
            ),
        ],
    );
    let plan = ws.plan_json();
    let actions: Vec<String> = plan["resource_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .flat_map(|c| {
            c["change"]["actions"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect();
    assert_eq!(actions, ["update"], "{plan}");
    ws.apply();
    assert_eq!(
        policy_actions(moto, "DefenderForCloudAppsSecurityAuditing"),
        MICROSOFT_ACTIONS
    );
    assert_eq!(access_keys(moto), keys, "a policy fix keeps the key");
    ws.plan_expect_empty();

    // Import finds the user, policy and key; only the secret cannot be read back.
    ws.import_verify(USER, USER_NAME, &["secret_access_key"]);

    ws.destroy();
    let (status, _) = moto.query_status("iam", "GetUser", &[("UserName", USER_NAME)]);
    assert_eq!(status, 404, "the user is deleted");
}

#[test]
fn acc_cloud_apps_user_missing_permission() {
    skip_unless_acc!();
    let emu = Emulators::start();
    let trimmed: Vec<String> = MICROSOFT_ACTIONS
        .iter()
        .filter(|a| **a != "cloudtrail:DescribeTrails")
        .map(|a| format!("\"{a}\""))
        .collect();
    let ws = TerraformWorkspace::new(
        &emu,
        &config(&format!("  actions = [{}]", trimmed.join(", "))),
        Install::DevOverrides,
    );
    let out =
        ws.apply_expect_error(r"Test API failed: missing permission\s+cloudtrail:DescribeTrails");
    let text: String = out
        .combined()
        .replace(['│', '╷', '╵'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("cloudtrail:DescribeTrails: not allowed by any policy of the user"),
        "{text}"
    );
    assert!(
        !text.contains("cloudtrail:LookupEvents:"),
        "only the missing one: {text}"
    );

    // Restoring Microsoft's list replaces the tainted user, and the Test API passes.
    ws.write_config(&config(""));
    ws.apply();
    ws.plan_expect_empty();
    assert_eq!(access_keys(emu.moto()).len(), 1);
    ws.destroy();
}

#[test]
fn acc_cloud_apps_user_rotation_keeps_a_working_key() {
    skip_unless_acc!();
    let emu = Emulators::start();
    let moto = emu.moto();
    // Outside the workspace, so the scan below proves the state and logs hold no secret.
    let secret_dir = tempfile::tempdir().expect("temp dir");
    let file = secret_dir.path().join("cloud-apps.csv");
    let with_rotation = |r: &str| {
        config(&format!(
            "  rotation    = \"{r}\"\n  secret_file = \"{}\"",
            file.display()
        ))
    };
    let ws = TerraformWorkspace::new(&emu, &with_rotation("1"), Install::DevOverrides);
    ws.apply();
    ws.plan_expect_empty();
    let (key1, secret1) = read_secret_file(&file);
    assert_eq!(access_keys(moto), std::slice::from_ref(&key1));
    let state = ws.resource_values(USER).expect("user in state");
    assert!(state["secret_access_key"].is_null(), "{state}");
    assert_eq!(state["access_key_id"], key1.as_str());

    // Rotation: a new key, verified, then the old one deleted.
    ws.write_config(&with_rotation("2"));
    ws.apply();
    ws.plan_expect_empty();
    let (key2, secret2) = read_secret_file(&file);
    assert_ne!(key1, key2);
    assert_eq!(access_keys(moto), std::slice::from_ref(&key2));
    assert_eq!(caller_arn(moto, &key2), user_arn(moto));
    assert_ne!(
        caller_arn(moto, &key1),
        user_arn(moto),
        "the old key is gone"
    );

    // The new key cannot be created: the old one stays, in IAM and in state.
    moto.add_fault(json!({
        "service": "iam", "action": "CreateAccessKey", "count": 1,
        "code": "LimitExceeded", "status": 409,
    }));
    ws.write_config(&with_rotation("3"));
    ws.apply_expect_error(r"two access keys\s+per\s+user");
    assert_eq!(access_keys(moto), std::slice::from_ref(&key2));
    assert_eq!(caller_arn(moto, &key2), user_arn(moto));

    // The new key fails the Test API: it is deleted and the old one kept.
    moto.clear_faults();
    moto.add_fault(json!({
        "service": "sts", "action": "GetCallerIdentity", "count": 1,
        "code": "AccessDenied", "status": 403,
    }));
    ws.apply_expect_error("Test API failed");
    assert_eq!(access_keys(moto), std::slice::from_ref(&key2));
    assert_eq!(
        ws.resource_values(USER).expect("state")["access_key_id"],
        key2.as_str()
    );

    // Without faults the pending rotation completes.
    moto.clear_faults();
    ws.apply();
    ws.plan_expect_empty();
    let (key3, secret3) = read_secret_file(&file);
    assert_eq!(access_keys(moto), std::slice::from_ref(&key3));
    assert_ne!(key3, key2);

    ws.destroy();
    ws.assert_no_secrets(&[&secret1, &secret2, &secret3]);
}
