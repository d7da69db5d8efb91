//! The member connectors Defender for Cloud creates by itself under an organization connector.
//!
//! Onboarding an AWS Organizations management account creates one connector of membership type
//! `Organization` (`environmentData.organizationalData`: `stacksetName`, `excludedAccountIds`).
//! Once that connector is healthy, Defender discovers the organization's accounts and creates a
//! connector per member account, of membership type `Member` with `parentHierarchyId` set to the
//! management account (the API's `AwsOrganizationalDataMember`), inheriting the organization
//! connector's offerings, regions and scan interval. Excluded accounts get none.
//!
//! The emulator does the same, lazily: before serving a read of security connectors (or of
//! their health) it syncs every organization connector whose health is `Healthy`, listing the
//! organization's accounts from the AWS emulator. Each member's health is then computed like any
//! connector's, in the member account: healthy where the StackSet deployed the roles.
//! Choices of the emulator (the real service documents none of them): members live in the
//! organization connector's resource group, named `{organization connector}-{account id}`;
//! they are removed when their account leaves the organization or becomes excluded, and with
//! their organization connector.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::aws::{AwsClient, AwsError};
use super::health::{Target, reports};
use crate::server::Shared;
use crate::state::Stored;

/// `organizationMembershipType` of an organization (management account) connector.
pub(crate) const ORGANIZATION: &str = "Organization";
/// `organizationMembershipType` of a member account connector.
pub(crate) const MEMBER: &str = "Member";
/// `systemData.createdBy` of the connectors the service creates itself.
const CREATED_BY: &str = "Microsoft Defender for Cloud";
/// Organizations' JSON-protocol target prefix.
const ORGANIZATIONS_TARGET: &str = "AWSOrganizationsV20161128";

/// An account of the organization, as `ListAccounts` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OrgAccount {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) status: String,
}

impl AwsClient {
    /// Every account of the caller's organization (`ListAccounts`, all pages).
    pub(crate) async fn organization_accounts(&self) -> Result<Vec<OrgAccount>, AwsError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut request = json!({});
            if let Some(t) = &token {
                request["NextToken"] = json!(t);
            }
            let page = self
                .call_json(
                    "organizations",
                    &format!("{ORGANIZATIONS_TARGET}.ListAccounts"),
                    &request,
                )
                .await?;
            for a in page["Accounts"].as_array().into_iter().flatten() {
                let text = |k: &str| a[k].as_str().unwrap_or_default().to_string();
                out.push(OrgAccount {
                    id: text("Id"),
                    name: text("Name"),
                    status: text("Status"),
                });
            }
            token = page["NextToken"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }
}

/// Whether a read of `path` (any casing) concerns security connectors, so members must be
/// current before it is served.
pub(crate) fn concerns(path: &str) -> bool {
    path.to_ascii_lowercase()
        .contains("/providers/microsoft.security/securityconnectors")
}

/// `organizationMembershipType` of a stored connector body, when it has organizational data.
pub(crate) fn membership(body: &Value) -> Option<&str> {
    body.pointer("/properties/environmentData/organizationalData/organizationMembershipType")
        .and_then(Value::as_str)
}

/// An organization connector as the sync needs it.
#[derive(Debug, Clone)]
struct Organization {
    id: String,
    body: Value,
    management_account: String,
}

/// The member accounts that get a connector: active, not the management account, not excluded.
fn wanted_members<'a>(
    accounts: &'a [OrgAccount],
    management: &str,
    excluded: &BTreeSet<String>,
) -> Vec<&'a OrgAccount> {
    accounts
        .iter()
        .filter(|a| a.status.eq_ignore_ascii_case("ACTIVE"))
        .filter(|a| a.id != management && !excluded.contains(&a.id))
        .collect()
}

fn excluded_accounts(org: &Value) -> BTreeSet<String> {
    org.pointer("/properties/environmentData/organizationalData/excludedAccountIds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// Rewrites every IAM ARN of the management account in `v` to the member account: members use
/// the roles of the same names in their own account (what the StackSet deploys).
fn rebase_arns(v: &mut Value, management: &str, member: &str) {
    match v {
        Value::String(s) => {
            let from = format!(":iam::{management}:");
            if s.starts_with("arn:") && s.contains(&from) {
                *s = s.replace(&from, &format!(":iam::{member}:"));
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| rebase_arns(i, management, member)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|i| rebase_arns(i, management, member)),
        _ => {}
    }
}

/// The id of the member connector of `account` under organization connector `org_id`.
fn member_id(org_id: &str, account: &str) -> String {
    format!("{org_id}-{account}")
}

/// The body Defender creates for member `account` of `org`.
fn member_body(org: &Organization, account: &OrgAccount, now: &str) -> Value {
    let id = member_id(&org.id, &account.id);
    let name = id.rsplit('/').next().unwrap_or_default().to_string();
    let props = &org.body["properties"];
    let env = &props["environmentData"];
    let mut offerings = props.get("offerings").cloned().unwrap_or(json!([]));
    rebase_arns(&mut offerings, &org.management_account, &account.id);
    let mut environment = json!({
        "environmentType": "AwsAccount",
        "accountName": account.name,
        "organizationalData": {
            "organizationMembershipType": MEMBER,
            "parentHierarchyId": org.management_account,
        },
    });
    for key in ["regions", "scanInterval"] {
        if let Some(v) = env.get(key).filter(|v| !v.is_null()) {
            environment[key] = v.clone();
        }
    }
    let mut properties = json!({
        "hierarchyIdentifier": account.id,
        "environmentName": props.get("environmentName").cloned().unwrap_or(json!("AWS")),
        "environmentData": environment,
        "offerings": offerings,
    });
    if let Some(end) = props.get("hierarchyIdentifierTrialEndDate") {
        properties["hierarchyIdentifierTrialEndDate"] = end.clone();
    }
    json!({
        "id": id,
        "name": name,
        "type": super::connector::RESOURCE_TYPE,
        "location": org.body["location"],
        "tags": {},
        "kind": "",
        "etag": crate::ids::random_guid(),
        "systemData": {
            "createdBy": CREATED_BY, "createdByType": "Application", "createdAt": now,
            "lastModifiedBy": CREATED_BY, "lastModifiedByType": "Application",
            "lastModifiedAt": now,
        },
        "properties": properties,
    })
}

/// Removes the members whose organization connector is gone.
pub(crate) fn drop_orphans(shared: &Shared) {
    organizations(shared);
}

/// Organization connectors, and drops the members whose organization connector is gone.
fn organizations(shared: &Shared) -> (Vec<Organization>, Option<String>) {
    let mut world = shared.world.lock();
    let orgs: Vec<Organization> = world
        .resources
        .values()
        .filter(|s| {
            s.resource_type
                .eq_ignore_ascii_case(super::connector::RESOURCE_TYPE)
                && membership(&s.body) == Some(ORGANIZATION)
        })
        .filter_map(|s| {
            Some(Organization {
                id: s.id.clone(),
                management_account: s
                    .body
                    .pointer("/properties/hierarchyIdentifier")?
                    .as_str()?
                    .to_string(),
                body: s.body.clone(),
            })
        })
        .collect();
    let live: BTreeSet<String> = orgs.iter().map(|o| o.id.to_ascii_lowercase()).collect();
    let orphans: Vec<String> = world
        .auto_members
        .iter()
        .filter(|(_, org)| !live.contains(*org))
        .map(|(member, _)| member.clone())
        .collect();
    for member in orphans {
        world.auto_members.remove(&member);
        world.resources.remove(&member);
    }
    (orgs, world.aws_endpoint.clone())
}

/// Whether Defender reports the organization connector healthy right now.
async fn healthy(shared: &Shared, org: &Organization) -> bool {
    let segs: Vec<&str> = org.id.split('/').collect();
    let (Some(subscription), Some(resource_group), Some(name)) =
        (segs.get(2), segs.get(4), segs.get(8))
    else {
        return false;
    };
    let target = Target::Connector {
        subscription: (*subscription).to_string(),
        resource_group: (*resource_group).to_string(),
        name: (*name).to_string(),
        report: None,
    };
    match reports(shared, &target).await {
        Ok(items) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|r| r.pointer("/properties/status/code") == Some(&json!("Healthy")))
        }
        Err(_) => false,
    }
}

/// Brings the member connectors of every healthy organization connector up to date with the
/// organization in the AWS emulator. Unreachable AWS or an account outside any organization
/// leaves the members as they are (Defender retries later).
pub(crate) async fn sync(shared: &Shared) {
    let (orgs, endpoint) = organizations(shared);
    if orgs.is_empty() {
        return;
    }
    let Some(aws) = endpoint.as_deref().and_then(|e| AwsClient::new(e).ok()) else {
        return;
    };
    for org in orgs {
        if !healthy(shared, &org).await {
            continue;
        }
        let accounts = match aws
            .in_account(&org.management_account)
            .organization_accounts()
            .await
        {
            Ok(a) => a,
            Err(e) => {
                eprintln!("member connectors of {}: {e}", org.id);
                continue;
            }
        };
        let excluded = excluded_accounts(&org.body);
        let wanted = wanted_members(&accounts, &org.management_account, &excluded);
        apply(shared, &org, &wanted);
    }
}

/// Creates the missing members of `org` and removes those no longer wanted.
fn apply(shared: &Shared, org: &Organization, wanted: &[&OrgAccount]) {
    let now = crate::clock::rfc3339_now();
    let org_key = org.id.to_ascii_lowercase();
    let mut world = shared.world.lock();
    let wanted_keys: BTreeMap<String, &OrgAccount> = wanted
        .iter()
        .map(|a| (member_id(&org.id, &a.id).to_ascii_lowercase(), *a))
        .collect();
    let stale: Vec<String> = world
        .auto_members
        .iter()
        .filter(|(member, parent)| **parent == org_key && !wanted_keys.contains_key(*member))
        .map(|(member, _)| member.clone())
        .collect();
    for member in stale {
        world.auto_members.remove(&member);
        world.resources.remove(&member);
    }
    for (key, account) in wanted_keys {
        if world.resources.contains_key(&key) {
            continue;
        }
        let body = member_body(org, account, &now);
        let id = body["id"].as_str().unwrap_or_default().to_string();
        world.resources.insert(
            key.clone(),
            Stored {
                id,
                resource_type: super::connector::RESOURCE_TYPE.to_string(),
                body,
                pending: None,
            },
        );
        world.auto_members.insert(key, org_key.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG_ID: &str =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Security/securityConnectors/org";

    fn account(id: &str, status: &str) -> OrgAccount {
        OrgAccount {
            id: id.into(),
            name: format!("name-{id}"),
            status: status.into(),
        }
    }

    fn org() -> Organization {
        Organization {
            id: ORG_ID.into(),
            management_account: "111111111111".into(),
            body: json!({"location": "westeurope", "properties": {
                "hierarchyIdentifier": "111111111111", "environmentName": "AWS",
                "environmentData": {"environmentType": "AwsAccount", "regions": ["us-east-1"],
                    "scanInterval": 12,
                    "organizationalData": {"organizationMembershipType": "Organization",
                        "stacksetName": "MDCStackSet", "excludedAccountIds": ["333333333333"]}},
                "offerings": [{"offeringType": "CspmMonitorAws", "nativeCloudConnection":
                    {"cloudRoleArn": "arn:aws:iam::111111111111:role/CspmMonitorAws"}}]}}),
        }
    }

    #[test]
    fn members_are_active_non_excluded_accounts_other_than_the_management_account() {
        let accounts = [
            account("111111111111", "ACTIVE"),
            account("222222222222", "ACTIVE"),
            account("333333333333", "ACTIVE"),
            account("444444444444", "SUSPENDED"),
        ];
        let excluded = excluded_accounts(&org().body);
        let ids: Vec<&str> = wanted_members(&accounts, "111111111111", &excluded)
            .iter()
            .map(|a| a.id.as_str())
            .collect();
        assert_eq!(ids, ["222222222222"]);
    }

    #[test]
    fn a_member_inherits_offerings_in_its_own_account_and_points_at_its_parent() {
        let body = member_body(
            &org(),
            &account("222222222222", "ACTIVE"),
            "2026-01-01T00:00:00Z",
        );
        assert_eq!(body["id"], format!("{ORG_ID}-222222222222"));
        assert_eq!(body["name"], "org-222222222222");
        assert_eq!(body["location"], "westeurope");
        let props = &body["properties"];
        assert_eq!(props["hierarchyIdentifier"], "222222222222");
        let env = &props["environmentData"];
        assert_eq!(
            env["organizationalData"],
            json!({"organizationMembershipType": "Member", "parentHierarchyId": "111111111111"})
        );
        assert_eq!(env["regions"], json!(["us-east-1"]));
        assert_eq!(env["scanInterval"], 12);
        assert_eq!(env["accountName"], "name-222222222222");
        assert_eq!(
            props["offerings"][0]["nativeCloudConnection"]["cloudRoleArn"],
            "arn:aws:iam::222222222222:role/CspmMonitorAws"
        );
        assert_eq!(membership(&body), Some(MEMBER));
    }

    #[test]
    fn only_iam_arns_of_the_management_account_are_rebased() {
        let mut v = json!({"a": "arn:aws:iam::111111111111:role/x", "b": "111111111111",
            "c": ["arn:aws:iam::999999999999:role/y"]});
        rebase_arns(&mut v, "111111111111", "222222222222");
        assert_eq!(
            v,
            json!({"a": "arn:aws:iam::222222222222:role/x", "b": "111111111111",
            "c": ["arn:aws:iam::999999999999:role/y"]})
        );
    }

    #[test]
    fn connector_paths_are_recognised_in_any_casing() {
        assert!(concerns(
            "/subscriptions/s/providers/MICROSOFT.SECURITY/securityConnectors"
        ));
        assert!(concerns(&format!(
            "{ORG_ID}/providers/Microsoft.Security/healthReports"
        )));
        assert!(!concerns(
            "/subscriptions/s/providers/Microsoft.Security/pricings"
        ));
    }
}
