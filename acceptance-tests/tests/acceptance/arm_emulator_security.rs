//! The ARM emulator's security connector API against what the provider really produces, and
//! connector health against moto.
//!
//! * `offerings_the_provider_produces_are_accepted` (plain `cargo test`): every offering body
//!   the provider's onboarding library builds, across the plan-set combinations, passes the
//!   emulator's encoding of the 2024-08-01-preview schema; a misspelt field is refused. A
//!   provider bug in a field name fails here.
//! * `acc_security_connector_health_*` (TF_ACC): the emulator asks moto whether each role can
//!   be assumed, with trust policies made by the provider's own library.

use std::collections::BTreeMap;

use acceptance_tests::{Emulators, Moto, skip_unless_acc};
use serde_json::{Value, json};
use terraform_provider_multicloud::onboarding::{
    Access, AgentlessScanning, Containers, Databases, DefenderCspm, MICROSOFT_TENANT_ID, PlanSet,
    RoleKey, Servers, ServersPlan, VulnerabilityAssessment, issuer_url, microsoft_audiences,
    offerings, required_roles, trust_policy,
};

const ACCOUNT: &str = "123456789012";

fn scanning(on: bool) -> Option<AgentlessScanning> {
    on.then(|| AgentlessScanning {
        scanning_mode: "Default".to_string(),
        exclusion_tags: BTreeMap::from([("DefenderExclude".to_string(), "true".to_string())]),
    })
}

fn bit(bits: u32, n: u32) -> bool {
    bits & (1 << n) != 0
}

/// Every plan switched on or off alone, each with all combinations of its own options, plus
/// everything on in least-privilege mode.
fn plan_sets() -> Vec<PlanSet> {
    let mut out = vec![PlanSet::foundational()];
    let base = PlanSet::foundational;
    for b in 0..64 {
        let mut p = base();
        p.defender_cspm = Some(DefenderCspm {
            agentless_scanning: scanning(bit(b, 0)),
            data_sensitivity_discovery: bit(b, 1),
            permissions_management: bit(b, 2),
            container_image_assessment: bit(b, 3),
            agentless_kubernetes_discovery: bit(b, 4),
            databases_dspm: bit(b, 5),
        });
        out.push(p);
    }
    for b in 0..48 {
        let mut p = base();
        p.servers = Some(Servers {
            plan: if bit(b, 0) {
                ServersPlan::P2
            } else {
                ServersPlan::P1
            },
            arc_auto_provisioning: bit(b, 1),
            mde_auto_provisioning: bit(b, 2),
            agentless_scanning: scanning(bit(b, 3)),
            vulnerability_assessment: match b / 16 {
                0 => VulnerabilityAssessment::MdeTvm,
                1 => VulnerabilityAssessment::Qualys,
                _ => VulnerabilityAssessment::None,
            },
        });
        out.push(p);
    }
    for b in 0..64 {
        let mut p = base();
        p.containers = Some(Containers {
            audit_logs: bit(b, 0),
            defender_agent: bit(b, 1),
            policy_agent: bit(b, 2),
            audit_log_retention_days: 30,
            data_collection_external_id: "3c1f5d9e-0000-4000-8000-000000000001".to_string(),
            container_image_assessment: bit(b, 3),
            agentless_kubernetes_discovery: bit(b, 4),
            agentless_scanning: scanning(bit(b, 5)),
        });
        out.push(p);
    }
    for b in 0..8 {
        let mut p = base();
        p.databases = Some(Databases {
            arc_auto_provisioning: bit(b, 0),
            rds: bit(b, 1),
            databases_dspm: bit(b, 2),
        });
        out.push(p);
    }
    out.push(everything());
    out
}

/// All plans with all options on.
fn everything() -> PlanSet {
    let mut p = PlanSet::foundational();
    p.access = Access::LeastPrivilege;
    p.defender_cspm = Some(DefenderCspm {
        agentless_scanning: scanning(true),
        data_sensitivity_discovery: true,
        permissions_management: true,
        container_image_assessment: true,
        agentless_kubernetes_discovery: true,
        databases_dspm: true,
    });
    p.servers = Some(Servers {
        plan: ServersPlan::P2,
        arc_auto_provisioning: true,
        mde_auto_provisioning: true,
        agentless_scanning: scanning(true),
        vulnerability_assessment: VulnerabilityAssessment::MdeTvm,
    });
    p.containers = Some(Containers {
        audit_logs: true,
        defender_agent: true,
        policy_agent: true,
        audit_log_retention_days: 30,
        data_collection_external_id: "3c1f5d9e-0000-4000-8000-000000000001".to_string(),
        container_image_assessment: true,
        agentless_kubernetes_discovery: true,
        agentless_scanning: scanning(true),
    });
    p.databases = Some(Databases {
        arc_auto_provisioning: true,
        rds: true,
        databases_dspm: true,
    });
    p
}

/// Role ARNs in `account` under the plan set's role names.
fn role_arns(plans: &PlanSet, account: &str) -> BTreeMap<RoleKey, String> {
    required_roles(plans)
        .into_iter()
        .map(|r| (r.key, format!("arn:aws:iam::{account}:role/{}", r.name)))
        .collect()
}

/// A connector body around the provider's offerings; organization mode when `org`.
fn connector(plans: &PlanSet, account: &str, org: bool) -> Value {
    let mut env = json!({
        "environmentType": "AwsAccount",
        "regions": ["us-east-1", "eu-west-1"],
        "scanInterval": 12,
    });
    if org {
        env["organizationalData"] = json!({
            "organizationMembershipType": "Organization",
            "stacksetName": "DefenderForCloudOnboarding",
            "excludedAccountIds": ["210987654321"],
        });
    }
    json!({
        "location": "westeurope",
        "tags": {"managed-by": "terraform"},
        "properties": {
            "hierarchyIdentifier": account,
            "environmentName": "AWS",
            "environmentData": env,
            "offerings": offerings(plans, &role_arns(plans, account)),
        },
    })
}

mod in_process {
    use super::*;

    pub(super) struct Arm {
        pub(super) emulator: arm_emulator::Emulator,
        http: reqwest::Client,
        token: String,
        _dir: tempfile::TempDir,
    }

    impl Arm {
        pub(super) async fn start() -> Self {
            let dir = tempfile::tempdir().expect("temp dir");
            let emulator = arm_emulator::start(arm_emulator::Config::new(dir.path()))
                .await
                .expect("emulator starts");
            let cert = reqwest::Certificate::from_pem(emulator.ca_pem().as_bytes()).expect("CA");
            let http = reqwest::Client::builder()
                .no_proxy()
                .tls_certs_only([cert])
                .build()
                .expect("client");
            let info = emulator.info().clone();
            let token: Value = http
                .post(format!("{}/{}/oauth2/v2.0/token", info.url, info.tenant_id))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", arm_emulator::config::DEFAULT_CLIENT_ID),
                    ("client_secret", arm_emulator::config::DEFAULT_CLIENT_SECRET),
                    ("scope", "https://management.azure.com/.default"),
                ])
                .send()
                .await
                .expect("token")
                .json()
                .await
                .expect("token JSON");
            let arm = Self {
                token: token["access_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                emulator,
                http,
                _dir: dir,
            };
            let sub = arm.sub();
            let (s, _) = arm
                .call(
                    "POST",
                    &format!("{sub}/providers/Microsoft.Security/register?api-version=2021-04-01"),
                    None,
                )
                .await;
            assert_eq!(s, 200);
            // Registration completes after a few status polls.
            let provider = format!("{sub}/providers/Microsoft.Security?api-version=2021-04-01");
            let mut state = Value::Null;
            for _ in 0..5 {
                state = arm.call("GET", &provider, None).await.1["registrationState"].clone();
                if state == "Registered" {
                    break;
                }
            }
            assert_eq!(state, "Registered");
            let (s, _) = arm
                .call(
                    "PUT",
                    &format!("{sub}/resourcegroups/rg-sec?api-version=2021-04-01"),
                    Some(json!({"location": "westeurope"})),
                )
                .await;
            assert_eq!(s, 201);
            arm
        }

        pub(super) fn sub(&self) -> String {
            format!("/subscriptions/{}", self.emulator.info().subscription_id)
        }

        pub(super) async fn call(
            &self,
            method: &str,
            path: &str,
            body: Option<Value>,
        ) -> (u16, Value) {
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let mut req = self
                .http
                .request(method, format!("{}{path}", self.emulator.url()))
                .bearer_auth(&self.token);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.expect("response");
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        }

        pub(super) fn connector_path(&self, name: &str) -> String {
            format!(
                "{}/resourceGroups/rg-sec/providers/Microsoft.Security/securityConnectors/{name}?api-version=2024-08-01-preview",
                self.sub()
            )
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offerings_the_provider_produces_are_accepted() {
    let arm = in_process::Arm::start().await;
    let path = arm.connector_path("aws-prod");
    let sets = plan_sets();
    for (i, plans) in sets.iter().enumerate() {
        let body = connector(plans, ACCOUNT, i % 2 == 1);
        let (status, answer) = arm.call("PUT", &path, Some(body.clone())).await;
        assert!(
            status == 200 || status == 201,
            "plan set #{i} was refused: {status} {answer}\nbody: {body}"
        );
        assert_eq!(
            answer["properties"]["offerings"].as_array().map(Vec::len),
            body["properties"]["offerings"].as_array().map(Vec::len),
        );
    }
    assert!(sets.len() > 150, "the combinations ran: {}", sets.len());

    // The same check fails on a field-name slip, so the loop above can fail.
    let mut wrong = connector(&everything(), ACCOUNT, false);
    let servers = wrong["properties"]["offerings"]
        .as_array_mut()
        .and_then(|o| {
            o.iter_mut()
                .find(|o| o["offeringType"] == "DefenderForServersAws")
        })
        .expect("servers offering");
    let sub_plan = servers
        .as_object_mut()
        .and_then(|o| o.remove("subPlan"))
        .expect("subPlan");
    servers["subplan"] = sub_plan;
    let (status, answer) = arm.call("PUT", &path, Some(wrong)).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["error"]["code"],
        "HttpPayloadAPISpecValidationFailed"
    );
    let target = answer["error"]["target"].as_str().unwrap_or_default();
    assert!(
        target.starts_with("properties.offerings[") && target.ends_with("].subplan"),
        "{answer}"
    );
}

// ---- health against moto -------------------------------------------------------------------

fn create_oidc_provider(moto: &Moto, tenant: &str, audiences: &[String]) -> String {
    let mut params = vec![
        ("Url".to_string(), issuer_url(tenant)),
        (
            "ThumbprintList.member.1".to_string(),
            "626d44e704d1ceabe3bf0d53397464ac8080142c".to_string(),
        ),
    ];
    for (i, a) in audiences.iter().enumerate() {
        params.push((format!("ClientIDList.member.{}", i + 1), a.clone()));
    }
    let borrowed: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let xml = moto.query("iam", "CreateOpenIDConnectProvider", &borrowed);
    xml.split("<OpenIDConnectProviderArn>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("provider ARN")
        .to_string()
}

/// Creates the OIDC providers and every role of `plans` in moto, with the trust policies the
/// provider's library writes for `tenant`; returns the connector body.
fn onboard(emulators: &Emulators, plans: &PlanSet, tenant: &str) -> Value {
    let moto = emulators.moto();
    let account = moto.account_id();
    let roles = required_roles(plans);
    let audiences: Vec<String> = microsoft_audiences(&roles).into_iter().collect();
    let provider = create_oidc_provider(moto, MICROSOFT_TENANT_ID, &audiences);
    if roles.iter().any(|r| r.key == RoleKey::CiemOidc) {
        create_oidc_provider(moto, tenant, &["api://mciem-aws-oidc-app".to_string()]);
    }
    let names: BTreeMap<RoleKey, String> = roles.iter().map(|r| (r.key, r.name.clone())).collect();
    for role in &roles {
        let names = names.clone();
        let policy = trust_policy(role, &provider, tenant, move |k| {
            names.get(&k).cloned().unwrap_or_default()
        })
        .expect("trust policy");
        moto.query(
            "iam",
            "CreateRole",
            &[
                ("RoleName", &role.name),
                ("AssumeRolePolicyDocument", &policy),
            ],
        );
    }
    connector(plans, &account, false)
}

fn put_connector(emulators: &Emulators, name: &str, body: Value) -> String {
    let arm = emulators.arm();
    arm.create_resource_group("rg-sec", "westeurope");
    arm.set_provider_state("Microsoft.Security", "Registered");
    let id = format!(
        "/subscriptions/{}/resourceGroups/rg-sec/providers/Microsoft.Security/securityConnectors/{name}",
        emulators.subscription_id()
    );
    let (status, answer) = arm.arm_call(
        "PUT",
        &format!("{id}?api-version=2024-08-01-preview"),
        Some(body),
    );
    assert_eq!(status, 201, "{answer}");
    id
}

/// `roleArn suffix -> (status code, issue keys)` of a health answer.
fn summary(health: &Value) -> BTreeMap<String, (String, Vec<String>)> {
    health["value"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let p = &r["properties"];
            let arn = p["environmentDetails"]["nativeResourceId"]
                .as_str()
                .unwrap_or_default();
            let name = arn.rsplit('/').next().unwrap_or_default().to_string();
            let keys = p["issues"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["issueKey"].as_str().map(str::to_string))
                .collect();
            (
                name,
                (
                    p["status"]["code"].as_str().unwrap_or_default().to_string(),
                    keys,
                ),
            )
        })
        .collect()
}

#[test]
fn acc_security_connector_health_all_plans_healthy() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let plans = everything();
    let body = onboard(&emulators, &plans, emulators.tenant_id());
    let id = put_connector(&emulators, "aws-all", body);
    let health = emulators.connector_health(&id);
    let by_role = summary(&health);
    assert_eq!(
        by_role.len(),
        required_roles(&plans).len(),
        "one report per role: {health:#}"
    );
    for (role, (code, issues)) in &by_role {
        assert_eq!(code, "Healthy", "{role}: {issues:?}\n{health:#}");
    }
    assert_eq!(health["status"], "Healthy");
    // Web-identity roles were confirmed by STS itself, as Defender would use them.
    assert!(
        emulators
            .moto()
            .call_count("sts", "AssumeRoleWithWebIdentity")
            >= 10
    );
    // The ARM endpoint serves the same reports.
    let (status, via_arm) = emulators.arm().arm_call(
        "GET",
        &format!("{id}/providers/Microsoft.Security/healthReports?api-version=2023-05-01-preview"),
        None,
    );
    assert_eq!(status, 200, "{via_arm}");
    assert_eq!(summary(&via_arm), by_role);
}

#[test]
fn acc_security_connector_health_reports_the_specific_problem() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let moto = emulators.moto();
    let mut plans = PlanSet::foundational();
    plans.databases = Some(Databases {
        arc_auto_provisioning: true,
        rds: false,
        databases_dspm: true,
    });
    plans.containers = Some(Containers {
        audit_logs: true,
        defender_agent: true,
        policy_agent: true,
        audit_log_retention_days: 30,
        data_collection_external_id: "ext-1".to_string(),
        container_image_assessment: false,
        agentless_kubernetes_discovery: false,
        agentless_scanning: None,
    });
    let body = onboard(&emulators, &plans, emulators.tenant_id());
    let id = put_connector(&emulators, "aws-prod", body);
    let healthy = summary(&emulators.connector_health(&id));
    assert!(healthy.values().all(|(c, _)| c == "Healthy"), "{healthy:?}");

    let account = moto.account_id();
    let provider = format!(
        "arn:aws:iam::{account}:oidc-provider/sts.windows.net/{}/",
        MICROSOFT_TENANT_ID
    );
    let update = |role: &str, policy: Value| {
        moto.query(
            "iam",
            "UpdateAssumeRolePolicy",
            &[("RoleName", role), ("PolicyDocument", &policy.to_string())],
        );
    };
    let web = |aud: &str, tenant: &str| {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {
                format!("sts.windows.net/{}/:aud", MICROSOFT_TENANT_ID): aud,
                "sts:RoleSessionName": format!("MicrosoftDefenderForClouds_{tenant}"),
            }},
        }]})
    };
    // Wrong audience on the CSPM role, another tenant's session name on the DSPM role, the
    // Arc role gone, the firehose role without its external id, and the collector's external id
    // changed.
    update(
        "CspmMonitorAws",
        web(
            "api://AzureSecurityCenter.MultiCloud.DefenderForServers",
            emulators.tenant_id(),
        ),
    );
    update(
        "DefenderForCloud-DataSecurityPostureDB",
        web(
            "api://AzureSecurityCenter.MultiCloud.DefenderForDatabases",
            "00000000-0000-4000-8000-000000000000",
        ),
    );
    moto.query(
        "iam",
        "DeleteRole",
        &[("RoleName", "DefenderForCloud-ArcAutoProvisioning")],
    );
    update(
        "DefenderForCloud-Containers-K8s-kinesis-to-s3",
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "999999999999"}}}]}),
    );
    let broken = summary(&emulators.connector_health(&id));
    let issues = |role: &str| broken.get(role).map(|(c, i)| (c.as_str(), i.clone()));
    assert_eq!(
        issues("CspmMonitorAws"),
        Some((
            "NotHealthy",
            vec!["TrustPolicyAudienceMismatch".to_string()]
        ))
    );
    assert_eq!(
        issues("DefenderForCloud-DataSecurityPostureDB"),
        Some((
            "NotHealthy",
            vec!["TrustPolicySessionNameMismatch".to_string()]
        ))
    );
    assert_eq!(
        issues("DefenderForCloud-ArcAutoProvisioning"),
        Some(("NotHealthy", vec!["RoleNotFound".to_string()]))
    );
    assert_eq!(
        issues("DefenderForCloud-Containers-K8s-kinesis-to-s3"),
        Some((
            "NotHealthy",
            vec!["TrustPolicyExternalIdMismatch".to_string()]
        ))
    );
    assert_eq!(
        issues("DefenderForCloud-Containers-K8s").map(|(c, _)| c),
        Some("Healthy")
    );

    // The provider stops listing the containers audience: every role federated with it fails
    // before its trust policy is read. Then the provider disappears altogether.
    moto.query(
        "iam",
        "RemoveClientIDFromOpenIDConnectProvider",
        &[
            ("OpenIDConnectProviderArn", &provider),
            ("ClientID", "api://6610e979-c931-41ec-adc7-b9920c9d52f1"),
        ],
    );
    let no_aud = summary(&emulators.connector_health(&id));
    assert_eq!(
        no_aud
            .get("DefenderForCloud-Containers-K8s")
            .map(|(_, i)| i.clone()),
        Some(vec!["OidcProviderAudienceMissing".to_string()])
    );
    moto.query(
        "iam",
        "DeleteOpenIDConnectProvider",
        &[("OpenIDConnectProviderArn", &provider)],
    );
    let no_provider = summary(&emulators.connector_health(&id));
    assert!(
        no_provider
            .get("DefenderForCloud-Containers-K8s")
            .is_some_and(|(_, i)| i.contains(&"OidcProviderNotFound".to_string())),
        "{no_provider:?}"
    );
    // Roles assumed by AWS services do not depend on the OIDC provider.
    assert_eq!(
        no_provider
            .get("DefenderForCloud-Containers-K8s-cloudwatch-to-kinesis")
            .map(|(c, _)| c.as_str()),
        Some("Healthy")
    );
}
