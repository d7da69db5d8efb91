//! `multicloud_cloud_apps_aws_user`: the IAM user, policy and access key Microsoft Defender for
//! Cloud Apps' AWS "Security auditing" connection reads the account with, verified as the
//! portal's Test API would.

mod keys;
mod schema;
mod verify;

use async_trait::async_trait;

use crate::aws::iam::{IamClient, User, policy_documents_equal};
use crate::onboarding::cloud_apps::{SECURITY_AUDIT_POLICY_ARN, policy_document};
use crate::protocol::{Diagnostics, PlanContext, Resource, Schema, Value};

use super::clients::ProviderClients;
use super::errors;
use keys::KeyOutcome;
use schema::{DEFAULT_POLICY_NAME, UserConfig, default_actions, user_config};

/// The `multicloud_cloud_apps_aws_user` resource.
#[derive(Debug, Default, Clone, Copy)]
pub struct CloudAppsAwsUserResource;

const TYPE_NAME: &str = "multicloud_cloud_apps_aws_user";

/// The state for `user` under configuration `cfg`; `carry` supplies what the cloud cannot
/// tell (rotation trigger, secret file, the secret itself).
fn state(
    cfg: &UserConfig,
    carry: &Value,
    user: &User,
    document: Option<String>,
    key_id: Option<&str>,
    secret: Option<&str>,
    security_configuration: bool,
) -> Value {
    let account = user.arn.split(':').nth(4).unwrap_or_default().to_owned();
    // The secret stays out of state whenever a secret file is named.
    let secret = secret.filter(|_| cfg.secret_file.is_none());
    Value::object([
        ("id", Value::from(user.name.as_str())),
        ("user_name", Value::from(user.name.as_str())),
        ("policy_name", Value::from(cfg.policy_name.as_str())),
        ("actions", Value::string_list(cfg.actions.clone())),
        (
            "security_configuration",
            Value::from(security_configuration),
        ),
        ("rotation", carry.get("rotation").clone()),
        ("secret_file", carry.get("secret_file").clone()),
        ("arn", Value::from(user.arn.as_str())),
        ("account_id", Value::from(account)),
        (
            "policy_document",
            document.map(Value::from).unwrap_or_default(),
        ),
        ("access_key_id", key_id.map(Value::from).unwrap_or_default()),
        (
            "secret_access_key",
            secret.map(Value::from).unwrap_or_default(),
        ),
    ])
}

/// The document to record: the expected text when IAM holds the same JSON, so a
/// re-serialised document does not show as drift.
fn recorded_document(actual: Option<String>, expected: &str) -> Option<String> {
    actual.map(|a| {
        if policy_documents_equal(&a, expected) {
            expected.to_owned()
        } else {
            a
        }
    })
}

async fn security_audit_attached(
    iam: &IamClient,
    user: &str,
) -> Result<bool, crate::aws::AwsError> {
    Ok(iam
        .list_attached_user_policies(user)
        .await?
        .iter()
        .any(|p| p.arn == SECURITY_AUDIT_POLICY_ARN))
}

#[async_trait]
impl Resource<ProviderClients> for CloudAppsAwsUserResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let _ = user_config(config, diags);
    }

    async fn modify_plan(
        &self,
        _clients: Option<&ProviderClients>,
        plan: &mut PlanContext,
        _diags: &mut Diagnostics,
    ) {
        if plan.planned.is_null() {
            return;
        }
        let Some(cfg) = user_config(&plan.config, &mut Diagnostics::new()) else {
            return;
        };
        let p = &mut plan.planned;
        p.set_attr("policy_name", cfg.policy_name.as_str());
        p.set_attr("actions", Value::string_list(cfg.actions.clone()));
        p.set_attr("security_configuration", cfg.security_configuration);
        p.set_attr("policy_document", policy_document(&cfg.actions));
        let Some(prior) = &plan.prior else {
            if cfg.secret_file.is_some() {
                p.set_attr("secret_access_key", Value::Null);
            }
            return;
        };
        let new_key = prior.get("access_key_id").is_null()
            || plan.config.get("rotation") != prior.get("rotation")
            || plan.config.get("secret_file") != prior.get("secret_file");
        if new_key {
            p.set_attr("access_key_id", Value::Unknown);
            let secret = if cfg.secret_file.is_some() {
                Value::Null
            } else {
                Value::Unknown
            };
            p.set_attr("secret_access_key", secret);
        }
    }

    async fn create(
        &self,
        clients: &ProviderClients,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let cfg = user_config(planned, diags)?;
        let aws = clients.aws(diags).await?;
        let iam = aws.iam();
        let user = match iam.create_user(&cfg.user_name, &Default::default()).await {
            Ok(u) => u,
            Err(crate::aws::AwsError::AlreadyExists { .. }) => {
                errors::already_exists(diags, &cfg.user_name, TYPE_NAME);
                return None;
            }
            Err(e) => {
                errors::aws(diags, "Cannot create the IAM user", &e);
                return None;
            }
        };
        let document = policy_document(&cfg.actions);
        let partial = |key: Option<&str>, secret: Option<&str>| {
            state(
                &cfg,
                planned,
                &user,
                Some(document.clone()),
                key,
                secret,
                cfg.security_configuration,
            )
        };
        if let Err(e) = iam
            .put_user_policy(&user.name, &cfg.policy_name, &document)
            .await
        {
            errors::aws(diags, "Cannot put the user's policy", &e);
            return Some(partial(None, None));
        }
        if cfg.security_configuration
            && let Err(e) = iam
                .attach_user_policy(&user.name, SECURITY_AUDIT_POLICY_ARN)
                .await
        {
            errors::aws(diags, "Cannot attach the SecurityAudit policy", &e);
            return Some(partial(None, None));
        }
        // On failure the key is kept and recorded: the resource is tainted and the next
        // apply replaces the whole user, so nothing is left outside state.
        match keys::new_verified_key(
            aws,
            &iam,
            &user.name,
            &user.arn,
            cfg.secret_file.as_deref(),
            diags,
        )
        .await
        {
            KeyOutcome::Verified(k) | KeyOutcome::Failed(k) => {
                Some(partial(Some(&k.id), Some(k.secret.expose())))
            }
            KeyOutcome::NotCreated => Some(partial(None, None)),
        }
    }

    async fn read(
        &self,
        clients: &ProviderClients,
        current: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let Some(cfg) = user_config(current, &mut Diagnostics::new()) else {
            diags.error(
                "Unreadable state",
                format!("The state of this {TYPE_NAME} is incomplete; remove it with `terraform state rm` and import the user again."),
            );
            return None;
        };
        let aws = clients.aws(diags).await?;
        let iam = aws.iam();
        let fail = |diags: &mut Diagnostics, e| {
            errors::aws(diags, "Cannot read the Cloud Apps IAM user", &e);
            Some(current.clone())
        };
        let user = match iam.get_user_opt(&cfg.user_name).await {
            Ok(Some(u)) => u,
            Ok(None) => return None,
            Err(e) => return fail(diags, e),
        };
        let actual = match iam.get_user_policy_opt(&user.name, &cfg.policy_name).await {
            Ok(d) => d,
            Err(e) => return fail(diags, e),
        };
        let keys = match iam.list_access_keys(&user.name).await {
            Ok(k) => k,
            Err(e) => return fail(diags, e),
        };
        let security = match security_audit_attached(&iam, &user.name).await {
            Ok(b) => b,
            Err(e) => return fail(diags, e),
        };
        // A key deleted outside Terraform reads as null, which plans a new one. After import
        // (no key id yet) the user's only active key is adopted.
        let key_id = match current.get("access_key_id").as_str() {
            Some(id) => keys.iter().find(|k| k.id == id).map(|k| k.id.clone()),
            None => keys
                .iter()
                .find(|k| k.status == "Active")
                .map(|k| k.id.clone()),
        };
        let secret = current
            .get("secret_access_key")
            .as_str()
            .filter(|_| key_id.as_deref() == current.get("access_key_id").as_str());
        let expected = policy_document(&cfg.actions);
        Some(state(
            &cfg,
            current,
            &user,
            recorded_document(actual, &expected),
            key_id.as_deref(),
            secret,
            security,
        ))
    }

    async fn update(
        &self,
        clients: &ProviderClients,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let cfg = user_config(planned, diags)?;
        let aws = clients.aws(diags).await?;
        let iam = aws.iam();
        let user = match iam.get_user_opt(&cfg.user_name).await {
            Ok(Some(u)) => u,
            Ok(None) => {
                diags.error(
                    "The IAM user is gone",
                    format!(
                        "IAM user {} no longer exists; run `terraform apply` again to create it.",
                        cfg.user_name
                    ),
                );
                return None;
            }
            Err(e) => {
                errors::aws(diags, "Cannot read the Cloud Apps IAM user", &e);
                return Some(prior.clone());
            }
        };
        let document = policy_document(&cfg.actions);
        let mut recorded = prior.get("policy_document").as_str().map(str::to_owned);
        let mut security = prior
            .get("security_configuration")
            .as_bool()
            .unwrap_or(false);
        let old_key = prior.get("access_key_id").as_str().map(str::to_owned);
        let old_secret = prior.get("secret_access_key").as_str().map(str::to_owned);
        // Without a new key the prior rotation trigger and secret file stay recorded, so a
        // rotation that failed is planned again.
        let keep = |recorded: Option<String>, security: bool| {
            state(
                &cfg,
                prior,
                &user,
                recorded,
                old_key.as_deref(),
                old_secret.as_deref(),
                security,
            )
        };
        let policy_changed = recorded.as_deref() != Some(document.as_str());
        if policy_changed {
            if let Err(e) = iam
                .put_user_policy(&user.name, &cfg.policy_name, &document)
                .await
            {
                errors::aws(diags, "Cannot put the user's policy", &e);
                return Some(keep(recorded, security));
            }
            recorded = Some(document.clone());
        }
        if cfg.security_configuration != security {
            let r = if cfg.security_configuration {
                iam.attach_user_policy(&user.name, SECURITY_AUDIT_POLICY_ARN)
                    .await
            } else {
                iam.detach_user_policy(&user.name, SECURITY_AUDIT_POLICY_ARN)
                    .await
                    .map(drop)
            };
            if let Err(e) = r {
                errors::aws(diags, "Cannot change the SecurityAudit attachment", &e);
                return Some(keep(recorded, security));
            }
            security = cfg.security_configuration;
        }
        if planned.get("access_key_id").is_unknown() {
            let Some(new) = keys::rotate(
                aws,
                &iam,
                &user.name,
                &user.arn,
                old_key.as_deref(),
                cfg.secret_file.as_deref(),
                diags,
            )
            .await
            else {
                // The old key (if any) is still the one in use: the state says so.
                return Some(keep(recorded, security));
            };
            return Some(state(
                &cfg,
                planned,
                &user,
                recorded,
                Some(&new.id),
                Some(new.secret.expose()),
                security,
            ));
        }
        if policy_changed
            || prior.get("security_configuration") != planned.get("security_configuration")
        {
            keys::recheck_policies(&iam, &user.name, diags).await;
        }
        Some(keep(recorded, security))
    }

    async fn delete(&self, clients: &ProviderClients, state: &Value, diags: &mut Diagnostics) {
        let Some(name) = state.get("user_name").as_str() else {
            return;
        };
        let Some(aws) = clients.aws(diags).await else {
            return;
        };
        if let Err(e) = aws.iam().delete_user(name).await {
            errors::aws(diags, "Cannot delete the Cloud Apps IAM user", &e);
        }
    }

    async fn import(
        &self,
        _clients: &ProviderClients,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let (user, policy) = id.split_once(':').unwrap_or((id, DEFAULT_POLICY_NAME));
        if user.is_empty() || policy.is_empty() {
            diags.error(
                "Invalid import id",
                format!("{id:?} is not `<user name>` or `<user name>:<policy name>`."),
            );
            return None;
        }
        Some(Value::object([
            ("id", Value::from(user)),
            ("user_name", Value::from(user)),
            ("policy_name", Value::from(policy)),
            ("actions", Value::string_list(default_actions())),
        ]))
    }
}
