//! `multicloud_connector_inventory` with the real Terraform CLI: a connector whose
//! `aws_roles` are deployed by `multicloud_aws_oidc_trust` (IAM API, single account) syncs
//! what the AWS emulator holds, counted by type and region; without the roles the connector's
//! `testPermissions` names what is missing and nothing is synced.

use crate::common;

use acceptance_tests::{Emulators, Install, TerraformWorkspace, skip_unless_acc};
use common::arm_api::ArmApi;
use common::connector::{API, hybrid_resources, start};
use serde_json::Value;

const DATA: &str = "data.multicloud_connector_inventory.prod";

fn example() -> String {
    common::example("data-sources/multicloud_connector_inventory/data-source.tf")
}

fn workspace(emulators: &Emulators, hcl: &str) -> TerraformWorkspace {
    let ws = TerraformWorkspace::new(emulators, &common::config(hcl), Install::DevOverrides);
    ws.set_env("TF_VAR_tenant_id", emulators.tenant_id());
    ws
}

/// Starts one EC2 instance in `region` of the AWS emulator and returns its id.
fn run_instance(emulators: &Emulators, region: &str) -> String {
    let xml = emulators.moto().query_in(
        "ec2",
        region,
        "RunInstances",
        &[
            ("ImageId", "ami-12c6146b"),
            ("MinCount", "1"),
            ("MaxCount", "1"),
            ("InstanceType", "t3.micro"),
        ],
    );
    let start = xml.find("<instanceId>").expect("instance id") + "<instanceId>".len();
    let end = start + xml[start..].find('<').expect("end of id");
    xml[start..end].to_owned()
}

/// The data source's counts as `type/region` -> count.
fn counts(ws: &TerraformWorkspace) -> Vec<(String, i64)> {
    let values = ws.resource_values(DATA).expect("data source in state");
    values["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            (
                format!(
                    "{}/{}",
                    r["type"].as_str().unwrap_or_default(),
                    r["region"].as_str().unwrap_or_default()
                ),
                r["count"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn acc_multicloud_connector_inventory_through_oidc_trust() {
    skip_unless_acc!();
    let (emulators, arm) = start();
    let in_scope = run_instance(&emulators, "us-east-1");
    let _out_of_scope = run_instance(&emulators, "ap-southeast-2");
    let ws = workspace(&emulators, &example());
    ws.apply();

    // The trust deployed the template's roles, and the connector's service sees them.
    let roles = emulators.moto().iam_role_names();
    assert!(
        roles.iter().any(|r| r == "AzureArcMultiCloudInventory"),
        "{roles:?}"
    );
    let connector = ws
        .resource_values("multicloud_connector.prod")
        .expect("connector");
    let id = connector["id"].as_str().expect("id").to_owned();
    let (status, result) = arm.call("POST", &format!("{id}/testPermissions"), API, None);
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["status"], "Succeeded", "{result}");

    // Counted by type and region, within the solution's services and regions only.
    let found = counts(&ws);
    assert!(
        found.contains(&("ec2/us-east-1".to_owned(), 1)),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|(k, _)| k.contains("ap-southeast-2")),
        "{found:?}"
    );
    let iam = found
        .iter()
        .find(|(k, _)| k == "iam/global")
        .map(|(_, n)| *n);
    assert!(iam.is_some_and(|n| n >= 1), "{found:?}");
    let values = ws.resource_values(DATA).expect("data source");
    let total: i64 = found.iter().map(|(_, n)| n).sum();
    assert_eq!(values["total_count"].as_i64(), Some(total));
    assert_eq!(values["aws_resource_group_name"], "aws_123456789012");
    let outputs = ws.output_json();
    assert_eq!(outputs["inventory"]["value"]["ec2/us-east-1"], 1);

    // The inventory items point at the projection resource group and the instance's ARN.
    let (status, solutions) = arm.call(
        "GET",
        &format!(
            "{id}/providers/Microsoft.HybridConnectivity/solutionConfigurations/inventory/inventory"
        ),
        API,
        None,
    );
    assert_eq!(status, 200, "{solutions}");
    let ec2: Vec<&Value> = solutions["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter(|i| i["properties"]["cloudNativeType"] == "ec2")
        .collect();
    assert_eq!(ec2.len(), 1, "{solutions}");
    assert_eq!(
        ec2[0]["properties"]["cloudNativeResourceId"],
        format!("arn:aws:ec2:us-east-1:123456789012:instance/{in_scope}")
    );
    assert!(
        ec2[0]["properties"]["azureResourceId"]
            .as_str()
            .is_some_and(|a| a.contains("/resourceGroups/aws_123456789012/")),
        "{}",
        ec2[0]
    );

    ws.plan_expect_empty();
    ws.destroy();
    let left = hybrid_resources(&emulators);
    assert!(left.is_empty(), "{left:?}");
    let roles = emulators.moto().iam_role_names();
    assert!(roles.is_empty(), "{roles:?}");
    assert!(emulators.moto().iam_oidc_provider_arns().is_empty());
}

#[test]
fn acc_multicloud_connector_inventory_names_missing_permissions() {
    skip_unless_acc!();
    let (emulators, _arm) = start();
    run_instance(&emulators, "us-east-1");
    // The connector alone: its template's roles were never deployed.
    let without_trust = {
        let start = example()
            .find("resource \"multicloud_aws_oidc_trust\"")
            .expect("trust");
        let data = example().find("data \"multicloud").expect("data source");
        let mut hcl = example();
        hcl.replace_range(start..data, "");
        hcl.replace("  depends_on = [multicloud_aws_oidc_trust.arc]\n", "")
    };
    let ws = workspace(&emulators, &without_trust.replace("\"2h\"", "\"1s\""));
    ws.apply_expect_error(
        r"(?s)Multicloud connector inventory not available.*IAM role AzureArcMultiCloudInventory",
    );

    // Without the check, the inventory is read as it is: nothing synced without the roles.
    let unchecked = without_trust.replace(
        "  wait_for_resources = true\n",
        "  check_permissions  = false\n",
    );
    ws.write_config(&common::config(&unchecked));
    ws.apply();
    let values = ws.resource_values(DATA).expect("data source");
    assert_eq!(values["total_count"], 0);
    assert_eq!(values["resources"], serde_json::json!([]));
    ws.destroy();
    let left = hybrid_resources(&emulators);
    assert!(left.is_empty(), "{left:?}");
}

/// Both solutions, the template deployed as a CloudFormation stack, and the inventory read
/// once something is synced.
const STACK_CONFIG: &str = r#"
variable "tenant_id" {
  type = string
}

resource "multicloud_connector" "prod" {
  name                = "aws-prod"
  resource_group_name = "rg-arc"
  location            = "eastus"
  aws_account_id      = "123456789012"

  inventory {
    services = ["ec2", "iam"]
    regions  = ["us-east-1"]
  }

  arc_onboarding {
    regions = ["us-east-1"]
  }
}

resource "multicloud_aws_oidc_trust" "arc" {
  tenant_id  = var.tenant_id
  roles      = multicloud_connector.prod.aws_roles
  deployment = "cloudformation"
  stack_name = "AzureArcMultiCloud"
}

data "multicloud_connector_inventory" "prod" {
  connector_id       = multicloud_connector.prod.id
  wait_for_resources = true
  wait_timeout       = "5m"
  depends_on         = [multicloud_aws_oidc_trust.arc]
}
"#;

const PROJECTION_GROUP: &str = "aws_123456789012";

/// The ids of the top-level resources of the projection group; `None` when it does not exist.
fn projection_group(arm: &ArmApi) -> Option<Vec<String>> {
    let (status, body) = arm.call(
        "GET",
        &format!(
            "{}/resourceGroups/{PROJECTION_GROUP}/resources",
            arm.subscription_path()
        ),
        "2021-04-01",
        None,
    );
    if status == 404 {
        return None;
    }
    assert_eq!(status, 200, "{body}");
    let mut ids: Vec<String> = body["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    Some(ids)
}

fn machine_id(arm: &ArmApi, instance: &str) -> String {
    format!(
        "{}/resourceGroups/{PROJECTION_GROUP}/providers/Microsoft.HybridCompute/machines/{instance}",
        arm.subscription_path()
    )
}

fn terminate(emulators: &Emulators, instance: &str) {
    emulators.moto().query_in(
        "ec2",
        "us-east-1",
        "TerminateInstances",
        &[("InstanceId.1", instance)],
    );
}

#[test]
fn acc_multicloud_connector_inventory_projected_into_aws_resource_group() {
    skip_unless_acc!();
    let (emulators, arm) = start();
    let first = run_instance(&emulators, "us-east-1");
    let ws = workspace(&emulators, STACK_CONFIG);
    ws.apply();
    ws.plan_expect_empty();

    // The template went to AWS as one stack, with the roles of both solutions.
    assert_eq!(
        emulators.moto().cloudformation_stack_names(),
        ["AzureArcMultiCloud"]
    );
    let roles = emulators.moto().iam_role_names();
    for role in [
        "AzureArcMultiCloudInventory",
        "AzureArcMultiCloudArcOnboarding",
    ] {
        assert!(roles.iter().any(|r| r == role), "{roles:?}");
    }

    // The sync projected the instance as an Arc machine with its AwsConnector extension, and
    // each IAM role as Microsoft.AwsConnector/iamRoles, in aws_<account id>.
    let connector_id = ws
        .resource_values("multicloud_connector.prod")
        .expect("connector")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let group = projection_group(&arm).expect("the projection group exists");
    let machine = machine_id(&arm, &first);
    assert!(group.contains(&machine), "{group:?}");
    let (status, ec2) = arm.call(
        "GET",
        &format!("{machine}/providers/Microsoft.AwsConnector/ec2Instances/default"),
        API,
        None,
    );
    assert_eq!(status, 200, "{ec2}");
    assert_eq!(
        ec2["properties"]["arn"],
        format!("arn:aws:ec2:us-east-1:123456789012:instance/{first}")
    );
    assert_eq!(
        ec2["properties"]["publicCloudConnectorsResourceId"],
        connector_id.as_str()
    );
    let role_id = format!(
        "{}/resourceGroups/{PROJECTION_GROUP}/providers/Microsoft.AwsConnector/iamRoles/AzureArcMultiCloudInventory",
        arm.subscription_path()
    );
    let (status, role) = arm.call("GET", &role_id, API, None);
    assert_eq!(status, 200, "{role}");
    assert_eq!(role["properties"]["awsAccountId"], "123456789012");

    // The data source counts exactly what was projected: one machine per instance, one
    // iamRoles resource per role.
    let found = counts(&ws);
    let machines = group
        .iter()
        .filter(|id| id.contains("/Microsoft.HybridCompute/machines/"))
        .count() as i64;
    let iam_roles = group
        .iter()
        .filter(|id| id.contains("/Microsoft.AwsConnector/iamRoles/"))
        .count() as i64;
    assert_eq!(
        found,
        vec![
            ("ec2/us-east-1".to_owned(), machines),
            ("iam/global".to_owned(), iam_roles)
        ]
    );
    assert!(iam_roles >= 3, "{group:?}");

    // Periodic sync follows AWS: a terminated instance goes, a new one comes.
    terminate(&emulators, &first);
    let second = run_instance(&emulators, "us-east-1");
    let group = projection_group(&arm).expect("group");
    assert!(!group.contains(&machine), "{group:?}");
    assert!(group.contains(&machine_id(&arm, &second)), "{group:?}");
    let (status, _) = arm.call("GET", &machine, API, None);
    assert_eq!(status, 404);

    // Destroy removes the projection and its group with the connector.
    ws.destroy();
    assert_eq!(projection_group(&arm), None);
    let left = hybrid_resources(&emulators);
    assert!(left.is_empty(), "{left:?}");
    assert!(emulators.moto().cloudformation_stack_names().is_empty());
    assert!(emulators.moto().iam_role_names().is_empty());
}

#[test]
fn acc_multicloud_connector_inventory_kept_on_destroy_when_asked() {
    skip_unless_acc!();
    let (emulators, arm) = start();
    let instance = run_instance(&emulators, "us-east-1");
    // The proxy variant of Arc onboarding, and the projection kept on destroy.
    let keep = STACK_CONFIG
        .replace(
            "  aws_account_id      = \"123456789012\"\n",
            "  aws_account_id      = \"123456789012\"\n  delete_inventory_on_destroy = false\n",
        )
        .replace(
            "  arc_onboarding {\n",
            "  arc_onboarding {\n    connectivity = \"proxy\"\n    proxy_url    = \"http://proxy.example.com:3128\"\n",
        );
    let ws = workspace(&emulators, &keep);
    ws.apply();
    ws.plan_expect_empty();
    assert_eq!(
        emulators.moto().cloudformation_stack_names(),
        ["AzureArcMultiCloud"]
    );
    let values = ws.resource_values(DATA).expect("data source");
    assert_eq!(
        ws.resource_values("multicloud_connector.prod")
            .expect("connector")["arc_onboarding"]["proxy_url"],
        "http://proxy.example.com:3128"
    );
    assert!(
        values["total_count"].as_i64().is_some_and(|n| n >= 1),
        "{values}"
    );
    let before = projection_group(&arm).expect("group");
    assert!(before.contains(&machine_id(&arm, &instance)), "{before:?}");
    ws.destroy();
    // As the service does: the connector is gone, its syncs stopped, the copies stay.
    assert!(hybrid_resources(&emulators).is_empty());
    terminate(&emulators, &instance);
    assert_eq!(projection_group(&arm), Some(before));
}
