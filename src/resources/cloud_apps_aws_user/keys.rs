//! The access key's life: creation with the Test API, rotation that never leaves the user
//! without a working key, and the optional secret file that keeps the secret out of state.

use std::io::Write;

use crate::aws::iam::{IamClient, NewAccessKey};
use crate::aws::{AwsClients, AwsError};
use crate::protocol::{AttrPath, Diagnostics};
use crate::resources::errors;

use super::verify::test_api;

/// Writes the key pair as the AWS console's CSV download, readable by the owner only, so the
/// secret reaches the person pasting it into the portal without passing through state.
pub(crate) fn write_secret_file(path: &str, key: &NewAccessKey) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    write!(
        file,
        "Access key ID,Secret access key\n{},{}\n",
        key.id,
        key.secret.expose()
    )?;
    file.sync_all()
}

/// What creating a key ended with.
pub(crate) enum KeyOutcome {
    /// Created, written where asked and verified.
    Verified(NewAccessKey),
    /// Created but not usable; the key is still there (create keeps it for the tainted state).
    Failed(NewAccessKey),
    /// Nothing was created.
    NotCreated,
}

/// Creates a key for `user`, writes it to `secret_file` when set, and runs the Test API.
pub(crate) async fn new_verified_key(
    aws: &AwsClients,
    iam: &IamClient,
    user: &str,
    user_arn: &str,
    secret_file: Option<&str>,
    diags: &mut Diagnostics,
) -> KeyOutcome {
    let key = match iam.create_access_key(user).await {
        Ok(k) => k,
        Err(e) => {
            report_create(diags, user, &e);
            return KeyOutcome::NotCreated;
        }
    };
    if let Some(path) = secret_file
        && let Err(e) = write_secret_file(path, &key)
    {
        diags.attribute_error(
            AttrPath::root("secret_file"),
            "Cannot write the secret file",
            format!("Writing the new key pair to {path:?} failed: {e}. Use a path in an existing, writable directory."),
        );
        return KeyOutcome::Failed(key);
    }
    match test_api(aws, iam, user, user_arn, &key.id, &key.secret).await {
        Ok(()) => KeyOutcome::Verified(key),
        Err(failure) => {
            failure.report(user, diags);
            KeyOutcome::Failed(key)
        }
    }
}

fn report_create(diags: &mut Diagnostics, user: &str, e: &AwsError) {
    if matches!(e, AwsError::LimitExceeded { .. }) {
        diags.error(
            "Cannot create an access key",
            format!(
                "{e}\n\nIAM allows two access keys per user and {user} already has two. Delete \
                 the key not in use (the portal shows which one it holds) and apply again."
            ),
        );
    } else {
        errors::aws(diags, "Cannot create an access key", e);
    }
}

/// Rotation: the new key is created and verified first; only then is `old` deleted. When the
/// new key fails, it is deleted and `old` stays, so the connector keeps a working key.
/// Returns the new key, or `None` when the old one is still the current key.
pub(crate) async fn rotate(
    aws: &AwsClients,
    iam: &IamClient,
    user: &str,
    user_arn: &str,
    old: Option<&str>,
    secret_file: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<NewAccessKey> {
    match new_verified_key(aws, iam, user, user_arn, secret_file, diags).await {
        KeyOutcome::Verified(key) => {
            if let Some(old) = old
                && let Err(e) = iam.delete_access_key(user, old).await
            {
                errors::aws(
                    diags,
                    "The new access key works, but the old one could not be deleted",
                    &e,
                );
            }
            Some(key)
        }
        KeyOutcome::Failed(key) => {
            if let Err(e) = iam.delete_access_key(user, &key.id).await {
                errors::aws(diags, "Cannot delete the new access key that failed", &e);
            }
            None
        }
        KeyOutcome::NotCreated => None,
    }
}

/// Runs only the policy half of the Test API (after a policy change with the key unchanged).
pub(crate) async fn recheck_policies(iam: &IamClient, user: &str, diags: &mut Diagnostics) {
    if let Err(failure) = super::verify::check_policies(iam, user).await {
        failure.report(user, diags);
    }
}
