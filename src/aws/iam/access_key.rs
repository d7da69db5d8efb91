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
    /// makes another) is deleted: nobody has its secret (see [`super::lost_answer`]).
    pub async fn create_access_key(&self, user: &str) -> Result<NewAccessKey, AwsError> {
        let before: Vec<String> = self
            .list_access_keys(user)
            .await?
            .into_iter()
            .map(|k| k.id)
            .collect();
        let started = std::time::Instant::now();
        let key = match self.create_access_key_once(user).await {
            Ok(k) => k,
            Err(e) => {
                // An attempt whose answer was lost may have made a key nobody can use.
                if super::lost_answer::may_have_created(&e) {
                    self.delete_keys_of_lost_creates(user, &before, None).await;
                }
                return Err(e);
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
            self.client
                .delete_access_key()
                .user_name(user)
                .access_key_id(key_id)
                .send()
                .await
                .map(drop)
                .map_err(self.err("DeleteAccessKey")),
        )
    }
}
