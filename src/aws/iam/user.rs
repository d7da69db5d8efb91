//! IAM users with their inline and attached managed policies (programmatic-access users such as
//! the one Defender for Cloud Apps reads CloudTrail through).

use super::wait::is_delete_conflict;
use super::{
    AttachedPolicy, IamClient, decode_policy_document, false_if_not_found, from_tags,
    none_if_not_found, to_tags,
};
use crate::aws::error::AwsError;
use std::collections::BTreeMap;

/// A user as IAM reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// User name.
    pub name: String,
    /// User ARN.
    pub arn: String,
    /// Stable unique id (`AIDA...`).
    pub user_id: String,
    /// Path, `/` by default.
    pub path: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

fn user_from_sdk(u: &aws_sdk_iam::types::User) -> User {
    User {
        name: u.user_name().to_owned(),
        arn: u.arn().to_owned(),
        user_id: u.user_id().to_owned(),
        path: u.path().to_owned(),
        tags: from_tags(u.tags()),
    }
}

impl IamClient {
    /// Creates a user (no console password: programmatic access only). `AlreadyExists` unless
    /// our own call made the user before its answer was lost (see [`super::lost_answer`]).
    pub async fn create_user(
        &self,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<User, AwsError> {
        let started = std::time::SystemTime::now();
        let created = self.create_user_once(name, tags).await;
        let adopt = async {
            if self.user_from_lost_create(name, started).await {
                self.get_user_opt(name).await.ok().flatten()
            } else {
                None
            }
        };
        super::lost_answer::unless_ours(created, adopt).await
    }

    async fn create_user_once(
        &self,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<User, AwsError> {
        const OP: &str = "CreateUser";
        let out = self
            .client
            .create_user()
            .user_name(name)
            .set_tags(Some(to_tags(tags)?))
            .send()
            .await
            .map_err(self.err(OP))?;
        out.user
            .as_ref()
            .map(user_from_sdk)
            .ok_or_else(|| AwsError::MissingField {
                operation: OP.into(),
                field: "User".into(),
            })
    }

    /// The user, or `None` when it does not exist.
    pub async fn get_user_opt(&self, name: &str) -> Result<Option<User>, AwsError> {
        let r = self
            .client
            .get_user()
            .user_name(name)
            .send()
            .await
            .map_err(self.err("GetUser"));
        Ok(none_if_not_found(r)?.and_then(|out| out.user.as_ref().map(user_from_sdk)))
    }

    /// Deletes a user after removing what IAM requires gone first (access keys, inline
    /// policies, attached managed policies). `Ok(false)` when the user was already gone.
    pub async fn delete_user(&self, name: &str) -> Result<bool, AwsError> {
        const OP: &str = "DeleteUser";
        let keys = match none_if_not_found(self.list_access_keys(name).await)? {
            Some(k) => k,
            None => return Ok(false),
        };
        for k in keys {
            self.delete_access_key(name, &k.id).await?;
        }
        for p in self.list_user_policies(name).await? {
            self.delete_user_policy(name, &p).await?;
        }
        for p in self.list_attached_user_policies(name).await? {
            self.detach_user_policy(name, &p.arn).await?;
        }
        false_if_not_found(
            self.idempotent(OP, || {
                self.wait.retry_while(
                    OP,
                    || self.client.delete_user().user_name(name).send(),
                    is_delete_conflict,
                    self.err(OP),
                )
            })
            .await
            .map(drop),
        )
    }

    /// Creates or replaces an inline user policy.
    pub async fn put_user_policy(
        &self,
        user: &str,
        policy: &str,
        document: &str,
    ) -> Result<(), AwsError> {
        self.idempotent("PutUserPolicy", || async {
            self.client
                .put_user_policy()
                .user_name(user)
                .policy_name(policy)
                .policy_document(document)
                .send()
                .await
                .map(drop)
                .map_err(self.err("PutUserPolicy"))
        })
        .await
    }

    /// An inline user policy's decoded document, or `None` when user or policy is missing.
    pub async fn get_user_policy_opt(
        &self,
        user: &str,
        policy: &str,
    ) -> Result<Option<String>, AwsError> {
        let r = self
            .client
            .get_user_policy()
            .user_name(user)
            .policy_name(policy)
            .send()
            .await
            .map_err(self.err("GetUserPolicy"));
        none_if_not_found(r)?
            .map(|out| decode_policy_document(out.policy_document()))
            .transpose()
    }

    /// Deletes an inline user policy; `Ok(false)` when it was already gone.
    pub async fn delete_user_policy(&self, user: &str, policy: &str) -> Result<bool, AwsError> {
        false_if_not_found(
            self.idempotent("DeleteUserPolicy", || async {
                self.client
                    .delete_user_policy()
                    .user_name(user)
                    .policy_name(policy)
                    .send()
                    .await
                    .map(drop)
                    .map_err(self.err("DeleteUserPolicy"))
            })
            .await,
        )
    }

    /// Names of the user's inline policies, sorted.
    pub async fn list_user_policies(&self, user: &str) -> Result<Vec<String>, AwsError> {
        let mut names = self
            .client
            .list_user_policies()
            .user_name(user)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(self.err("ListUserPolicies"))?;
        names.sort();
        Ok(names)
    }

    /// Attaches a managed policy to a user (attaching twice is a no-op in IAM).
    pub async fn attach_user_policy(&self, user: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.idempotent("AttachUserPolicy", || async {
            self.client
                .attach_user_policy()
                .user_name(user)
                .policy_arn(policy_arn)
                .send()
                .await
                .map(drop)
                .map_err(self.err("AttachUserPolicy"))
        })
        .await
    }

    /// Detaches a managed policy from a user; `Ok(false)` when it was not attached.
    pub async fn detach_user_policy(&self, user: &str, policy_arn: &str) -> Result<bool, AwsError> {
        false_if_not_found(
            self.idempotent("DetachUserPolicy", || async {
                self.client
                    .detach_user_policy()
                    .user_name(user)
                    .policy_arn(policy_arn)
                    .send()
                    .await
                    .map(drop)
                    .map_err(self.err("DetachUserPolicy"))
            })
            .await,
        )
    }

    /// Managed policies attached to the user, sorted by ARN.
    pub async fn list_attached_user_policies(
        &self,
        user: &str,
    ) -> Result<Vec<AttachedPolicy>, AwsError> {
        let mut list: Vec<AttachedPolicy> = self
            .client
            .list_attached_user_policies()
            .user_name(user)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(self.err("ListAttachedUserPolicies"))?
            .iter()
            .map(|p| AttachedPolicy {
                name: p.policy_name().unwrap_or_default().to_owned(),
                arn: p.policy_arn().unwrap_or_default().to_owned(),
            })
            .collect();
        list.sort_by(|a, b| a.arn.cmp(&b.arn));
        Ok(list)
    }

    /// The decoded document of a managed policy's default version.
    pub async fn managed_policy_document(&self, policy_arn: &str) -> Result<String, AwsError> {
        let policy = self
            .client
            .get_policy()
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(self.err("GetPolicy"))?;
        let version = policy
            .policy()
            .and_then(|p| p.default_version_id())
            .ok_or_else(|| AwsError::MissingField {
                operation: "GetPolicy".into(),
                field: "Policy.DefaultVersionId".into(),
            })?;
        let out = self
            .client
            .get_policy_version()
            .policy_arn(policy_arn)
            .version_id(version)
            .send()
            .await
            .map_err(self.err("GetPolicyVersion"))?;
        let doc = out
            .policy_version()
            .and_then(|v| v.document())
            .ok_or_else(|| AwsError::MissingField {
                operation: "GetPolicyVersion".into(),
                field: "PolicyVersion.Document".into(),
            })?;
        decode_policy_document(doc)
    }
}
