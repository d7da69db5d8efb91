//! The `multicloud_cloud_apps_aws_user` schema and its configuration, typed.

use crate::onboarding::cloud_apps::AUDIT_ACTIONS;
use crate::protocol::{AttrPath, Attribute, Block, Diagnostics, Schema, Type, Value};

/// Inline policy name used when `policy_name` is not set.
pub(crate) const DEFAULT_POLICY_NAME: &str = "DefenderForCloudAppsSecurityAuditing";

const DESCRIPTION: &str = "The AWS side of Microsoft Defender for Cloud Apps' Amazon Web Services \
connection (*Security auditing*): an IAM user with programmatic access only, an inline policy \
granting exactly the permissions Microsoft's instructions list (CloudTrail, CloudWatch, IAM and \
S3 reads, plus `s3:PutBucketAcl`), optionally the AWS managed `SecurityAudit` policy for \
*Security configuration*, and one access key.\n\n\
After every new key the provider runs the portal's **Test API** itself: it calls STS \
`GetCallerIdentity` and IAM `GetUser` with the new key (waiting out IAM's propagation of new \
keys) and evaluates the user's policies against one call per granted action; an action they do \
not allow fails the apply with a diagnostic naming it.\n\n\
**The secret.** By default the secret access key is kept in state (marked sensitive) so it can \
be passed to an output or a secret store. Teams that forbid secrets in state set `secret_file`: \
the key pair is then written only to that file (mode 0600, the portal's CSV layout) and \
`secret_access_key` stays null. The trade-off: the file exists only on the machine that ran the \
apply, and a lost file means a rotation (change `rotation`), since AWS never shows a secret twice.\n\n\
**Rotation.** Changing `rotation` (any value, e.g. a date) creates a new key, verifies it, and \
only then deletes the old one, so one working key exists at all times; if the new key fails \
verification it is deleted and the old one kept. Paste the new pair into the portal's connector \
(*Edit settings*) after a rotation.\n\n\
**The manual step.** In the Microsoft Defender portal: *Settings > Cloud Apps > App \
Connectors > Connect an app > Amazon Web Services*, choose *Security auditing*, paste \
`access_key_id` and the secret, and select *Test API*.\n\n\
Import takes the user name, or `<user name>:<policy name>` for a policy not named \
`DefenderForCloudAppsSecurityAuditing`; the secret of an imported key is unknown (null).";

/// The resource schema.
pub(crate) fn schema() -> Schema {
    let kept = |a: Attribute| a.computed().use_state_for_unknown();
    Schema::new(
        Block::new()
            .description(DESCRIPTION)
            .attribute(kept(Attribute::string("id")).description("The IAM user name."))
            .attribute(
                Attribute::string("user_name")
                    .required()
                    .force_new()
                    .description("Name of the IAM user to create. Changing it replaces the user."),
            )
            .attribute(
                Attribute::string("policy_name")
                    .optional()
                    .computed()
                    .force_new()
                    .description(
                        "Name of the user's inline policy. Defaults to \
                         `DefenderForCloudAppsSecurityAuditing`.",
                    ),
            )
            .attribute(
                Attribute::list("actions", Type::String)
                    .optional()
                    .computed()
                    .description(
                        "The actions the inline policy allows on `*`. Defaults to the list in \
                         Microsoft's instructions (`cloudtrail:DescribeTrails`, \
                         `cloudtrail:LookupEvents`, `cloudtrail:GetTrailStatus`, \
                         `cloudwatch:Describe*`, `cloudwatch:Get*`, `cloudwatch:List*`, \
                         `iam:List*`, `iam:Get*`, `s3:ListAllMyBuckets`, `s3:PutBucketAcl`, \
                         `s3:GetBucketAcl`, `s3:GetBucketLocation`). A list that drops one of \
                         them fails the Test API, naming the missing permission.",
                    ),
            )
            .attribute(
                Attribute::bool("security_configuration")
                    .optional()
                    .computed()
                    .description(
                        "Also attach the AWS managed `SecurityAudit` policy, for the connection's \
                         *Security configuration* part. Default `false`.",
                    ),
            )
            .attribute(Attribute::string("rotation").optional().description(
                "Any value; changing it rotates the access key (new key created and verified \
                 before the old one is deleted).",
            ))
            .attribute(Attribute::string("secret_file").optional().description(
                "Path of a file to write the new key pair to (CSV as the AWS console's download, \
                 mode 0600). When set, the secret is not kept in state. Changing it rotates the \
                 key, since the old secret is not known any more.",
            ))
            .attribute(kept(Attribute::string("arn")).description("The IAM user's ARN."))
            .attribute(
                kept(Attribute::string("account_id"))
                    .description("The AWS account the user is in."),
            )
            .attribute(Attribute::string("policy_document").computed().description(
                "The inline policy document as IAM holds it; a document changed outside \
                 Terraform shows as a change and is put back on apply.",
            ))
            .attribute(
                kept(Attribute::string("access_key_id"))
                    .description("The access key id to paste into the portal."),
            )
            .attribute(
                kept(Attribute::string("secret_access_key"))
                    .sensitive()
                    .description(
                        "The secret access key to paste into the portal; null when `secret_file` \
                         is set or after import.",
                    ),
            ),
    )
}

/// The configuration, typed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UserConfig {
    pub user_name: String,
    pub policy_name: String,
    pub actions: Vec<String>,
    pub security_configuration: bool,
    pub secret_file: Option<String>,
}

/// The default action list as a Terraform value.
pub(crate) fn default_actions() -> Vec<String> {
    AUDIT_ACTIONS.iter().map(|s| (*s).to_owned()).collect()
}

/// Reads and checks a configuration or planned value; `None` when something is invalid
/// (reported) or unknown (not reported).
pub(crate) fn user_config(value: &Value, diags: &mut Diagnostics) -> Option<UserConfig> {
    let user_name = value.get("user_name").as_str()?.to_owned();
    if !valid_name(&user_name, 64) {
        diags.attribute_error(
            AttrPath::root("user_name"),
            "Invalid IAM user name",
            format!(
                "{user_name:?} is not a valid IAM user name: use 1 to 64 letters, digits or \
                 `+=,.@_-`."
            ),
        );
        return None;
    }
    let policy_name = match value.get("policy_name") {
        Value::Null => DEFAULT_POLICY_NAME.to_owned(),
        v => v.as_str()?.to_owned(),
    };
    if !valid_name(&policy_name, 128) {
        diags.attribute_error(
            AttrPath::root("policy_name"),
            "Invalid policy name",
            format!("{policy_name:?} is not a valid IAM policy name: use 1 to 128 letters, digits or `+=,.@_-`."),
        );
        return None;
    }
    let actions = match value.get("actions") {
        Value::Null => default_actions(),
        v if !v.is_fully_known() => return None,
        v => v.as_string_vec(),
    };
    if actions.is_empty() {
        diags.attribute_error(
            AttrPath::root("actions"),
            "No actions",
            "The policy needs at least one action; leave `actions` unset for Microsoft's list.",
        );
        return None;
    }
    if let Some(bad) = actions
        .iter()
        .find(|a| a.as_str() != "*" && !is_iam_action(a))
    {
        diags.attribute_error(
            AttrPath::root("actions"),
            "Invalid action",
            format!("{bad:?} is not an IAM action: write `service:Action`, e.g. `cloudtrail:LookupEvents`."),
        );
        return None;
    }
    let security_configuration = match value.get("security_configuration") {
        Value::Null => false,
        v => v.as_bool()?,
    };
    let secret_file = match value.get("secret_file") {
        Value::Null => None,
        v => Some(v.as_str()?.to_owned()),
    };
    if let Some(path) = &secret_file
        && let Err(detail) = crate::resources::value_checks::writable_file_path(path)
    {
        diags.attribute_error(AttrPath::root("secret_file"), "Invalid secret_file", detail);
        return None;
    }
    Some(UserConfig {
        user_name,
        policy_name,
        actions,
        security_configuration,
        secret_file,
    })
}

/// `service:Action`: a service prefix of lowercase letters, digits and hyphens, and an action
/// of letters and digits, where `*` and `?` are wildcards.
fn is_iam_action(action: &str) -> bool {
    let Some((service, name)) = action.split_once(':') else {
        return false;
    };
    !service.is_empty()
        && service
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
}

fn valid_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}
