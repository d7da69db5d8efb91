//! The StackSet's deployment targets without walking the organization.
//!
//! A walk costs a page per 20 accounts of every OU, at the few calls a second Organizations
//! allows: over ten seconds at 1,000 accounts, in series with the StackSet operation if the
//! plan or the create waited for it. CloudFormation resolves OU targets and account filters
//! itself, so creating, refreshing and destroying need only the OU ids (the root's when no OU
//! is configured); a plan checks that the configured OU and account ids exist, one call each.

use futures::future::join_all;

use crate::aws::{AwsClients, AwsError};
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
    let orgs = aws.organizations();
    let exists = |id: String| {
        let orgs = orgs.clone();
        async move {
            if id.starts_with("r-") {
                orgs.root().await.map(|r| r.id == id)
            } else {
                orgs.organizational_unit_exists(&id).await
            }
        }
    };
    let missing = missing_ids(&org.target_ou_ids, exists).await;
    for (index, id) in missing {
        diags.attribute_error(
            AttrPath::root(BLOCK)
                .attr("target_ou_ids")
                .index(index as i64),
            "Invalid organization target",
            format!(
                "{id} is not an OU or the root of this organization; list them with \
                 `aws organizations list-roots` and \
                 `aws organizations list-organizational-units-for-parent`."
            ),
        );
    }
}

/// Reports every excluded account that is not in the organization, on its attribute: one
/// `DescribeAccount` per id, at once, where the walk that used to catch them pages through
/// every account. An organization that cannot be read is left to apply to report.
pub(crate) async fn check_exclusions(aws: &AwsClients, org: &OrgConfig, diags: &mut Diagnostics) {
    let orgs = aws.organizations();
    let exists = |id: String| {
        let orgs = orgs.clone();
        async move { orgs.account_exists(&id).await }
    };
    let missing = missing_ids(&org.excluded_account_ids, exists).await;
    report_exclusions(&missing, diags);
}

/// One error per excluded account that is not in the organization, on its own list element.
fn report_exclusions(missing: &[(usize, String)], diags: &mut Diagnostics) {
    for (index, id) in missing {
        diags.attribute_error(
            AttrPath::root(BLOCK)
                .attr("excluded_account_ids")
                .index(*index as i64),
            "Invalid organization exclusion",
            format!(
                "Account {id} is not an account of this organization, so excluding it changes \
                 nothing; remove it, or correct the id (list the members with \
                 `aws organizations list-accounts`)."
            ),
        );
    }
}

/// The positions and values of the `ids` that `exists` says are not in the organization; all
/// are checked at once. An id that cannot be checked (throttled, no permission) counts as
/// present: apply reports what is wrong with the organization.
async fn missing_ids<F, Fut>(ids: &[String], exists: F) -> Vec<(usize, String)>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<bool, AwsError>>,
{
    let answers = join_all(ids.iter().map(|id| exists(id.clone()))).await;
    ids.iter()
        .zip(answers)
        .enumerate()
        .filter_map(|(index, (id, found))| match found {
            Ok(true) => None,
            Ok(false) => Some((index, id.clone())),
            Err(e) => {
                tracing::debug!(id = %id, error = %e, "cannot check the organization id at plan time");
                None
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[tokio::test]
    async fn only_ids_known_to_be_missing_are_reported_each_on_its_element() {
        let excluded = ids(&[
            "111111111111",
            "999999999999",
            "222222222222",
            "888888888888",
        ]);
        let exists = |id: String| async move {
            match id.as_str() {
                "999999999999" | "888888888888" => Ok(false),
                // Not checkable (no permission, throttled): left to apply.
                "222222222222" => Err(AwsError::Throttled {
                    operation: "DescribeAccount".into(),
                    code: "TooManyRequestsException".into(),
                    message: "slow down".into(),
                    request_id: None,
                }),
                _ => Ok(true),
            }
        };
        let missing = missing_ids(&excluded, exists).await;
        assert_eq!(
            missing,
            [
                (1, "999999999999".to_owned()),
                (3, "888888888888".to_owned())
            ]
        );
        let mut diags = Diagnostics::new();
        report_exclusions(&missing, &mut diags);
        let reported: Vec<(String, String)> = diags
            .iter()
            .map(|d| {
                (
                    d.attribute
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    d.detail.clone(),
                )
            })
            .collect();
        assert_eq!(reported.len(), 2, "{reported:?}");
        assert_eq!(reported[0].0, "organization.excluded_account_ids[1]");
        assert_eq!(reported[1].0, "organization.excluded_account_ids[3]");
        for (detail, id) in [
            (&reported[0].1, "999999999999"),
            (&reported[1].1, "888888888888"),
        ] {
            assert!(detail.contains(id), "{detail}");
            assert!(detail.contains("remove it"), "{detail}");
            assert!(detail.contains("list-accounts"), "{detail}");
        }
        assert!(diags.has_errors());
    }

    #[tokio::test]
    async fn no_ids_no_calls() {
        let called = std::sync::atomic::AtomicUsize::new(0);
        let exists = |_id: String| {
            called.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Ok(true) }
        };
        assert!(missing_ids(&[], exists).await.is_empty());
        assert_eq!(called.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
}
