//! Pins the product knowledge: which roles each plan and option needs, their audiences, where
//! each ARN goes in the offerings, how default and least-privilege access differ, what the
//! templates contain, and that outputs are deterministic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::plans::*;
use super::roles::*;
use super::*;

fn spec_all() -> PlanSetSpec {
    PlanSetSpec {
        defender_cspm: Some(DefenderCspmSpec::default()),
        servers: Some(ServersSpec::default()),
        containers: Some(ContainersSpec::default()),
        databases: Some(DatabasesSpec::default()),
        ..PlanSetSpec::default()
    }
}

fn plans(spec: &PlanSetSpec) -> PlanSet {
    PlanSet::new(spec).unwrap()
}

fn keys(p: &PlanSet) -> Vec<&'static str> {
    required_roles(p).iter().map(|r| r.key.as_str()).collect()
}

fn role(p: &PlanSet, key: RoleKey) -> AwsRole {
    required_roles(p)
        .into_iter()
        .find(|r| r.key == key)
        .unwrap()
}

fn issues(spec: &PlanSetSpec) -> Vec<(String, String)> {
    match PlanSet::new(spec) {
        Err(OnboardingError::Invalid(list)) => list
            .into_iter()
            .map(|i| {
                let text = i.to_string();
                (
                    text.split(':').next().unwrap_or_default().to_owned(),
                    i.summary,
                )
            })
            .collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[test]
fn role_set_per_plan() {
    assert_eq!(keys(&PlanSet::foundational()), ["cspm_monitor"]);
    let only = |f: fn(&mut PlanSetSpec)| {
        let mut s = PlanSetSpec::default();
        f(&mut s);
        keys(&plans(&s))
    };
    assert_eq!(
        only(|s| s.defender_cspm = Some(DefenderCspmSpec::default())),
        [
            "cspm_monitor",
            "agentless_scanner",
            "containers_image_assessment",
            "containers_agentless_discovery_k8s",
            "sensitive_data_discovery",
            "data_security_posture_db",
            "ciem_oidc",
            "ciem"
        ]
    );
    assert_eq!(
        only(|s| s.servers = Some(ServersSpec::default())),
        [
            "cspm_monitor",
            "agentless_scanner",
            "defender_for_servers",
            "arc_auto_provisioning"
        ]
    );
    assert_eq!(
        only(|s| s.servers = Some(ServersSpec {
            plan: Some("P1".into()),
            arc_auto_provisioning: Some(false),
            ..ServersSpec::default()
        })),
        ["cspm_monitor", "defender_for_servers"]
    );
    assert_eq!(
        only(|s| s.containers = Some(ContainersSpec::default())),
        [
            "cspm_monitor",
            "containers_k8s",
            "containers_data_collection",
            "containers_cloudwatch_to_kinesis",
            "containers_kinesis_to_s3",
            "containers_image_assessment",
            "containers_agentless_discovery_k8s"
        ]
    );
    assert_eq!(
        only(|s| s.databases = Some(DatabasesSpec::default())),
        [
            "cspm_monitor",
            "arc_auto_provisioning",
            "data_security_posture_db"
        ]
    );
    assert_eq!(
        only(|s| s.databases = Some(DatabasesSpec {
            arc_auto_provisioning: Some(false),
            rds: Some(false),
            databases_dspm: Some(false)
        })),
        ["cspm_monitor"]
    );
    assert_eq!(keys(&plans(&spec_all())).len(), RoleKey::ALL.len());
}

#[test]
fn cspm_options_switch_their_roles() {
    let mut s = PlanSetSpec {
        defender_cspm: Some(DefenderCspmSpec {
            agentless_scanning: Some(AgentlessScanningSpec {
                enabled: Some(false),
                ..Default::default()
            }),
            data_sensitivity_discovery: Some(false),
            permissions_management: Some(false),
            container_image_assessment: Some(false),
            agentless_kubernetes_discovery: Some(false),
            databases_dspm: Some(false),
        }),
        ..PlanSetSpec::default()
    };
    assert_eq!(keys(&plans(&s)), ["cspm_monitor"]);
    s.defender_cspm.as_mut().unwrap().permissions_management = Some(true);
    assert_eq!(keys(&plans(&s)), ["cspm_monitor", "ciem_oidc", "ciem"]);
}

#[test]
fn audiences_and_trust_kinds() {
    let p = plans(&spec_all());
    let expect = [
        (RoleKey::CspmMonitor, Some(AUDIENCE_CSPM)),
        (RoleKey::AgentlessScanner, Some(AUDIENCE_VM_SCANNER)),
        (RoleKey::DefenderForServers, Some(AUDIENCE_SERVERS)),
        (RoleKey::ArcAutoProvisioning, Some(AUDIENCE_SERVERS)),
        (RoleKey::ContainersK8s, Some(AUDIENCE_CONTAINERS)),
        (
            RoleKey::ContainersDataCollection,
            Some(AUDIENCE_DATA_COLLECTION),
        ),
        (RoleKey::ContainersCloudwatchToKinesis, None),
        (RoleKey::ContainersKinesisToS3, None),
        (
            RoleKey::ContainersImageAssessment,
            Some(AUDIENCE_CONTAINERS),
        ),
        (
            RoleKey::ContainersAgentlessDiscoveryK8s,
            Some(AUDIENCE_CONTAINERS),
        ),
        (
            RoleKey::SensitiveDataDiscovery,
            Some(AUDIENCE_DATA_DISCOVERY),
        ),
        (RoleKey::DataSecurityPostureDb, Some(AUDIENCE_DATABASES)),
        (RoleKey::CiemOidc, Some(AUDIENCE_CIEM)),
        (RoleKey::Ciem, None),
    ];
    for (key, audience) in expect {
        assert_eq!(role(&p, key).audience(), audience, "{key:?}");
    }
    assert_eq!(
        role(&p, RoleKey::ContainersKinesisToS3).trust,
        Trust::Service {
            service: "firehose.amazonaws.com".into(),
            external_id_is_account: true
        }
    );
    assert_eq!(
        role(&p, RoleKey::ContainersCloudwatchToKinesis).trust,
        Trust::Service {
            service: "logs.amazonaws.com".into(),
            external_id_is_account: false
        }
    );
    assert_eq!(
        role(&p, RoleKey::Ciem).trust,
        Trust::AssumedByRole {
            role: RoleKey::CiemOidc
        }
    );
    // The OIDC provider for Microsoft's tenant lists the federated audiences, not the CIEM one.
    let aud: Vec<String> = microsoft_audiences(&required_roles(&p))
        .into_iter()
        .collect();
    assert_eq!(aud.len(), 7);
    assert!(!aud.contains(&AUDIENCE_CIEM.to_owned()));
}

#[test]
fn every_arn_field_holds_its_roles_arn_and_nothing_else_does() {
    for spec in [spec_all(), PlanSetSpec::default()] {
        let p = plans(&spec);
        let offerings = offerings(&p, &BTreeMap::new());
        let by_type: BTreeMap<&str, &Json> = offerings
            .iter()
            .map(|o| (o["offeringType"].as_str().unwrap(), o))
            .collect();
        let mut expected = 0;
        for r in required_roles(&p) {
            for f in &r.arn_fields {
                let pointer = format!("/{}", f.path.replace('.', "/"));
                let value = by_type[f.offering.as_str()].pointer(&pointer);
                assert_eq!(
                    value.and_then(Json::as_str),
                    Some(role_arn_placeholder(r.key).as_str()),
                    "{f}"
                );
                expected += 1;
            }
        }
        let text = offerings_json(&p, &BTreeMap::new());
        assert_eq!(text.matches("<role_arn:").count(), expected);
    }
}

#[test]
fn offerings_pin_the_api_shape() {
    let p = plans(&PlanSetSpec {
        servers: Some(ServersSpec {
            plan: Some("P1".into()),
            vulnerability_assessment: Some("qualys".into()),
            ..ServersSpec::default()
        }),
        ..PlanSetSpec::default()
    });
    let arns = BTreeMap::from([(
        RoleKey::CspmMonitor,
        "arn:aws:iam::123456789012:role/CspmMonitorAws".to_owned(),
    )]);
    assert_eq!(
        offerings_json(&p, &arns),
        concat!(
            r#"[{"nativeCloudConnection":{"cloudRoleArn":"arn:aws:iam::123456789012:role/CspmMonitorAws"},"offeringType":"CspmMonitorAws"},"#,
            r#"{"arcAutoProvisioning":{"cloudRoleArn":"<role_arn:arc_auto_provisioning>","enabled":true},"#,
            r#""defenderForServers":{"cloudRoleArn":"<role_arn:defender_for_servers>"},"#,
            r#""mdeAutoProvisioning":{"configuration":{},"enabled":true},"offeringType":"DefenderForServersAws","#,
            r#""subPlan":{"type":"P1"},"vaAutoProvisioning":{"configuration":{"type":"Qualys"},"enabled":true},"#,
            r#""vmScanners":{"enabled":false}}]"#
        )
    );
    let all = offerings(&plans(&spec_all()), &BTreeMap::new());
    let types: Vec<&str> = all
        .iter()
        .map(|o| o["offeringType"].as_str().unwrap())
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
    assert_eq!(
        all[1]["ciem"]["ciemOidc"]["azureActiveDirectoryAppName"],
        "mciem-aws-oidc-connector"
    );
    assert_eq!(all[2]["vaAutoProvisioning"]["configuration"]["type"], "TVM");
    assert_eq!(
        all[3]["dataCollectionExternalId"],
        DEFAULT_DATA_COLLECTION_EXTERNAL_ID
    );
    assert_eq!(all[3]["kubeAuditRetentionTime"], 30);
}

#[test]
fn fill_role_arns_replaces_placeholders_and_reports_missing() {
    let p = plans(&spec_all());
    let mut doc: Json = serde_json::from_str(&offerings_json(&p, &BTreeMap::new())).unwrap();
    let arns = BTreeMap::from([(RoleKey::CspmMonitor, "arn:x".to_owned())]);
    let missing = fill_role_arns(&mut doc, &arns);
    assert_eq!(doc[0]["nativeCloudConnection"]["cloudRoleArn"], "arn:x");
    assert_eq!(missing.len(), RoleKey::ALL.len() - 1);
}

#[test]
fn access_modes_differ_where_documented() {
    let mut lp = spec_all();
    lp.access = Some("least_privilege".into());
    let (d, l) = (plans(&spec_all()), plans(&lp));
    assert_eq!(
        role(&d, RoleKey::CspmMonitor).managed_policy_arns,
        ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    );
    assert_eq!(
        role(&l, RoleKey::CspmMonitor).managed_policy_arns,
        ["arn:aws:iam::aws:policy/SecurityAudit"]
    );
    assert!(
        role(&d, RoleKey::CspmMonitor)
            .inline_policy
            .unwrap()
            .contains(r#""Effect":"Deny""#)
    );
    assert_eq!(
        role(&d, RoleKey::ContainersImageAssessment).managed_policy_arns,
        ["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"]
    );
    assert_eq!(
        role(&l, RoleKey::ContainersImageAssessment).managed_policy_arns,
        ["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"]
    );
    assert!(
        role(&l, RoleKey::AgentlessScanner)
            .inline_policy
            .unwrap()
            .contains("kms:ViaService")
    );
    assert!(
        !role(&d, RoleKey::AgentlessScanner)
            .inline_policy
            .unwrap()
            .contains("kms:ViaService")
    );
    assert!(
        role(&l, RoleKey::ContainersK8s)
            .inline_policy
            .unwrap()
            .contains("DefenderForCloud-Containers-K8s-kinesis-to-s3")
    );
    assert!(
        role(&d, RoleKey::ContainersCloudwatchToKinesis)
            .inline_policy
            .unwrap()
            .contains(r#""firehose:*""#)
    );
    assert!(
        !role(&l, RoleKey::ContainersCloudwatchToKinesis)
            .inline_policy
            .unwrap()
            .contains(r#""firehose:*""#)
    );
    // Same trust in both modes: access changes permissions, never who may assume a role.
    for (a, b) in required_roles(&d).iter().zip(required_roles(&l).iter()) {
        assert_eq!(
            (a.key, &a.trust, &a.arn_fields),
            (b.key, &b.trust, &b.arn_fields)
        );
    }
    assert_ne!(d.id(), l.id());
}

const PROVIDER: &str =
    "arn:aws:iam::123456789012:oidc-provider/sts.windows.net/33e01921-4d64-4f8c-a055-5bdaffd5e33d/";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

#[test]
fn trust_binds_audience_and_tenant() {
    let p = plans(&spec_all());
    let names = {
        let p = p.clone();
        move |k| role_name(&p, k)
    };
    for r in required_roles(&p) {
        let doc = trust_policy(&r, PROVIDER, TENANT, names.clone()).unwrap();
        match &r.trust {
            Trust::WebIdentity { audience }
            | Trust::WebIdentityAndExternalAccount { audience, .. } => {
                let aud_key =
                    format!(r#""sts.windows.net/{MICROSOFT_TENANT_ID}/:aud":"{audience}""#);
                assert!(doc.contains(&aud_key), "{doc}");
                assert!(
                    doc.contains(&format!(
                        r#""sts:RoleSessionName":"MicrosoftDefenderForClouds_{TENANT}""#
                    )),
                    "{doc}"
                );
                assert!(doc.contains(&format!(r#""Federated":"{PROVIDER}""#)));
            }
            Trust::CustomerTenantOidc { .. } => {
                assert!(
                    doc.contains(&format!(
                        r#""sts.windows.net/{TENANT}/:aud":"api://mciem-aws-oidc-app""#
                    )),
                    "{doc}"
                );
                assert!(doc.contains(&format!("oidc-provider/sts.windows.net/{TENANT}/")));
            }
            Trust::Service {
                external_id_is_account: true,
                ..
            } => {
                assert!(doc.contains(r#""sts:ExternalId":"123456789012""#), "{doc}");
            }
            Trust::Service { .. } => assert!(!doc.contains("Condition")),
            Trust::AssumedByRole { .. } => {
                assert!(
                    doc.contains(
                        r#""AWS":"arn:aws:iam::123456789012:role/DefenderForCloud-OidcCiem""#
                    ),
                    "{doc}"
                );
            }
        }
    }
    let dc = trust_policy(
        &role(&p, RoleKey::ContainersDataCollection),
        PROVIDER,
        TENANT,
        names.clone(),
    )
    .unwrap();
    assert!(dc.contains(r#""AWS":"arn:aws:iam::197857026523:user/azuredefender-eks""#));
    assert!(dc.contains(r#""sts:ExternalId":"b6d36db8-eda7-4617-9d4f-41149b899dc7""#));
    assert!(
        trust_policy(
            &role(&p, RoleKey::CspmMonitor),
            "arn:aws:iam::1:oidc-provider/x",
            TENANT,
            names.clone()
        )
        .is_err()
    );
    assert!(
        trust_policy(
            &role(&p, RoleKey::CspmMonitor),
            PROVIDER,
            "not-a-tenant",
            names
        )
        .is_err()
    );
}

#[test]
fn templates_hold_providers_roles_and_tenant_parameter() {
    let p = plans(&spec_all());
    let single: Json = serde_json::from_str(&cloudformation_template(
        &p,
        TemplateKind::SingleAccount,
        None,
    ))
    .unwrap();
    let resources = single["Resources"].as_object().unwrap();
    assert_eq!(resources.len(), RoleKey::ALL.len() + 2);
    assert_eq!(
        resources["MicrosoftOidcProvider"]["Properties"]["Url"],
        "https://sts.windows.net/33e01921-4d64-4f8c-a055-5bdaffd5e33d/"
    );
    assert_eq!(
        resources["MicrosoftOidcProvider"]["Properties"]["ThumbprintList"][0],
        STS_WINDOWS_THUMBPRINT
    );
    let cspm = &resources["CspmMonitorRole"]["Properties"];
    assert_eq!(cspm["RoleName"], "CspmMonitorAws");
    let cond = &cspm["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringLike"];
    assert_eq!(
        cond["sts:RoleSessionName"]["Fn::Sub"],
        "MicrosoftDefenderForClouds_${CustomerTenantId}"
    );
    assert_eq!(resources["CiemRole"]["DependsOn"][0], "CiemOidcRole");
    assert!(
        resources["CiemOidcRole"]["Properties"]["AssumeRolePolicyDocument"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .contains("sts.windows.net/${CustomerTenantId}/:aud")
    );
    assert!(
        single["Parameters"]["CustomerTenantId"]
            .get("Default")
            .is_none()
    );
    assert_eq!(
        single["Outputs"].as_object().unwrap().len(),
        RoleKey::ALL.len() + 1
    );

    let stackset: Json =
        serde_json::from_str(&cloudformation_template(&p, TemplateKind::StackSet, None)).unwrap();
    assert_eq!(stackset["Resources"], single["Resources"]);
    assert!(stackset.get("Outputs").is_none());

    let with_tenant: Json = serde_json::from_str(&cloudformation_template(
        &p,
        TemplateKind::SingleAccount,
        Some(TENANT),
    ))
    .unwrap();
    assert_eq!(
        with_tenant["Parameters"]["CustomerTenantId"]["Default"],
        TENANT
    );
    assert_eq!(with_tenant["Resources"], single["Resources"]);

    let foundational: Json = serde_json::from_str(&cloudformation_template(
        &PlanSet::foundational(),
        TemplateKind::SingleAccount,
        None,
    ))
    .unwrap();
    let names: Vec<&String> = foundational["Resources"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(names, ["CspmMonitorRole", "MicrosoftOidcProvider"]);
    assert_eq!(
        foundational["Resources"]["MicrosoftOidcProvider"]["Properties"]["ClientIdList"],
        serde_json::json!([AUDIENCE_CSPM])
    );
}

#[test]
fn output_is_independent_of_input_order() {
    let tags = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>()
    };
    let spec = |pairs: &[(&str, &str)]| PlanSetSpec {
        defender_cspm: Some(DefenderCspmSpec {
            agentless_scanning: Some(AgentlessScanningSpec {
                exclusion_tags: tags(pairs),
                ..Default::default()
            }),
            ..Default::default()
        }),
        role_names: tags(&[("ciem", "Ciem"), ("cspm_monitor", "Cspm")]),
        ..spec_all()
    };
    let a = plans(&spec(&[("a", "1"), ("b", "2"), ("c", "3")]));
    let b = plans(&spec(&[("c", "3"), ("a", "1"), ("b", "2")]));
    assert_eq!(
        offerings_json(&a, &BTreeMap::new()),
        offerings_json(&b, &BTreeMap::new())
    );
    assert_eq!(
        cloudformation_template(&a, TemplateKind::SingleAccount, None),
        cloudformation_template(&b, TemplateKind::SingleAccount, None)
    );
    assert_eq!(a.id(), b.id());
    // Defaults written out or left unset are the same plan set.
    let explicit = plans(&PlanSetSpec {
        access: Some("default".into()),
        servers: Some(ServersSpec {
            plan: Some("P2".into()),
            ..Default::default()
        }),
        ..Default::default()
    });
    let implicit = plans(&PlanSetSpec {
        servers: Some(ServersSpec::default()),
        ..Default::default()
    });
    assert_eq!(explicit.id(), implicit.id());
    assert_ne!(implicit.id(), PlanSet::foundational().id());
    assert_eq!(role(&a, RoleKey::Ciem).name, "Ciem");
    assert!(
        role(&a, RoleKey::CiemOidc)
            .inline_policy
            .unwrap()
            .contains("role/Ciem\"")
    );
}

#[test]
fn bad_input_is_reported_with_paths() {
    let mut s = spec_all();
    s.access = Some("most".into());
    s.servers = Some(ServersSpec {
        plan: Some("P3".into()),
        vulnerability_assessment: Some("tvm".into()),
        ..Default::default()
    });
    s.containers = Some(ContainersSpec {
        audit_log_retention_days: Some(0),
        data_collection_external_id: Some("x".into()),
        ..Default::default()
    });
    s.defender_cspm = Some(DefenderCspmSpec {
        agentless_scanning: Some(AgentlessScanningSpec {
            scanning_mode: Some("Fast".into()),
            exclusion_tags: BTreeMap::from([
                ("aws:x".to_owned(), "1".to_owned()),
                ("ok".to_owned(), "bad{".to_owned()),
            ]),
            ..Default::default()
        }),
        ..Default::default()
    });
    s.role_names = BTreeMap::from([
        ("nope".to_owned(), "X".to_owned()),
        ("cspm_monitor".to_owned(), "C".repeat(65)),
        (
            "containers_image_assessment".to_owned(),
            "ImageRole".to_owned(),
        ),
        ("ciem".to_owned(), "Same".to_owned()),
        ("ciem_oidc".to_owned(), "Same".to_owned()),
    ]);
    let got = issues(&s);
    let expect = [
        ("access", "Unsupported value"),
        (
            "defender_cspm.agentless_scanning.scanning_mode",
            "Unsupported value",
        ),
        (
            "defender_cspm.agentless_scanning.exclusion_tags[\"aws",
            "Invalid exclusion tag",
        ),
        (
            "defender_cspm.agentless_scanning.exclusion_tags[\"ok\"]",
            "Invalid exclusion tag",
        ),
        ("servers.plan", "Unsupported value"),
        ("servers.vulnerability_assessment", "Unsupported value"),
        ("containers.audit_log_retention_days", "Value out of range"),
        (
            "containers.data_collection_external_id",
            "Invalid external id",
        ),
        ("role_names[\"nope\"]", "Unknown role key"),
        ("role_names[\"cspm_monitor\"]", "Invalid role name"),
        (
            "role_names[\"containers_image_assessment\"]",
            "Invalid role name",
        ),
        ("role_names[\"ciem_oidc\"]", "Duplicate role name"),
    ];
    for (path, summary) in expect {
        assert!(
            got.contains(&(path.to_owned(), summary.to_owned())),
            "{path}: {got:?}"
        );
    }
    assert_eq!(got.len(), expect.len(), "{got:?}");
}

#[test]
fn conflicting_server_options() {
    let p1_scan = PlanSetSpec {
        servers: Some(ServersSpec {
            plan: Some("P1".into()),
            agentless_scanning: Some(AgentlessScanningSpec::default()),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        issues(&p1_scan),
        [(
            "servers.agentless_scanning".to_owned(),
            "Conflicting options".to_owned()
        )]
    );
    let tvm_without_mde = PlanSetSpec {
        servers: Some(ServersSpec {
            mde_auto_provisioning: Some(false),
            vulnerability_assessment: Some("mdeTvm".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        issues(&tvm_without_mde),
        [(
            "servers.vulnerability_assessment".to_owned(),
            "Conflicting options".to_owned()
        )]
    );
    // Without MDE and no explicit choice, no vulnerability assessment is provisioned.
    let no_mde = plans(&PlanSetSpec {
        servers: Some(ServersSpec {
            mde_auto_provisioning: Some(false),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(
        no_mde.servers.unwrap().vulnerability_assessment,
        VulnerabilityAssessment::None
    );
}
