//! What the Organizations client returns: plain owned values, independent of the SDK types.

/// The organization (`DescribeOrganization`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// Organization id (`o-...`).
    pub id: String,
    /// Organization ARN.
    pub arn: String,
    /// The management account's id (AWS's `MasterAccountId`).
    pub management_account_id: String,
    /// The management account's e-mail address.
    pub management_account_email: Option<String>,
    /// `ALL` or `CONSOLIDATED_BILLING` (service-managed StackSets need `ALL`).
    pub feature_set: Option<String>,
}

/// The organization's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    /// Root id (`r-...`).
    pub id: String,
    /// Root ARN.
    pub arn: String,
    /// Root name (`Root`).
    pub name: String,
}

/// An organizational unit with its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationalUnit {
    /// OU id (`ou-...`).
    pub id: String,
    /// OU ARN.
    pub arn: String,
    /// OU name.
    pub name: String,
    /// Id of the root or OU that holds it.
    pub parent_id: String,
}

/// A member account with its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// 12-digit account id.
    pub id: String,
    /// Account ARN.
    pub arn: String,
    /// Account name.
    pub name: String,
    /// Account e-mail address.
    pub email: String,
    /// `ACTIVE`, `SUSPENDED` or `PENDING_CLOSURE` (from the account's state when AWS reports
    /// one, else its older status field).
    pub status: String,
    /// Id of the root or OU that holds it.
    pub parent_id: String,
}

/// The organization with everything under its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationTree {
    /// The organization.
    pub organization: Organization,
    /// Its root.
    pub root: Root,
    /// Every OU at any depth, sorted by id.
    pub organizational_units: Vec<OrganizationalUnit>,
    /// Every account (the management account included), sorted by id.
    pub accounts: Vec<Account>,
}

impl OrganizationTree {
    /// The shape the onboarding domain computes StackSet targets from.
    pub fn shape(&self) -> crate::onboarding::OrganizationShape {
        crate::onboarding::OrganizationShape {
            management_account_id: self.organization.management_account_id.clone(),
            root_id: self.root.id.clone(),
            organizational_units: self
                .organizational_units
                .iter()
                .map(|o| (o.id.clone(), o.parent_id.clone()))
                .collect(),
            accounts: self
                .accounts
                .iter()
                .map(|a| (a.id.clone(), a.parent_id.clone()))
                .collect(),
        }
    }
}

/// Converts an SDK account listed under `parent_id`; `None` without an id.
#[allow(deprecated)] // `status` is still the only field older endpoints fill
pub(super) fn account(
    a: aws_sdk_organizations::types::Account,
    parent_id: &str,
) -> Option<Account> {
    let status = a
        .state
        .map(|s| s.as_str().to_owned())
        .or_else(|| a.status.map(|s| s.as_str().to_owned()))
        .unwrap_or_default();
    Some(Account {
        id: a.id?,
        arn: a.arn.unwrap_or_default(),
        name: a.name.unwrap_or_default(),
        email: a.email.unwrap_or_default(),
        status,
        parent_id: parent_id.to_owned(),
    })
}
