//! AWS Organizations client: the organization, its root, OUs and accounts (every list call
//! paginated), and the trusted-access pre-flight that service-managed StackSets need.
//!
//! Organizations answers from one global endpoint with low request rates (a few calls per
//! second per account), so listing 1,000 accounts walks the tree parent by parent
//! (`ListOrganizationalUnitsForParent` + `ListAccountsForParent`, 20 items a page) with a
//! small bounded concurrency, and throttling is left to the retryer the client is built with (see [`AwsClients::organizations`](super::AwsClients::organizations)).

mod model;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub use model::{Account, Organization, OrganizationTree, OrganizationalUnit, Root};

use super::error::AwsError;
use aws_sdk_organizations::error::SdkError;
use futures::stream::{self, StreamExt, TryStreamExt};

/// Service principal of CloudFormation StackSets for trusted access.
pub const STACKSETS_SERVICE_PRINCIPAL: &str = "member.org.stacksets.cloudformation.amazonaws.com";

/// Parents listed at once while walking the tree: enough to hide latency, few enough to stay
/// inside Organizations' request rate without leaning on retries.
pub const TREE_WALK_CONCURRENCY: usize = 4;

/// The default Organizations endpoint (global, served from us-east-1).
pub const DEFAULT_ORGANIZATIONS_ENDPOINT: &str = "https://organizations.us-east-1.amazonaws.com";

/// What [`AwsError::from_sdk`] reads from an Organizations operation's error.
trait OperationError:
    aws_sdk_organizations::error::ProvideErrorMetadata
    + aws_sdk_organizations::operation::RequestId
    + std::error::Error
    + 'static
{
}

impl<E> OperationError for E where
    E: aws_sdk_organizations::error::ProvideErrorMetadata
        + aws_sdk_organizations::operation::RequestId
        + std::error::Error
        + 'static
{
}

/// An Organizations client; `endpoint` only appears in error messages.
#[derive(Debug, Clone)]
pub struct OrganizationsClient {
    client: aws_sdk_organizations::Client,
    endpoint: String,
}

impl OrganizationsClient {
    /// Wraps an SDK client.
    pub fn new(client: aws_sdk_organizations::Client, endpoint: impl Into<String>) -> Self {
        Self {
            client,
            endpoint: endpoint.into(),
        }
    }

    /// The underlying SDK client, for operations not wrapped here (tests build organizations
    /// with it).
    pub fn sdk(&self) -> &aws_sdk_organizations::Client {
        &self.client
    }

    fn err<E, R>(&self, operation: &'static str) -> impl Fn(SdkError<E, R>) -> AwsError + '_
    where
        E: OperationError,
        R: std::fmt::Debug + 'static,
    {
        move |e| {
            refine(AwsError::from_sdk(
                &e,
                "organizations",
                operation,
                &self.endpoint,
            ))
        }
    }

    /// The organization the credentials' account belongs to.
    pub async fn describe_organization(&self) -> Result<Organization, AwsError> {
        const OP: &str = "DescribeOrganization";
        let out = self
            .client
            .describe_organization()
            .send()
            .await
            .map_err(self.err(OP))?;
        let org = out
            .organization
            .ok_or_else(|| missing(OP, "Organization"))?;
        Ok(Organization {
            id: org.id.ok_or_else(|| missing(OP, "Organization.Id"))?,
            arn: org.arn.unwrap_or_default(),
            management_account_id: org
                .master_account_id
                .ok_or_else(|| missing(OP, "Organization.MasterAccountId"))?,
            management_account_email: org.master_account_email,
            feature_set: org.feature_set.map(|f| f.as_str().to_owned()),
        })
    }

    /// Every item of every page of a paginated call: `pages` is the SDK paginator's collected
    /// pages, `items` takes a page's list out, `convert` turns an item into ours or names the
    /// required field it lacks. Every list call of this client goes through here, so paging,
    /// error mapping and missing-field reporting cannot differ between them.
    async fn paged<P, I, T, E, R>(
        &self,
        operation: &'static str,
        pages: impl std::future::Future<Output = Result<Vec<P>, SdkError<E, R>>>,
        items: impl Fn(P) -> Option<Vec<I>>,
        convert: impl Fn(I) -> Result<T, &'static str>,
    ) -> Result<Vec<T>, AwsError>
    where
        E: OperationError,
        R: std::fmt::Debug + 'static,
    {
        pages
            .await
            .map_err(self.err(operation))?
            .into_iter()
            .flat_map(|p| items(p).unwrap_or_default())
            .map(|i| convert(i).map_err(|field| missing(operation, field)))
            .collect()
    }

    /// The organization's roots (AWS has exactly one).
    pub async fn list_roots(&self) -> Result<Vec<Root>, AwsError> {
        let pages = self.client.list_roots().into_paginator().send().collect();
        self.paged(
            "ListRoots",
            pages,
            |p| p.roots,
            |r| {
                Ok(Root {
                    id: r.id.ok_or("Root.Id")?,
                    arn: r.arn.unwrap_or_default(),
                    name: r.name.unwrap_or_default(),
                })
            },
        )
        .await
    }

    /// The root (the first and only one AWS returns).
    pub async fn root(&self) -> Result<Root, AwsError> {
        self.list_roots()
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| missing("ListRoots", "Roots"))
    }

    /// Whether the OU `id` exists in the organization: one call, where a walk would page
    /// through every OU.
    pub async fn organizational_unit_exists(&self, id: &str) -> Result<bool, AwsError> {
        let op = self.client.describe_organizational_unit();
        let found = op.organizational_unit_id(id).send().await;
        exists(found.map_err(self.err("DescribeOrganizationalUnit")))
    }

    /// Whether account `id` is a member of the organization (the management account
    /// included): one `DescribeAccount`, where a walk would page through every account.
    pub async fn account_exists(&self, id: &str) -> Result<bool, AwsError> {
        let found = self.client.describe_account().account_id(id).send().await;
        exists(found.map_err(self.err("DescribeAccount")))
    }

    /// The OUs directly under `parent_id` (a root or an OU).
    pub async fn list_organizational_units_for_parent(
        &self,
        parent_id: &str,
    ) -> Result<Vec<OrganizationalUnit>, AwsError> {
        let pages = self
            .client
            .list_organizational_units_for_parent()
            .parent_id(parent_id)
            .into_paginator()
            .send()
            .collect();
        let ou = |o: aws_sdk_organizations::types::OrganizationalUnit| {
            Ok(OrganizationalUnit {
                id: o.id.ok_or("OrganizationalUnit.Id")?,
                arn: o.arn.unwrap_or_default(),
                name: o.name.unwrap_or_default(),
                parent_id: parent_id.to_owned(),
            })
        };
        self.paged(
            "ListOrganizationalUnitsForParent",
            pages,
            |p| p.organizational_units,
            ou,
        )
        .await
    }

    /// The accounts directly under `parent_id` (a root or an OU).
    pub async fn list_accounts_for_parent(
        &self,
        parent_id: &str,
    ) -> Result<Vec<Account>, AwsError> {
        let pages = self
            .client
            .list_accounts_for_parent()
            .parent_id(parent_id)
            .into_paginator()
            .send()
            .collect();
        self.paged(
            "ListAccountsForParent",
            pages,
            |p| p.accounts,
            |a| model::account(a, parent_id).ok_or("Account.Id"),
        )
        .await
    }

    /// The whole tree under `parent_id`: every OU below it (at any depth) and every account in
    /// it or below it. Parents are listed [`TREE_WALK_CONCURRENCY`] at a time, level by level.
    pub async fn subtree(
        &self,
        parent_id: &str,
    ) -> Result<(Vec<OrganizationalUnit>, Vec<Account>), AwsError> {
        let mut ous = Vec::new();
        let mut accounts = Vec::new();
        let mut level = vec![parent_id.to_owned()];
        while !level.is_empty() {
            let listed: Vec<(Vec<OrganizationalUnit>, Vec<Account>)> = stream::iter(level)
                .map(|parent| async move {
                    let children = self.list_organizational_units_for_parent(&parent).await?;
                    let members = self.list_accounts_for_parent(&parent).await?;
                    Ok::<_, AwsError>((children, members))
                })
                .buffer_unordered(TREE_WALK_CONCURRENCY)
                .try_collect()
                .await?;
            level = Vec::new();
            for (children, members) in listed {
                level.extend(children.iter().map(|o| o.id.clone()));
                ous.extend(children);
                accounts.extend(members);
            }
        }
        ous.sort_by(|a, b| a.id.cmp(&b.id));
        accounts.sort_by(|a, b| a.id.cmp(&b.id));
        Ok((ous, accounts))
    }

    /// Every account in or below `parent_id` (an OU or the root), at any depth.
    pub async fn list_accounts_recursive(&self, parent_id: &str) -> Result<Vec<Account>, AwsError> {
        Ok(self.subtree(parent_id).await?.1)
    }

    /// The organization, its root, every OU and every account with its parent.
    pub async fn tree(&self) -> Result<OrganizationTree, AwsError> {
        let organization = self.describe_organization().await?;
        let root = self.root().await?;
        let (organizational_units, accounts) = self.subtree(&root.id).await?;
        Ok(OrganizationTree {
            organization,
            root,
            organizational_units,
            accounts,
        })
    }

    /// Service principals with trusted access enabled in the organization.
    pub async fn trusted_service_principals(&self) -> Result<Vec<String>, AwsError> {
        let pages = self
            .client
            .list_aws_service_access_for_organization()
            .into_paginator()
            .send()
            .collect();
        let found = self
            .paged(
                "ListAWSServiceAccessForOrganization",
                pages,
                |p| p.enabled_service_principals,
                |s| Ok(s.service_principal),
            )
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    /// Pre-flight for service-managed StackSets: `Ok` when trusted access for CloudFormation
    /// StackSets is enabled; [`AwsError::TrustedAccessDisabled`] (with the fix) when not.
    pub async fn require_stacksets_trusted_access(&self) -> Result<(), AwsError> {
        let enabled = self.trusted_service_principals().await?;
        check_trusted(&enabled, STACKSETS_SERVICE_PRINCIPAL)
    }

    /// Enables trusted access for CloudFormation StackSets (the opt-in fix for the
    /// pre-flight; the CloudFormation console's "Activate trusted access" does the same).
    pub async fn enable_stacksets_trusted_access(&self) -> Result<(), AwsError> {
        self.client
            .enable_aws_service_access()
            .service_principal(STACKSETS_SERVICE_PRINCIPAL)
            .send()
            .await
            .map_err(self.err("EnableAWSServiceAccess"))?;
        Ok(())
    }
}

/// `Ok` when `principal` is among the `enabled` ones, else the actionable error.
pub fn check_trusted(enabled: &[String], principal: &str) -> Result<(), AwsError> {
    if enabled.iter().any(|p| p == principal) {
        Ok(())
    } else {
        Err(AwsError::TrustedAccessDisabled {
            service_principal: principal.to_owned(),
        })
    }
}

/// Organizations' "not in an organization" and "not the management account" answers get a
/// variant of their own that says which credentials organization onboarding needs.
pub fn refine(e: AwsError) -> AwsError {
    let moved = matches!(
        e.code(),
        Some("AWSOrganizationsNotInUseException" | "AccessDeniedForDependencyException")
    ) || matches!(&e, AwsError::PermissionDenied { message, .. }
        if message.contains("management account") || message.contains("master account"));
    if !moved {
        return e;
    }
    match e {
        AwsError::Api {
            operation, message, ..
        }
        | AwsError::PermissionDenied {
            operation, message, ..
        }
        | AwsError::NotFound {
            operation, message, ..
        } => AwsError::NotInOrganization { operation, message },
        other => other,
    }
}

/// A describe call's answer as "is it there": not found is `false`, not an error.
fn exists<T>(answer: Result<T, AwsError>) -> Result<bool, AwsError> {
    match answer {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

fn missing(operation: &str, field: &str) -> AwsError {
    AwsError::MissingField {
        operation: operation.into(),
        field: field.into(),
    }
}
