//! Organizations at scale in moto: member accounts seeded in bulk through the extension's
//! admin API (`POST /_mcloud/organizations/accounts`), so a 1,000-account organization is
//! set up in seconds instead of the minutes 2,000 CreateAccount/MoveAccount calls take.

use std::time::Duration;

use serde_json::{Value, json};

use crate::moto::{Moto, QueryScope};

/// Seeding builds every account's IAM backend; 1,000 take a few seconds, more on a loaded
/// machine.
const SEED_TIMEOUT: Duration = Duration::from_secs(300);

/// A member account created by [`Moto::seed_accounts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededAccount {
    /// 12-digit account id.
    pub id: String,
    /// `<prefix>-<n>`.
    pub name: String,
    /// `<prefix>-<n>@example.test`.
    pub email: String,
    /// The root or OU the account was placed in.
    pub parent_id: String,
}

/// What [`Moto::seed_accounts`] created, and where.
#[derive(Debug, Clone)]
pub struct SeededAccounts {
    /// `o-...`.
    pub organization_id: String,
    /// `r-...`.
    pub root_id: String,
    /// The organization's management account.
    pub management_account_id: String,
    /// The new accounts in creation order: account `i` is in `parent_ids[i % len]`.
    pub accounts: Vec<SeededAccount>,
}

impl SeededAccounts {
    /// The new accounts' ids, in creation order.
    pub fn ids(&self) -> Vec<String> {
        self.accounts.iter().map(|a| a.id.clone()).collect()
    }
}

impl Moto {
    /// Creates `count` member accounts in the existing organization, spread round-robin over
    /// `parent_ids` (the root when empty), named `member-<n>`. The organization and its OUs
    /// are created through the API first; this replaces only the per-account calls.
    pub fn seed_accounts(&self, count: usize, parent_ids: &[&str]) -> SeededAccounts {
        self.seed_accounts_with(json!({"count": count, "parent_ids": parent_ids}))
    }

    /// [`Moto::seed_accounts`] with the full request of the admin API (`name_prefix`,
    /// `first_index`, `management_account_id`; see the extension's `org_scale` module).
    pub fn seed_accounts_with(&self, request: Value) -> SeededAccounts {
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(SEED_TIMEOUT)
            .build()
            .unwrap_or_else(|e| panic!("cannot build an HTTP client: {e}"));
        let resp = http
            .post(format!("{}/_mcloud/organizations/accounts", self.url()))
            .json(&request)
            .send()
            .unwrap_or_else(|e| panic!("moto seed accounts: {e}"));
        let status = resp.status();
        let text = resp.text().unwrap_or_default();
        assert!(status.is_success(), "moto seed accounts: {status}\n{text}");
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("moto seed accounts: not JSON ({e}): {text}"));
        parse(&body).unwrap_or_else(|| panic!("moto seed accounts: unexpected answer {body}"))
    }

    /// A Query-protocol call (IAM, CloudFormation) answered as `account` would answer it: moto
    /// picks the account from its `x-moto-account-id` header, so a member account is read
    /// without credentials of its own. Panics unless moto answers 2xx.
    pub fn query_as(
        &self,
        account: &str,
        service: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> String {
        let (status, text) =
            self.signed_query(service, QueryScope::account(account), action, params);
        assert!(
            (200..300).contains(&status),
            "moto {service} {action} as {account}: {status}\n{text}"
        );
        text
    }

    /// The IAM roles of `account` as `(name, trust policy)`, the policy decoded.
    pub fn iam_roles_in(&self, account: &str) -> Vec<(String, String)> {
        let xml = self.query_as(account, "iam", "ListRoles", &[("MaxItems", "1000")]);
        let names = crate::moto::xml_values(&xml, "RoleName");
        let trusts = crate::moto::xml_values(&xml, "AssumeRolePolicyDocument");
        assert_eq!(names.len(), trusts.len(), "ListRoles in {account}: {xml}");
        names
            .into_iter()
            .zip(trusts.iter().map(|t| crate::moto::percent_decode(t)))
            .collect()
    }

    /// Names of the IAM roles in `account`.
    pub fn iam_role_names_in(&self, account: &str) -> Vec<String> {
        self.iam_roles_in(account)
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }
}

fn parse(body: &Value) -> Option<SeededAccounts> {
    let text = |v: &Value, key: &str| v[key].as_str().map(str::to_owned);
    let accounts = body["accounts"]
        .as_array()?
        .iter()
        .map(|a| {
            Some(SeededAccount {
                id: text(a, "id")?,
                name: text(a, "name")?,
                email: text(a, "email")?,
                parent_id: text(a, "parent_id")?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(SeededAccounts {
        organization_id: text(body, "organization_id")?,
        root_id: text(body, "root_id")?,
        management_account_id: text(body, "management_account_id")?,
        accounts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_admin_answer_and_rejects_a_partial_one() {
        let body = json!({"organization_id": "o-1", "root_id": "r-1",
            "management_account_id": "123456789012",
            "accounts": [{"id": "111111111111", "name": "member-0",
                "email": "member-0@example.test", "parent_id": "r-1"}]});
        let seeded = parse(&body).expect("complete answer");
        assert_eq!(seeded.ids(), ["111111111111"]);
        assert_eq!(seeded.accounts[0].parent_id, "r-1");
        let mut partial = body.clone();
        partial["accounts"][0]
            .as_object_mut()
            .expect("object")
            .remove("parent_id");
        assert!(parse(&partial).is_none());
    }
}
