//! The portal's "Test API", run by the provider after every new key: the key authenticates as
//! the user (STS), it can call IAM, and the user's policies allow each call the connector makes.

use crate::aws::iam::{IamClient, PropagationWait};
use crate::aws::key_check::KeyClients;
use crate::aws::{AwsClients, AwsError};
use crate::onboarding::cloud_apps::{Decision, missing_permissions};
use crate::protocol::{AttrPath, Diagnostics};
use crate::secret::Secret;

/// Why the Test API failed.
#[derive(Debug)]
pub(crate) enum TestApiFailure {
    /// An AWS call failed (with the key, or reading the user's policies).
    Call { step: String, error: AwsError },
    /// The key authenticates as someone else.
    WrongPrincipal { expected: String, got: String },
    /// The user's policies do not allow these actions.
    Missing(Vec<(&'static str, Decision)>),
}

impl TestApiFailure {
    /// Reports the failure on `actions` (the attribute that grants permissions).
    pub(crate) fn report(&self, user: &str, diags: &mut Diagnostics) {
        match self {
            Self::Call { step, error } => diags.error(
                format!("Test API failed: {step}"),
                format!("{error}\n\nThe access key of IAM user {user} was checked as the Defender for Cloud Apps portal's Test API does."),
            ),
            Self::WrongPrincipal { expected, got } => diags.error(
                "Test API failed: the key belongs to another principal",
                format!("GetCallerIdentity with the new key answered {got}, not {expected}."),
            ),
            Self::Missing(list) => {
                let lines: Vec<String> = list
                    .iter()
                    .map(|(action, d)| match d {
                        Decision::Denied => format!("  - {action}: denied by an explicit Deny statement"),
                        _ => format!("  - {action}: not allowed by any policy of the user"),
                    })
                    .collect();
                let first = list.first().map(|(a, _)| *a).unwrap_or_default();
                diags.attribute_error(
                    AttrPath::root("actions"),
                    format!("Test API failed: missing permission {first}"),
                    format!(
                        "Defender for Cloud Apps calls these actions with the key of IAM user \
                         {user}, and the user's policies do not allow them:\n{}\n\nAdd them to \
                         `actions` (or leave `actions` unset for Microsoft's list) and remove any \
                         Deny that matches.",
                        lines.join("\n")
                    ),
                );
            }
        }
    }
}

/// Runs the Test API for `key_id`. `admin` (the provider's IAM client) reads the policies.
pub(crate) async fn test_api(
    aws: &AwsClients,
    admin: &IamClient,
    user: &str,
    user_arn: &str,
    key_id: &str,
    secret: &Secret,
) -> Result<(), TestApiFailure> {
    let key = KeyClients::new(aws, key_id, secret);
    let wait = PropagationWait::default();
    let call = |step: &str| {
        let step = step.to_owned();
        move |error| TestApiFailure::Call { step, error }
    };
    let me = key
        .caller_identity(&wait)
        .await
        .map_err(call("sts:GetCallerIdentity with the new key"))?;
    if me.arn != user_arn {
        return Err(TestApiFailure::WrongPrincipal {
            expected: user_arn.to_owned(),
            got: me.arn,
        });
    }
    key.iam()
        .get_user_opt(user)
        .await
        .map_err(call("iam:GetUser with the new key"))?;
    check_policies(admin, user).await
}

/// Evaluates the user's inline and attached policies against the connector's calls.
pub(crate) async fn check_policies(admin: &IamClient, user: &str) -> Result<(), TestApiFailure> {
    let read = |error| TestApiFailure::Call {
        step: "reading the user's policies".into(),
        error,
    };
    let mut documents = Vec::new();
    for name in admin.list_user_policies(user).await.map_err(read)? {
        if let Some(doc) = admin.get_user_policy_opt(user, &name).await.map_err(read)? {
            documents.push(doc);
        }
    }
    for attached in admin
        .list_attached_user_policies(user)
        .await
        .map_err(read)?
    {
        documents.push(
            admin
                .managed_policy_document(&attached.arn)
                .await
                .map_err(read)?,
        );
    }
    let missing = missing_permissions(&documents);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(TestApiFailure::Missing(missing))
    }
}
