//! IAM access keys: the long-lived credentials of a programmatic-access user.

use super::{IamClient, false_if_not_found};
use crate::aws::error::AwsError;
use crate::secret::Secret;

/// An access key as `ListAccessKeys` reports it (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// Access key id (`AKIA...`).
    pub id: String,
    /// `Active` or `Inactive`.
    pub status: String,
}

/// A key just created: the only moment IAM hands out the secret.
#[derive(Debug, Clone)]
pub struct NewAccessKey {
    /// Access key id.
    pub id: String,
    /// Secret access key.
    pub secret: Secret,
}

impl IamClient {
    /// Creates an access key for `user`. IAM allows two keys per user; a third is refused with
    /// `LimitExceeded`. A key made by an attempt whose answer was lost (the SDK then retries and
    /// makes another) is deleted: nobody has its secret (see [`super::lost_answer`]). When no
    /// attempt answered at all, or the SDK's retry met the limit of two keys because a lost
    /// attempt made the second, the keys nobody holds are deleted and the key is created again,
    /// at most [`MAX_RESENDS`](crate::aws::resend::MAX_RESENDS) times.
    pub async fn create_access_key(&self, user: &str) -> Result<NewAccessKey, AwsError> {
        let before: Vec<String> = self
            .list_access_keys(user)
            .await?
            .into_iter()
            .map(|k| k.id)
            .collect();
        let started = std::time::Instant::now();
        let mut resends = 0;
        let key = loop {
            match self.create_access_key_once(user).await {
                Ok(k) => break k,
                // Keys made by attempts whose answer was lost are deleted before anything else:
                // they would count against the limit of two, and nobody holds their secret.
                Err(e)
                    if super::lost_answer::may_have_created(&e)
                        || matches!(e, AwsError::LimitExceeded { .. }) =>
                {
                    let deleted = self.delete_keys_of_lost_creates(user, &before, None).await;
                    let freed = deleted > 0 && matches!(e, AwsError::LimitExceeded { .. });
                    if resends >= crate::aws::resend::MAX_RESENDS
                        || !(crate::aws::resend::answer_lost(&e) || freed)
                    {
                        return Err(e);
                    }
                    resends += 1;
                    tracing::warn!(%user, resend = resends, error = %e, "CreateAccessKey's answer was lost; creating the key again");
                }
                Err(e) => return Err(e),
            }
        };
        // A call this slow may have had an attempt time out that IAM is still processing: give
        // it one more attempt's time to land before looking for the key it made.
        let attempt = crate::http::transport::request_timeout_override()
            .unwrap_or(crate::aws::config::ATTEMPT_TIMEOUT);
        if started.elapsed() >= attempt {
            tokio::time::sleep(attempt).await;
        }
        self.delete_keys_of_lost_creates(user, &before, Some(&key.id))
            .await;
        Ok(key)
    }

    async fn create_access_key_once(&self, user: &str) -> Result<NewAccessKey, AwsError> {
        const OP: &str = "CreateAccessKey";
        let out = self
            .client
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .map_err(self.err(OP))?;
        let key = out.access_key().ok_or_else(|| AwsError::MissingField {
            operation: OP.into(),
            field: "AccessKey".into(),
        })?;
        Ok(NewAccessKey {
            id: key.access_key_id().to_owned(),
            secret: Secret::new(key.secret_access_key()),
        })
    }

    /// The user's access keys, sorted by id.
    pub async fn list_access_keys(&self, user: &str) -> Result<Vec<AccessKey>, AwsError> {
        let mut keys: Vec<AccessKey> = self
            .client
            .list_access_keys()
            .user_name(user)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(self.err("ListAccessKeys"))?
            .iter()
            .map(|k| AccessKey {
                id: k.access_key_id().unwrap_or_default().to_owned(),
                status: k
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            })
            .collect();
        keys.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(keys)
    }

    /// Deletes an access key; `Ok(false)` when it was already gone.
    pub async fn delete_access_key(&self, user: &str, key_id: &str) -> Result<bool, AwsError> {
        false_if_not_found(
            self.idempotent("DeleteAccessKey", || async {
                self.client
                    .delete_access_key()
                    .user_name(user)
                    .access_key_id(key_id)
                    .send()
                    .await
                    .map(drop)
                    .map_err(self.err("DeleteAccessKey"))
            })
            .await,
        )
    }
}
