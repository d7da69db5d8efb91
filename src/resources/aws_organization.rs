//! `multicloud_aws_organization`: the AWS organization the credentials belong to (management
//! account, root, every OU and member account with its parent), read from the management
//! account. Organization onboarding takes its deployment targets and exclusions from it.
//!
//! Every list is paginated and the tree is walked parent by parent, so 1,000 accounts cost
//! about 60 calls (20 items a page) whatever their depth.

use async_trait::async_trait;

use crate::aws::organizations::{Account, OrganizationalUnit, STACKSETS_SERVICE_PRINCIPAL};
use crate::protocol::{AttrPath, Attribute, Block, DataSource, Diagnostics, Schema, Type, Value};

use super::clients::ProviderClients;
use super::errors;
use super::value_checks::Choices;

/// The `multicloud_aws_organization` data source.
#[derive(Debug, Default, Clone, Copy)]
pub struct AwsOrganizationDataSource;

fn computed(name: &str, description: &str) -> Attribute {
    Attribute::string(name).computed().description(description)
}

fn ou_type() -> Type {
    Type::object([
        ("id", Type::String),
        ("arn", Type::String),
        ("name", Type::String),
        ("parent_id", Type::String),
    ])
}

fn account_type() -> Type {
    Type::object([
        ("id", Type::String),
        ("arn", Type::String),
        ("name", Type::String),
        ("email", Type::String),
        ("status", Type::String),
        ("parent_id", Type::String),
    ])
}

/// Account states AWS reports.
const STATUSES: [&str; 5] = [
    "ACTIVE",
    "SUSPENDED",
    "PENDING_CLOSURE",
    "PENDING_ACTIVATION",
    "CLOSED",
];

/// Organizations' id rules: a root is `r-` and 4 to 32 characters, an OU `ou-`, 4 to 32
/// characters (its root's), `-` and 8 to 32 more; lowercase letters and digits.
fn is_parent_id(s: &str) -> bool {
    let part = |p: &str, min: usize| {
        (min..=32).contains(&p.len())
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    if let Some(rest) = s.strip_prefix("r-") {
        return part(rest, 4);
    }
    match s.strip_prefix("ou-").and_then(|rest| rest.split_once('-')) {
        Some((root, own)) => part(root, 4) && part(own, 8),
        None => false,
    }
}

fn ou_value(o: &OrganizationalUnit) -> Value {
    Value::object([
        ("id", o.id.clone().into()),
        ("arn", o.arn.clone().into()),
        ("name", o.name.clone().into()),
        ("parent_id", o.parent_id.clone().into()),
    ])
}

fn account_value(a: &Account) -> Value {
    Value::object([
        ("id", a.id.clone().into()),
        ("arn", a.arn.clone().into()),
        ("name", a.name.clone().into()),
        ("email", a.email.clone().into()),
        ("status", a.status.clone().into()),
        ("parent_id", a.parent_id.clone().into()),
    ])
}

#[async_trait]
impl DataSource<ProviderClients> for AwsOrganizationDataSource {
    fn type_name(&self) -> &'static str {
        "multicloud_aws_organization"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .description(
                    "The AWS organization of the provider's AWS credentials: its management account, \
                     root, every organizational unit and every account with its parent, and whether \
                     trusted access for CloudFormation StackSets is enabled. Read it with the \
                     management account's credentials (or a delegated administrator's). Use it to \
                     choose the OUs and exclusions of organization onboarding.",
                )
                .attribute(
                    Attribute::string("parent_id")
                        .optional()
                        .description(
                            "Only the OUs and accounts below this root or OU id (at any depth). \
                             Defaults to the whole organization.",
                        ),
                )
                .attribute(
                    Attribute::set("account_statuses", Type::String)
                        .optional()
                        .description(
                            "Only accounts in these states (`ACTIVE`, `SUSPENDED`, \
                             `PENDING_CLOSURE`, `PENDING_ACTIVATION`, `CLOSED`). Defaults to all.",
                        ),
                )
                .attribute(computed("id", "The organization id (`o-...`)."))
                .attribute(computed("arn", "The organization's ARN."))
                .attribute(computed(
                    "management_account_id",
                    "The 12-digit id of the management account.",
                ))
                .attribute(computed(
                    "feature_set",
                    "`ALL` or `CONSOLIDATED_BILLING`; service-managed StackSets need `ALL`.",
                ))
                .attribute(computed("root_id", "The root's id (`r-...`)."))
                .attribute(
                    Attribute::bool("stacksets_trusted_access")
                        .computed()
                        .description(
                            "Whether trusted access for CloudFormation StackSets \
                             (`member.org.stacksets.cloudformation.amazonaws.com`) is enabled; \
                             organization onboarding needs it.",
                        ),
                )
                .attribute(
                    Attribute::new("organizational_units", Type::list(ou_type()))
                        .computed()
                        .description(
                            "Every OU (in scope), sorted by id: `id`, `arn`, `name`, `parent_id`.",
                        ),
                )
                .attribute(
                    Attribute::new("accounts", Type::list(account_type()))
                        .computed()
                        .description(
                            "Every account (in scope, the management account included), sorted \
                             by id: `id`, `arn`, `name`, `email`, `status`, `parent_id`.",
                        ),
                )
                .attribute(
                    Attribute::list("member_account_ids", Type::String)
                        .computed()
                        .description(
                            "Ids of the accounts in `accounts` other than the management account, \
                             sorted: the accounts a StackSet can reach.",
                        ),
                ),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(p) = config.get("parent_id").as_str()
            && !is_parent_id(p)
        {
            diags.attribute_error(
                AttrPath::root("parent_id"),
                "Invalid parent_id",
                format!("{p:?} is not a root id (r-xxxx) or an OU id (ou-xxxx-xxxxxxxx)."),
            );
        }
        let statuses = Choices {
            attribute: "account_statuses",
            allowed: &STATUSES,
            empty: (
                "No account status",
                "An empty set matches no account; name the statuses wanted, or omit `account_statuses` for all.",
            ),
            unknown: "Unknown account status",
        };
        statuses.check(config, diags, |s| {
            format!("{s:?} is not an account status; use any of {STATUSES:?}.")
        });
    }

    async fn read(
        &self,
        clients: &ProviderClients,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let orgs = clients.aws(diags).await?.organizations();
        const SUMMARY: &str = "Cannot read the AWS organization";
        let (org, root) = match tokio::try_join!(orgs.describe_organization(), orgs.root()) {
            Ok(v) => v,
            Err(e) => {
                errors::aws(diags, SUMMARY, &e);
                return None;
            }
        };
        let parent = config
            .get("parent_id")
            .as_str()
            .map_or_else(|| root.id.clone(), str::to_owned);
        let walk = tokio::try_join!(orgs.subtree(&parent), orgs.trusted_service_principals());
        let ((ous, mut accounts), trusted) = match walk {
            Ok(v) => v,
            Err(e) => {
                errors::aws(diags, SUMMARY, &e);
                return None;
            }
        };
        if let Value::Set(items) = config.get("account_statuses") {
            let wanted: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            accounts.retain(|a| wanted.contains(&a.status.as_str()));
        }
        let members: Vec<Value> = accounts
            .iter()
            .filter(|a| a.id != org.management_account_id)
            .map(|a| a.id.clone().into())
            .collect();
        tracing::info!(
            organizational_units = ous.len(),
            accounts = accounts.len(),
            "read the AWS organization"
        );
        Some(Value::object([
            ("parent_id", config.get("parent_id").clone()),
            ("account_statuses", config.get("account_statuses").clone()),
            ("id", org.id.clone().into()),
            ("arn", org.arn.clone().into()),
            (
                "management_account_id",
                org.management_account_id.clone().into(),
            ),
            (
                "feature_set",
                org.feature_set.clone().map_or(Value::Null, Value::from),
            ),
            ("root_id", root.id.clone().into()),
            (
                "stacksets_trusted_access",
                Value::from(trusted.iter().any(|p| p == STACKSETS_SERVICE_PRINCIPAL)),
            ),
            (
                "organizational_units",
                Value::list(ous.iter().map(ou_value)),
            ),
            ("accounts", Value::list(accounts.iter().map(account_value))),
            ("member_account_ids", Value::list(members)),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_ids() {
        assert!(is_parent_id("r-ab12"));
        assert!(is_parent_id("ou-ab12-abcdefgh"));
        assert!(!is_parent_id("123456789012"));
        assert!(!is_parent_id("OU-AB12"));
    }

    #[test]
    fn validate_names_the_attribute() {
        let config = Value::object([
            ("parent_id", Value::from("nope")),
            (
                "account_statuses",
                Value::Set(vec![Value::from("ACTIVE"), Value::from("GONE")]),
            ),
        ]);
        let mut diags = Diagnostics::default();
        AwsOrganizationDataSource.validate(&config, &mut diags);
        let text = format!("{diags:?}");
        assert!(
            text.contains("parent_id") && text.contains("GONE"),
            "{text}"
        );
    }
}
