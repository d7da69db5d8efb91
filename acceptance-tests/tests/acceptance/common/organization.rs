//! The AWS organization the organization scenarios share: created in moto through the
//! provider's own Organizations client, with the OUs and member accounts a scenario asks
//! for, plus the questions those scenarios ask of it afterwards (StackSet instances, roles
//! in member accounts, trusted access).

// Test code: a failed call should fail the test with its error, which unwrap prints.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use acceptance_tests::Emulators;
use terraform_provider_multicloud::aws::cloudformation::{CallAs, CloudFormationClient};
use terraform_provider_multicloud::aws::{
    AssumeRole, AwsClients, AwsConfig, AwsEndpoints, IamClient, OrganizationsClient,
};
use terraform_provider_multicloud::secret::Secret;

/// The name [`OrgSpec`] uses for the organization's root.
pub(crate) const ROOT: &str = "root";

/// How the member accounts come into being.
pub(crate) enum Members<'a> {
    /// One account per entry of `parents`, created with CreateAccount as `<prefix>-<n>` (at
    /// the root, as AWS does) and moved into the OU of that name, as a user would.
    Created {
        /// Account name prefix.
        prefix: &'a str,
        /// The OU name of each account, in creation order ([`ROOT`] leaves it at the root).
        parents: &'a [&'a str],
    },
    /// `count` accounts named `member-<n>`, seeded in one request through the moto
    /// extension (seconds instead of minutes for large organizations), round-robin over the
    /// named OUs: account `i` is in `parents[i % parents.len()]`.
    Seeded {
        /// How many accounts.
        count: usize,
        /// The OU names the accounts are spread over.
        parents: &'a [&'a str],
    },
}

/// What organization a scenario needs.
pub(crate) struct OrgSpec<'a> {
    /// OUs created in this order as `(name, parent name)`; names are unique, [`ROOT`] is the
    /// root.
    pub(crate) ous: &'a [(&'a str, &'a str)],
    /// The member accounts.
    pub(crate) members: Members<'a>,
    /// Whether StackSets' trusted access is enabled before the scenario starts.
    pub(crate) trusted_access: bool,
}

/// An organization in moto's default account, through the provider's own clients.
pub(crate) struct Organization {
    /// Runs the clients' calls for the blocking tests.
    pub(crate) rt: tokio::runtime::Runtime,
    /// The management account's configuration (moto's endpoints, the emulators' key).
    pub(crate) config: AwsConfig,
    /// The management account's Organizations client.
    pub(crate) orgs: OrganizationsClient,
    /// The management account's StackSet client (default waits).
    pub(crate) cfn: CloudFormationClient,
    /// The root's id.
    pub(crate) root: String,
    /// The management account's id.
    pub(crate) management: String,
    /// Member account ids in creation order.
    pub(crate) members: Vec<String>,
    ous: BTreeMap<String, String>,
}

impl Organization {
    /// Creates the organization `spec` describes in the emulators' moto.
    pub(crate) fn seed(emu: &Emulators, spec: &OrgSpec<'_>) -> Organization {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let config = aws_config(emu);
        let (orgs, cfn, root, management) = rt.block_on(async {
            let aws = AwsClients::new(&config).await.unwrap();
            let orgs = aws.organizations();
            orgs.sdk().create_organization().send().await.unwrap();
            if spec.trusted_access {
                orgs.enable_stacksets_trusted_access().await.unwrap();
            }
            let root = orgs.root().await.unwrap().id;
            let management = orgs
                .describe_organization()
                .await
                .unwrap()
                .management_account_id;
            (orgs, aws.stacksets(), root, management)
        });
        let mut org = Organization {
            rt,
            config,
            orgs,
            cfn,
            root: root.clone(),
            management,
            members: Vec::new(),
            ous: BTreeMap::from([(ROOT.to_owned(), root)]),
        };
        for (name, parent) in spec.ous {
            let id = org.create_ou(org.ou(parent), name);
            org.ous.insert((*name).to_owned(), id);
        }
        org.members = match spec.members {
            Members::Created { prefix, parents } => parents
                .iter()
                .enumerate()
                .map(|(n, parent)| {
                    let id = org.create_account(&format!("{prefix}-{n}"));
                    if *parent != ROOT {
                        org.move_account(&id, &org.root, org.ou(parent));
                    }
                    id
                })
                .collect(),
            Members::Seeded { count, parents } => {
                let ids: Vec<&str> = parents.iter().map(|p| org.ou(p)).collect();
                emu.moto().seed_accounts(count, &ids).ids()
            }
        };
        org
    }

    /// The id of the OU named `name` in the spec ([`ROOT`]: the root's).
    pub(crate) fn ou(&self, name: &str) -> &str {
        self.ous
            .get(name)
            .unwrap_or_else(|| panic!("no OU named {name} in the organization"))
    }

    /// The member accounts, sorted (as the provider lists them).
    pub(crate) fn sorted_members(&self) -> Vec<String> {
        let mut members = self.members.clone();
        members.sort();
        members
    }

    /// CreateOrganizationalUnit under `parent_id`; returns the new OU's id.
    pub(crate) fn create_ou(&self, parent_id: &str, name: &str) -> String {
        self.rt.block_on(create_ou(&self.orgs, parent_id, name))
    }

    /// CreateAccount: AWS puts the new account at the root.
    pub(crate) fn create_account(&self, name: &str) -> String {
        let out = self
            .rt
            .block_on(
                self.orgs
                    .sdk()
                    .create_account()
                    .account_name(name)
                    .email(format!("{name}@example.test"))
                    .send(),
            )
            .unwrap();
        out.create_account_status.unwrap().account_id.unwrap()
    }

    /// MoveAccount from one parent (root or OU id) to another.
    pub(crate) fn move_account(&self, account: &str, from: &str, to: &str) {
        self.rt
            .block_on(
                self.orgs
                    .sdk()
                    .move_account()
                    .account_id(account)
                    .source_parent_id(from)
                    .destination_parent_id(to)
                    .send(),
            )
            .unwrap();
    }

    /// Whether StackSets' trusted access is on.
    pub(crate) fn trusted(&self) -> bool {
        self.rt
            .block_on(self.orgs.require_stacksets_trusted_access())
            .is_ok()
    }

    /// Whether the StackSet `name` exists.
    pub(crate) fn stack_set_exists(&self, name: &str) -> bool {
        self.rt
            .block_on(self.cfn.describe_stack_set(name, CallAs::ManagementAccount))
            .unwrap()
            .is_some()
    }

    /// Accounts with a stack instance of the StackSet `name`, sorted; fails the test when
    /// they cannot be listed.
    pub(crate) fn instance_accounts(&self, name: &str) -> Vec<String> {
        let list = self
            .rt
            .block_on(
                self.cfn
                    .list_stack_instances(name, CallAs::ManagementAccount),
            )
            .unwrap();
        sorted(list.into_iter().map(|i| i.account).collect())
    }

    /// [`Organization::instance_accounts`], but empty when they cannot be listed (the
    /// StackSet is gone after destroy).
    pub(crate) fn instance_accounts_or_none(&self, name: &str) -> Vec<String> {
        let list = self
            .rt
            .block_on(
                self.cfn
                    .list_stack_instances(name, CallAs::ManagementAccount),
            )
            .map(|l| l.into_iter().map(|i| i.account).collect())
            .unwrap_or_default();
        sorted(list)
    }

    /// IAM in a member account, through the role Organizations creates in every account.
    pub(crate) fn member_iam(&self, account: &str) -> IamClient {
        let mut config = self.config.clone();
        config.assume_role = Some(AssumeRole {
            role_arn: format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole"),
            ..Default::default()
        });
        self.rt
            .block_on(async { AwsClients::new(&config).await.unwrap().iam() })
    }

    /// Creates `role` in a member account (trusting EC2, so nothing else can use it): a
    /// name a StackSet then collides with.
    pub(crate) fn put_member_role(&self, account: &str, role: &str) {
        let iam = self.member_iam(account);
        self.rt.block_on(async {
            iam.sdk()
                .create_role()
                .role_name(role)
                .assume_role_policy_document(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
                )
                .send()
                .await
                .unwrap();
        });
    }

    /// Deletes `role` from a member account.
    pub(crate) fn delete_member_role(&self, account: &str, role: &str) {
        let iam = self.member_iam(account);
        self.rt.block_on(async {
            iam.sdk()
                .delete_role()
                .role_name(role)
                .send()
                .await
                .unwrap();
        });
    }

    /// Whether `role` exists in a member account.
    pub(crate) fn member_has_role(&self, account: &str, role: &str) -> bool {
        let iam = self.member_iam(account);
        self.rt.block_on(iam.get_role_opt(role)).unwrap().is_some()
    }
}

/// The management account's configuration: every service at moto, the emulators' key.
fn aws_config(emu: &Emulators) -> AwsConfig {
    let url = emu.moto_url().to_owned();
    AwsConfig {
        region: Some("us-east-1".into()),
        access_key: Some(emu.aws_access_key_id().into()),
        secret_key: Some(Secret::new(emu.aws_secret_access_key())),
        endpoints: AwsEndpoints {
            iam: Some(url.clone()),
            sts: Some(url.clone()),
            cloudformation: Some(url.clone()),
            organizations: Some(url),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// CreateOrganizationalUnit under `parent_id`; returns the new OU's id.
pub(crate) async fn create_ou(orgs: &OrganizationsClient, parent_id: &str, name: &str) -> String {
    let out = orgs
        .sdk()
        .create_organizational_unit()
        .parent_id(parent_id)
        .name(name)
        .send()
        .await
        .unwrap();
    out.organizational_unit.unwrap().id.unwrap()
}

/// CreateAccount as `name` (AWS puts it at the root), then MoveAccount into `parent` unless
/// that is the root; returns the account's id.
pub(crate) async fn create_account_in(
    orgs: &OrganizationsClient,
    root: &str,
    parent: &str,
    name: &str,
) -> String {
    let out = orgs
        .sdk()
        .create_account()
        .account_name(name)
        .email(format!("{name}@example.test"))
        .send()
        .await
        .unwrap();
    let id = out.create_account_status.unwrap().account_id.unwrap();
    if parent != root {
        orgs.sdk()
            .move_account()
            .account_id(&id)
            .source_parent_id(root)
            .destination_parent_id(parent)
            .send()
            .await
            .unwrap();
    }
    id
}

fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}
