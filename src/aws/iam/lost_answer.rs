//! Creates whose answer was lost. IAM's create calls take no idempotency token, and the SDK
//! retries a call whose connection broke or timed out: when the first attempt did create the
//! object, the retry is refused with `EntityAlreadyExists` (a role, user or OIDC provider) or
//! silently makes a second object (an access key). When the retries run out on broken
//! connections too, the call fails with no answer at all, and the object may exist all the
//! same. Without the checks here the object would be left outside state, and the next apply
//! would stop on "already exists". An object counts as ours only when IAM dated it after our
//! call began and it is what we asked for (a role's trust policy, a provider's audiences):
//! someone else's object is still reported as already existing, to be imported.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::oidc::NewOidcProvider;
use super::{IamClient, policy_documents_equal, role::Role};
use crate::aws::error::AwsError;

/// IAM dates objects to the second, and its clock is not ours: an object dated up to this long
/// before our call began still counts as created by it.
pub(crate) const CLOCK_SLACK: Duration = Duration::from_secs(2);

/// Whether IAM's `create_date` (seconds since the epoch) falls within our call, which began at
/// `started`.
pub(crate) fn created_during(create_date_secs: i64, started: SystemTime) -> bool {
    let started_secs = started
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let earliest = started_secs.saturating_sub(CLOCK_SLACK.as_secs());
    u64::try_from(create_date_secs).is_ok_and(|d| d >= earliest)
}

impl IamClient {
    /// The role named `name` when our own create (begun at `started`, with `trust_policy`)
    /// made it and only its answer was lost; `None` otherwise (or when IAM cannot say).
    pub(crate) async fn role_from_lost_create(
        &self,
        name: &str,
        trust_policy: &str,
        started: SystemTime,
    ) -> Option<Role> {
        let out = self.client.get_role().role_name(name).send().await.ok()?;
        let sdk_role = out.role.as_ref()?;
        if !created_during(sdk_role.create_date().secs(), started) {
            return None;
        }
        let role = super::role::role_from_sdk(sdk_role).ok()?;
        policy_documents_equal(&role.trust_policy, trust_policy).then(|| {
            tracing::info!(role = %name, "CreateRole's answer was lost; the role it made is ours");
            role
        })
    }

    /// The ARN of the provider for `p.url` when our own create (begun at `started`) made it and
    /// only its answer was lost: dated within the call and listing exactly the audiences we
    /// sent. `None` otherwise: a provider someone else made for the URL stays their error.
    pub(crate) async fn oidc_provider_from_lost_create(
        &self,
        p: &NewOidcProvider,
        started: SystemTime,
    ) -> Option<String> {
        let arn = self.oidc_provider_arn_for_url(&p.url).await.ok()??;
        let out = self
            .client
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(&arn)
            .send()
            .await
            .ok()?;
        let dated = out
            .create_date()
            .is_some_and(|d| created_during(d.secs(), started));
        let audiences = |ids: &[String]| ids.iter().cloned().collect::<BTreeSet<String>>();
        let same = audiences(out.client_id_list()) == audiences(&p.client_ids);
        (dated && same).then(|| {
            tracing::info!(provider = %arn, "CreateOpenIDConnectProvider's answer was lost; the provider it made is ours");
            arn
        })
    }

    /// Whether the user named `name` was made by our own create begun at `started`.
    pub(crate) async fn user_from_lost_create(&self, name: &str, started: SystemTime) -> bool {
        let Ok(out) = self.client.get_user().user_name(name).send().await else {
            return false;
        };
        let ours = out
            .user
            .as_ref()
            .is_some_and(|u| created_during(u.create_date().secs(), started));
        if ours {
            tracing::info!(user = %name, "CreateUser's answer was lost; the user it made is ours");
        }
        ours
    }

    /// Deletes the keys of `user` that are neither in `before` nor `created`: keys a retried
    /// (or failed) CreateAccessKey made whose secret nobody ever received; returns how many
    /// went. Failures are logged only: the key we hold (if any) is good either way.
    pub(crate) async fn delete_keys_of_lost_creates(
        &self,
        user: &str,
        before: &[String],
        created: Option<&str>,
    ) -> usize {
        let keys = match self.list_access_keys(user).await {
            Ok(k) => k,
            Err(e) => {
                tracing::warn!(%user, error = %e, "cannot check for keys of lost CreateAccessKey answers");
                return 0;
            }
        };
        let mut deleted = 0;
        for key in keys {
            if created != Some(key.id.as_str()) && !before.contains(&key.id) {
                tracing::info!(%user, key = %key.id, "deleting a key whose CreateAccessKey answer was lost");
                match self.delete_access_key(user, &key.id).await {
                    Ok(_) => deleted += 1,
                    Err(e) => {
                        tracing::warn!(%user, key = %key.id, error = %e, "cannot delete the unusable key")
                    }
                }
            }
        }
        deleted
    }
}

/// Whether a failed create may still have made its object: the service refused a retry
/// because the object exists (an earlier attempt made it), or the last attempt got no answer
/// at all (a broken connection or a timeout after an earlier attempt was processed).
pub(crate) fn may_have_created(e: &AwsError) -> bool {
    matches!(
        e,
        AwsError::AlreadyExists { .. } | AwsError::Unreachable { .. }
    )
}

/// Keeps `result` unless it is an error after which the object may exist
/// ([`may_have_created`]) and `adopt` finds the object ours.
pub(crate) async fn unless_ours<T, F>(result: Result<T, AwsError>, adopt: F) -> Result<T, AwsError>
where
    F: std::future::Future<Output = Option<T>>,
{
    match result {
        Err(e) if may_have_created(&e) => adopt.await.ok_or(e),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreachable() -> AwsError {
        AwsError::Unreachable {
            service: "iam".into(),
            endpoint: "https://iam.amazonaws.com".into(),
            message: "connection closed before message completed".into(),
        }
    }

    #[tokio::test]
    async fn a_create_without_an_answer_is_checked_like_one_refused_as_existing() {
        // The last attempt was dropped after an earlier one made the role: ours.
        let adopted = unless_ours(Err::<u8, _>(unreachable()), async { Some(7) }).await;
        assert_eq!(adopted.ok(), Some(7));
        // Nothing of ours exists: the original error stands.
        let kept = unless_ours(Err::<u8, _>(unreachable()), async { None }).await;
        assert!(
            matches!(kept, Err(AwsError::Unreachable { .. })),
            "{kept:?}"
        );
        // An answer that says no is final; the lookup is not even made.
        let refused = AwsError::Api {
            operation: "CreateRole".into(),
            code: "MalformedPolicyDocument".into(),
            message: "bad".into(),
            request_id: None,
        };
        let kept = unless_ours(Err::<u8, _>(refused), async {
            panic!("no lookup after a definite refusal")
        })
        .await;
        assert!(matches!(kept, Err(AwsError::Api { .. })), "{kept:?}");
    }

    #[test]
    fn only_objects_dated_within_the_call_are_ours() {
        let started = UNIX_EPOCH + Duration::from_secs(1_000);
        assert!(created_during(1_000, started));
        assert!(created_during(1_005, started));
        assert!(
            created_during(998, started),
            "IAM's clock may run a little behind"
        );
        assert!(!created_during(997, started));
        assert!(!created_during(-1, started));
    }
}
