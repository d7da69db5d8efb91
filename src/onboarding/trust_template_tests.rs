//! Trust policy templates: rendering equals the direct builder, import inverts rendering, and
//! the providers and audiences follow the roles.

use std::collections::BTreeMap;

use super::plans::*;
use super::roles::*;
use super::trust_template::*;
use super::*;

const ACCOUNT: &str = "123456789012";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

fn every_plan() -> PlanSet {
    PlanSet::new(&PlanSetSpec {
        defender_cspm: Some(DefenderCspmSpec::default()),
        servers: Some(ServersSpec::default()),
        containers: Some(ContainersSpec::default()),
        databases: Some(DatabasesSpec::default()),
        ..PlanSetSpec::default()
    })
    .expect("valid")
}

fn values(p: &PlanSet) -> TrustValues {
    TrustValues {
        oidc_provider_arn: Some(format!(
            "arn:aws:iam::{ACCOUNT}:oidc-provider/sts.windows.net/{MICROSOFT_TENANT_ID}/"
        )),
        customer_oidc_provider_arn: Some(format!(
            "arn:aws:iam::{ACCOUNT}:oidc-provider/sts.windows.net/{TENANT}/"
        )),
        account_id: ACCOUNT.into(),
        customer_tenant_id: TENANT.into(),
        role_arns: required_roles(p)
            .iter()
            .map(|r| {
                (
                    r.key.as_str().to_owned(),
                    format!("arn:aws:iam::{ACCOUNT}:role/{}", r.name),
                )
            })
            .collect(),
    }
}

#[test]
fn rendered_template_equals_the_direct_trust_policy() {
    let p = every_plan();
    let v = values(&p);
    let roles = required_roles(&p);
    assert_eq!(roles.len(), RoleKey::ALL.len(), "every role is exercised");
    for r in &roles {
        let template = trust_policy_template(r);
        let names = {
            let p = p.clone();
            move |k| role_name(&p, k)
        };
        let direct = trust_policy(
            r,
            v.oidc_provider_arn.as_deref().unwrap_or(""),
            TENANT,
            names,
        )
        .expect("direct");
        assert_eq!(
            render_trust_policy(&template, &v).expect("render"),
            direct,
            "{:?}",
            r.key
        );
        assert!(
            !template.contains(ACCOUNT) && !template.contains(TENANT),
            "{template}"
        );
    }
}

#[test]
fn templatize_inverts_render() {
    let p = every_plan();
    let v = values(&p);
    for r in required_roles(&p) {
        let template = trust_policy_template(&r);
        let rendered = render_trust_policy(&template, &v).expect("render");
        // IAM hands documents back with its own spacing and key order.
        let reordered = serde_json::to_string_pretty(
            &serde_json::from_str::<serde_json::Value>(&rendered).expect("json"),
        )
        .expect("pretty");
        assert_eq!(
            templatize_trust_policy(&reordered, &v).expect("templatize"),
            template
        );
    }
}

#[test]
fn a_placeholder_without_a_value_is_named() {
    let p = every_plan();
    let ciem = required_roles(&p)
        .into_iter()
        .find(|r| r.key == RoleKey::CiemOidc)
        .expect("ciem oidc role");
    let mut v = values(&p);
    v.customer_oidc_provider_arn = None;
    let err = render_trust_policy(&trust_policy_template(&ciem), &v).expect_err("unfilled");
    assert!(
        err.to_string().contains("<customer_oidc_provider_arn>"),
        "{err}"
    );
}

#[test]
fn role_references_are_by_key() {
    let p = every_plan();
    let ciem = required_roles(&p)
        .into_iter()
        .find(|r| r.key == RoleKey::Ciem)
        .expect("ciem role");
    let template = trust_policy_template(&ciem);
    assert_eq!(
        trust_template::referenced_roles(&template)
            .into_iter()
            .collect::<Vec<_>>(),
        ["ciem_oidc"]
    );
}

#[test]
fn providers_and_audiences_follow_the_roles() {
    let p = every_plan();
    let roles = required_roles(&p);
    let kinds: Vec<(&str, Option<&str>)> = roles
        .iter()
        .map(|r| {
            let kind = match r.trust {
                Trust::WebIdentity { .. } => "web_identity",
                Trust::WebIdentityAndExternalAccount { .. } => "web_identity_and_external_account",
                Trust::Service { .. } => "aws_service",
                Trust::CustomerTenantOidc { .. } => "customer_tenant_oidc",
                Trust::AssumedByRole { .. } => "assumed_by_role",
            };
            (kind, r.audience())
        })
        .collect();
    let providers = required_providers(kinds.iter().copied());
    assert_eq!(
        providers.get(&Issuer::Microsoft).cloned(),
        Some(microsoft_audiences(&roles))
    );
    assert_eq!(
        providers
            .get(&Issuer::CustomerTenant)
            .map(|s| s.iter().cloned().collect::<Vec<_>>()),
        Some(vec![AUDIENCE_CIEM.to_owned()])
    );
    assert_eq!(
        Issuer::CustomerTenant.url(TENANT),
        format!("https://sts.windows.net/{TENANT}/")
    );
    let only_cspm = required_providers([("web_identity", Some(AUDIENCE_CSPM))]);
    assert_eq!(only_cspm.len(), 1);
    let none: BTreeMap<_, _> = required_providers([("aws_service", None)]);
    assert!(none.is_empty());
}
