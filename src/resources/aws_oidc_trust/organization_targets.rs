//! The StackSet's deployment targets without walking the organization.
//!
//! A walk costs a page per 20 accounts of every OU, at the few calls a second Organizations
//! allows: over ten seconds at 1,000 accounts, in series with the StackSet operation if the
//! plan or the create waited for it. CloudFormation resolves OU targets and account filters
//! itself, so creating, refreshing and destroying need only the OU ids (the root's when no OU
//! is configured); a plan checks that the configured ids exist, one call each.

use futures::future::join_all;

use crate::aws::AwsClients;
use crate::protocol::{AttrPath, Diagnostics};

use super::iam::{StepError, step};
use super::organization_schema::{BLOCK, OrgConfig};

/// The OU ids the StackSet targets: the configured ones, else the organization's root (one
/// `ListRoots` call).
pub(crate) async fn deployment_ous(
    aws: &AwsClients,
    configured: &[String],
) -> Result<Vec<String>, StepError> {
    if !configured.is_empty() {
        return Ok(configured.to_vec());
    }
    let root = step(
        "reading the organization's root",
        aws.organizations().root().await,
    )?;
    Ok(vec![root.id])
}

/// Reports every configured target that is not in the organization, on its attribute: the
/// root id against `ListRoots`, OU ids with `DescribeOrganizationalUnit`, at once. An
/// organization that cannot be read is left to apply to report.
pub(crate) async fn check_targets(aws: &AwsClients, org: &OrgConfig, diags: &mut Diagnostics) {
    if org.target_ou_ids.is_empty() {
        return;
    }
    let orgs = aws.organizations();
    let checks = org.target_ou_ids.iter().map(|id| {
        let orgs = orgs.clone();
        async move {
            if id.starts_with("r-") {
                orgs.root().await.map(|r| r.id == *id)
            } else {
                orgs.organizational_unit_exists(id).await
            }
        }
    });
    for (index, (id, found)) in org
        .target_ou_ids
        .iter()
        .zip(join_all(checks).await)
        .enumerate()
    {
        match found {
            Ok(true) => {}
            Ok(false) => diags.attribute_error(
                AttrPath::root(BLOCK)
                    .attr("target_ou_ids")
                    .index(index as i64),
                "Invalid organization target",
                format!(
                    "{id} is not an OU or the root of this organization; list them with \
                     `aws organizations list-roots` and \
                     `aws organizations list-organizational-units-for-parent`."
                ),
            ),
            Err(e) => {
                tracing::debug!(target = %id, error = %e, "cannot check the organization target at plan time");
            }
        }
    }
}
