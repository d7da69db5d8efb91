//! IAM roles with their inline and attached managed policies.

use super::wait::{is_delete_conflict, is_invalid_principal};
use super::{
    IamClient, decode_policy_document, false_if_not_found, from_tags, none_if_not_found, to_tags,
};
use crate::aws::error::AwsError;
use std::collections::BTreeMap;

/// A role as IAM reports it; policy documents are decoded JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Role name.
    pub name: String,
    /// Role ARN.
    pub arn: String,
    /// Stable unique id (`AROA...`).
    pub role_id: String,
    /// Path, `/` by default.
    pub path: String,
    /// Description.
    pub description: Option<String>,
    /// Trust (assume-role) policy JSON.
    pub trust_policy: String,
    /// Maximum session duration in seconds.
    pub max_session_duration: Option<i32>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// Input of [`IamClient::create_role`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRole {
    /// Role name (at most 64 characters).
    pub name: String,
    /// Path (default `/`).
    pub path: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Trust (assume-role) policy JSON.
    pub trust_policy: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Maximum session duration in seconds (3600 to 43200).
    pub max_session_duration: Option<i32>,
}

/// A managed policy attached to a role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AttachedPolicy {
    /// Policy name.
    pub name: String,
    /// Policy ARN.
    pub arn: String,
}

pub(super) fn role_from_sdk(r: &aws_sdk_iam::types::Role) -> Result<Role, AwsError> {
    Ok(Role {
        name: r.role_name().to_owned(),
        arn: r.arn().to_owned(),
        role_id: r.role_id().to_owned(),
        path: r.path().to_owned(),
        description: r.description().map(str::to_owned),
        trust_policy: decode_policy_document(r.assume_role_policy_document().unwrap_or_default())?,
        max_session_duration: r.max_session_duration(),
        tags: from_tags(r.tags()),
    })
}

impl IamClient {
    /// Creates a role. Retries "Invalid principal in policy" (a just-created OIDC provider not
    /// yet visible to IAM) within the propagation budget; other errors return at once, except
    /// `AlreadyExists` for a role our own call made before its answer was lost (see
    /// [`super::lost_answer`]).
    pub async fn create_role(&self, role: &NewRole) -> Result<Role, AwsError> {
        let started = std::time::SystemTime::now();
        let created = self.create_role_once(role).await;
        super::lost_answer::unless_ours(
            created,
            self.role_from_lost_create(&role.name, &role.trust_policy, started),
        )
        .await
    }

    async fn create_role_once(&self, role: &NewRole) -> Result<Role, AwsError> {
        const OP: &str = "CreateRole";
        let tags = to_tags(&role.tags)?;
        let out = self
            .wait
            .retry_while(
                OP,
                || {
                    self.client
                        .create_role()
                        .role_name(&role.name)
                        .set_path(role.path.clone())
                        .set_description(role.description.clone())
                        .assume_role_policy_document(&role.trust_policy)
                        .set_tags(Some(tags.clone()))
                        .set_max_session_duration(role.max_session_duration)
                        .send()
                },
                is_invalid_principal,
                self.err(OP),
            )
            .await?;
        let r = out.role.as_ref().ok_or_else(|| AwsError::MissingField {
            operation: OP.into(),
            field: "Role".into(),
        })?;
        role_from_sdk(r)
    }

    /// Creates a role with its inline and managed policies. When a policy step fails the
    /// role is deleted again before the error is returned, so nothing is left outside state.
    pub async fn create_role_with_policies(
        &self,
        role: &NewRole,
        inline: &BTreeMap<String, String>,
        managed: &[String],
    ) -> Result<Role, AwsError> {
        let created = self.create_role(role).await?;
        let attach = async {
            for (name, doc) in inline {
                self.put_role_policy(&created.name, name, doc).await?;
            }
            for arn in managed {
                self.attach_role_policy(&created.name, arn).await?;
            }
            Ok::<_, AwsError>(())
        };
        if let Err(e) = attach.await {
            if let Err(cleanup) = self.delete_role(&created.name).await {
                tracing::warn!(role = %created.name, error = %cleanup, "could not delete the half-created role");
            }
            return Err(e);
        }
        Ok(created)
    }

    /// The role, or `None` when it does not exist (a refresh after out-of-band deletion).
    pub async fn get_role_opt(&self, name: &str) -> Result<Option<Role>, AwsError> {
        let r = self
            .client
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(self.err("GetRole"));
        match none_if_not_found(r)? {
            Some(out) => out.role.as_ref().map(role_from_sdk).transpose(),
            None => Ok(None),
        }
    }

    /// Reads a role this run just created: `NoSuchEntity` means "not visible yet" and is
    /// waited out within the propagation budget.
    pub async fn wait_role_visible(&self, name: &str) -> Result<Role, AwsError> {
        self.wait
            .retry_while(
                "GetRole (wait until visible)",
                || async {
                    self.get_role_opt(name)
                        .await?
                        .ok_or_else(|| AwsError::NotFound {
                            operation: "GetRole".into(),
                            code: "NoSuchEntity".into(),
                            message: format!("role {name} is not visible yet"),
                            request_id: None,
                        })
                },
                AwsError::is_not_found,
                |e| e,
            )
            .await
    }

    /// Replaces the trust policy; retries "Invalid principal in policy" like create.
    pub async fn update_trust_policy(
        &self,
        name: &str,
        trust_policy: &str,
    ) -> Result<(), AwsError> {
        const OP: &str = "UpdateAssumeRolePolicy";
        self.idempotent(OP, || {
            self.wait.retry_while(
                OP,
                || {
                    self.client
                        .update_assume_role_policy()
                        .role_name(name)
                        .policy_document(trust_policy)
                        .send()
                },
                is_invalid_principal,
                self.err(OP),
            )
        })
        .await
        .map(drop)
    }

    /// Deletes a role after detaching its managed policies and deleting its inline ones (IAM
    /// refuses otherwise). `DeleteConflict` right after detaching is retried within the budget.
    /// `Ok(false)` when the role was already gone.
    pub async fn delete_role(&self, name: &str) -> Result<bool, AwsError> {
        const OP: &str = "DeleteRole";
        let attached = match none_if_not_found(self.list_attached_role_policies(name).await)? {
            Some(a) => a,
            None => return Ok(false),
        };
        for p in attached {
            self.detach_role_policy(name, &p.arn).await?;
        }
        for p in self.list_role_policies(name).await? {
            self.delete_role_policy(name, &p).await?;
        }
        false_if_not_found(
            self.idempotent(OP, || {
                self.wait.retry_while(
                    OP,
                    || self.client.delete_role().role_name(name).send(),
                    is_delete_conflict,
                    self.err(OP),
                )
            })
            .await
            .map(drop),
        )
    }

    /// Creates or replaces an inline policy.
    pub async fn put_role_policy(
        &self,
        role: &str,
        policy: &str,
        document: &str,
    ) -> Result<(), AwsError> {
        self.idempotent("PutRolePolicy", || async {
            self.client
                .put_role_policy()
                .role_name(role)
                .policy_name(policy)
                .policy_document(document)
                .send()
                .await
                .map(drop)
                .map_err(self.err("PutRolePolicy"))
        })
        .await
    }

    /// An inline policy's decoded document, or `None` when role or policy does not exist.
    pub async fn get_role_policy_opt(
        &self,
        role: &str,
        policy: &str,
    ) -> Result<Option<String>, AwsError> {
        let r = self
            .client
            .get_role_policy()
            .role_name(role)
            .policy_name(policy)
            .send()
            .await
            .map_err(self.err("GetRolePolicy"));
        none_if_not_found(r)?
            .map(|out| decode_policy_document(out.policy_document()))
            .transpose()
    }

    /// Deletes an inline policy; `Ok(false)` when it was already gone.
    pub async fn delete_role_policy(&self, role: &str, policy: &str) -> Result<bool, AwsError> {
        false_if_not_found(
            self.idempotent("DeleteRolePolicy", || async {
                self.client
                    .delete_role_policy()
                    .role_name(role)
                    .policy_name(policy)
                    .send()
                    .await
                    .map(drop)
                    .map_err(self.err("DeleteRolePolicy"))
            })
            .await,
        )
    }

    /// Names of the role's inline policies, sorted.
    pub async fn list_role_policies(&self, role: &str) -> Result<Vec<String>, AwsError> {
        // The SDK's paginator follows IsTruncated/Marker.
        let mut names = self
            .client
            .list_role_policies()
            .role_name(role)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(self.err("ListRolePolicies"))?;
        names.sort();
        Ok(names)
    }

    /// Attaches a managed policy (attaching twice is a no-op in IAM, so a lost answer is simply
    /// sent again).
    pub async fn attach_role_policy(&self, role: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.idempotent("AttachRolePolicy", || async {
            self.client
                .attach_role_policy()
                .role_name(role)
                .policy_arn(policy_arn)
                .send()
                .await
                .map(drop)
                .map_err(self.err("AttachRolePolicy"))
        })
        .await
    }

    /// Detaches a managed policy; `Ok(false)` when it was not attached.
    pub async fn detach_role_policy(&self, role: &str, policy_arn: &str) -> Result<bool, AwsError> {
        false_if_not_found(
            self.idempotent("DetachRolePolicy", || async {
                self.client
                    .detach_role_policy()
                    .role_name(role)
                    .policy_arn(policy_arn)
                    .send()
                    .await
                    .map(drop)
                    .map_err(self.err("DetachRolePolicy"))
            })
            .await,
        )
    }

    /// Managed policies attached to the role, sorted by ARN.
    pub async fn list_attached_role_policies(
        &self,
        role: &str,
    ) -> Result<Vec<AttachedPolicy>, AwsError> {
        let mut out_list: Vec<AttachedPolicy> = self
            .client
            .list_attached_role_policies()
            .role_name(role)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(self.err("ListAttachedRolePolicies"))?
            .iter()
            .map(|p| AttachedPolicy {
                name: p.policy_name().unwrap_or_default().to_owned(),
                arn: p.policy_arn().unwrap_or_default().to_owned(),
            })
            .collect();
        out_list.sort_by(|a, b| a.arn.cmp(&b.arn));
        Ok(out_list)
    }
}

impl IamClient {
    /// Every role of the account under `path_prefix` (`/` for all), trust policies decoded.
    pub async fn list_roles(&self, path_prefix: &str) -> Result<Vec<Role>, AwsError> {
        let roles = self
            .client
            .list_roles()
            .path_prefix(path_prefix)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(self.err("ListRoles"))?;
        roles.iter().map(role_from_sdk).collect()
    }

    /// Adds or replaces tags on a role.
    pub async fn tag_role(
        &self,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        if tags.is_empty() {
            return Ok(());
        }
        self.idempotent("TagRole", || async {
            self.client
                .tag_role()
                .role_name(name)
                .set_tags(Some(to_tags(tags)?))
                .send()
                .await
                .map(drop)
                .map_err(self.err("TagRole"))
        })
        .await
    }

    /// Removes tags from a role by key.
    pub async fn untag_role(&self, name: &str, keys: &[String]) -> Result<(), AwsError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.idempotent("UntagRole", || async {
            self.client
                .untag_role()
                .role_name(name)
                .set_tag_keys(Some(keys.to_vec()))
                .send()
                .await
                .map(drop)
                .map_err(self.err("UntagRole"))
        })
        .await
    }
}
