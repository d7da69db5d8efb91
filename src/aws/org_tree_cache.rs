//! One organization walk shared by the steps of one Terraform command.
//!
//! Walking an organization costs a page per 20 accounts of every OU, and Organizations allows
//! only a few calls per second: at 1,000 accounts one walk is about 60 calls and over ten
//! seconds of rate-limited time. Within `terraform apply`, the provider process that applies a
//! trust first re-plans it (a walk, for the member accounts the plan shows) and then creates it
//! (a walk, for the StackSet's targets) seconds apart. The second step reuses the first one's
//! tree when it is younger than [`TREE_REUSE`]: the targets are computed from the same
//! organization Terraform just planned against. Each Terraform command starts a new provider
//! process, so a tree never outlives the command that read it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::client::AwsClients;
use super::error::AwsError;
use super::organizations::OrganizationTree;

/// How old a tree may be and still be reused.
pub const TREE_REUSE: Duration = Duration::from_secs(60);

/// The last tree read and when; the lock is held during a walk, so steps that need the tree
/// at once wait for one walk instead of making two.
pub(crate) type TreeCache = Arc<tokio::sync::Mutex<Option<(Instant, OrganizationTree)>>>;

impl AwsClients {
    /// The organization tree, reused when one was read less than `max_age` ago by this
    /// process's clients (clones share it), walked otherwise.
    pub async fn organization_tree(&self, max_age: Duration) -> Result<OrganizationTree, AwsError> {
        let mut cached = self.org_tree.lock().await;
        if let Some((at, tree)) = cached.as_ref()
            && at.elapsed() < max_age
        {
            return Ok(tree.clone());
        }
        let tree = self.organizations().tree().await?;
        *cached = Some((Instant::now(), tree.clone()));
        Ok(tree)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::organizations::{Organization, Root};
    use crate::aws::{AwsConfig, AwsEndpoints};
    use crate::secret::Secret;

    fn tree(id: &str) -> OrganizationTree {
        OrganizationTree {
            organization: Organization {
                id: id.into(),
                arn: String::new(),
                management_account_id: "123456789012".into(),
                management_account_email: None,
                feature_set: None,
            },
            root: Root {
                id: "r-1".into(),
                arn: String::new(),
                name: "Root".into(),
            },
            organizational_units: Vec::new(),
            accounts: Vec::new(),
        }
    }

    /// Clients whose Organizations endpoint refuses connections: any walk fails fast.
    async fn clients() -> AwsClients {
        let config = AwsConfig {
            region: Some("us-east-1".into()),
            access_key: Some("AKIATREECACHETEST".into()),
            secret_key: Some(Secret::new("tree-cache-test-secret")),
            max_retries: Some(0),
            endpoints: AwsEndpoints {
                organizations: Some("http://127.0.0.1:9".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        AwsClients::new(&config)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn a_young_tree_is_reused_by_clones_and_an_old_one_is_walked_again() {
        let aws = clients().await;
        *aws.org_tree.lock().await = Some((Instant::now(), tree("o-cached")));
        let clone = aws.clone();
        let reused = clone
            .organization_tree(TREE_REUSE)
            .await
            .unwrap_or_else(|e| panic!("the cached tree was not reused: {e}"));
        assert_eq!(reused.organization.id, "o-cached");
        // Too old: walked again, and the unreachable endpoint answers with an error.
        assert!(aws.organization_tree(Duration::ZERO).await.is_err());
    }
}
