//! The `organization {}` block of `multicloud_aws_oidc_trust`: the service-managed StackSet that
//! deploys the trust's roles to the organization's member accounts, read into typed values
//! with every problem reported on the attribute that holds it.

use crate::aws::cloudformation::{
    CallAs, DEFAULT_FAILURE_TOLERANCE_PERCENTAGE, DEFAULT_MAX_CONCURRENT_PERCENTAGE,
    OperationPreferences, RegionConcurrency,
};
use crate::onboarding::organization::is_account_id;
use crate::protocol::{AttrPath, Attribute, Block, Diagnostics, NestedBlock, Type, Value};

/// The block's name.
pub(crate) const BLOCK: &str = "organization";

/// The StackSet name used when `stack_set_name` is not set. The connector's organization data
/// names the StackSet (`stacksetName`), so both sides must agree on it.
pub(crate) const DEFAULT_STACK_SET_NAME: &str = "MDCOnboardingStackSet";

const DESCRIPTION: &str = "Organization onboarding (`deployment = \"cloudformation\"` only), run \
with credentials of the organization's management account or of a delegated administrator: the \
management account keeps its own stack, and a service-managed StackSet deploys the same roles, \
with an OIDC provider of their own, to every member account of the target OUs except the excluded \
ones. New accounts of those OUs get them too (auto-deployment). Trusted access between AWS \
Organizations and CloudFormation StackSets must be enabled; it is checked before anything is \
created.";

fn opt(a: Attribute, description: &str) -> Attribute {
    a.optional().description(description)
}

/// The nested block.
pub(crate) fn block() -> NestedBlock {
    NestedBlock::single(
        BLOCK,
        Block::new()
            .description(DESCRIPTION)
            .attribute(opt(
                Attribute::string("stack_set_name"),
                "Name of the StackSet. Defaults to `MDCOnboardingStackSet`; give the connector's \
                 organization block the same name. For the roles of an Arc multicloud connector, \
                 use `multicloud_connector.<name>.stack_set_name` (`AzureArcMultiCloudStackset`). \
                 Changing it replaces the trust.",
            ))
            .attribute(opt(
                Attribute::list("target_ou_ids", Type::String),
                "OU ids (`ou-xxxx-xxxxxxxx`) or the root id (`r-xxxx`) to deploy to, nested OUs \
                 included. Defaults to the organization's root (every member account).",
            ))
            .attribute(opt(
                Attribute::list("excluded_account_ids", Type::String),
                "Member accounts (12 digits) inside the targets that get no roles. The plan of a \
                 new StackSet checks that each is an account of the organization (one \
                 `DescribeAccount` per id).",
            ))
            .attribute(opt(
                Attribute::bool("auto_deployment"),
                "Deploy to accounts that join a target OU later. Defaults to `true`.",
            ))
            .attribute(opt(
                Attribute::bool("retain_stacks_on_account_removal"),
                "Keep the roles of an account that leaves a target OU (or of every account on \
                 destroy). Defaults to `false`.",
            ))
            .attribute(opt(
                Attribute::list("regions", Type::String),
                "Regions of the stack instances. IAM is global, so one is enough; defaults to the \
                 provider's `aws.region`.",
            ))
            .attribute(opt(
                Attribute::int("max_concurrent_percentage"),
                "Percentage of accounts deployed at once (1-100). Defaults to 100.",
            ))
            .attribute(opt(
                Attribute::int("failure_tolerance_percentage"),
                "Percentage of accounts that may fail before CloudFormation stops the operation \
                 (0-100). Defaults to 10. Any failed account fails the apply either way.",
            ))
            .attribute(opt(
                Attribute::string("region_concurrency"),
                "`PARALLEL` (default) or `SEQUENTIAL`.",
            ))
            .attribute(opt(
                Attribute::string("call_as"),
                "`SELF` (default): the credentials are the management account's. \
                 `DELEGATED_ADMIN`: a member account registered as delegated administrator for \
                 StackSets. Changing it replaces the trust.",
            ))
            .attribute(opt(
                Attribute::bool("enable_trusted_access"),
                "Enable trusted access for CloudFormation StackSets in AWS Organizations when it \
                 is off, instead of failing. Defaults to `false`.",
            ))
            .attribute(
                Attribute::string("stack_set_id")
                    .computed()
                    .description("The StackSet's id (`<name>:<uuid>`)."),
            )
            .attribute(
                Attribute::string("stack_set_arn")
                    .computed()
                    .description("The StackSet's ARN."),
            )
            .attribute(
                Attribute::list("member_account_ids", Type::String)
                    .computed()
                    .description(
                        "Member accounts with a current stack instance (the roles deployed), \
                         sorted, as read from the StackSet's instances (accounts that join a \
                         target OU later appear once auto-deployment has deployed to them). \
                         Known after apply for a new StackSet. When `target_ou_ids` or \
                         `excluded_account_ids` change, the plan reads the organization and \
                         shows every account the new targets reach minus the exclusions. An \
                         unchanged configuration does not read the organization (a walk costs \
                         a call per 20 accounts): an account the targets reach that has no \
                         instance and that auto-deployment did not deploy to is not detected; \
                         failed instances show as `in_sync = false` and are deployed again by \
                         the next apply.",
                    ),
            )
            .attribute(Attribute::bool("in_sync").computed().description(
                "`false` when the StackSet's template or auto-deployment was changed outside \
                 Terraform or an instance is not current; the next apply rolls the \
                 configuration out again.",
            )),
    )
    .max_items(1)
}

/// The block's configuration, typed, defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OrgConfig {
    pub stack_set_name: String,
    /// Empty: the organization's root.
    pub target_ou_ids: Vec<String>,
    pub excluded_account_ids: Vec<String>,
    pub auto_deployment: bool,
    pub retain_stacks: bool,
    /// Empty: the provider's region.
    pub regions: Vec<String>,
    pub preferences: OperationPreferences,
    pub call_as: CallAs,
    pub enable_trusted_access: bool,
}

impl OrgConfig {
    /// The regions, the provider's when none are configured.
    pub(crate) fn regions_or(&self, provider_region: &str) -> Vec<String> {
        if self.regions.is_empty() {
            vec![provider_region.to_owned()]
        } else {
            self.regions.clone()
        }
    }
}

/// The attributes of the block a user sets (the rest are computed).
pub(crate) const INPUTS: [&str; 11] = [
    "stack_set_name",
    "target_ou_ids",
    "excluded_account_ids",
    "auto_deployment",
    "retain_stacks_on_account_removal",
    "regions",
    "max_concurrent_percentage",
    "failure_tolerance_percentage",
    "region_concurrency",
    "call_as",
    "enable_trusted_access",
];

fn path(attr: &str) -> AttrPath {
    AttrPath::root(BLOCK).attr(attr)
}

fn percentage(
    block: &Value,
    attr: &str,
    min: i64,
    default: u8,
    diags: &mut Diagnostics,
) -> Option<u8> {
    match block.get(attr) {
        Value::Null => Some(default),
        v => match v.as_i64() {
            Some(n) if (min..=100).contains(&n) => u8::try_from(n).ok(),
            _ => {
                diags.attribute_error(
                    path(attr),
                    "Invalid percentage",
                    format!("{attr} must be a whole number from {min} to 100."),
                );
                None
            }
        },
    }
}

fn one_of<T: Copy>(
    block: &Value,
    attr: &str,
    choices: &[(&str, T)],
    diags: &mut Diagnostics,
) -> Option<T> {
    let Some(text) = block.get(attr).as_str() else {
        return Some(choices[0].1);
    };
    let found = choices.iter().find(|(name, _)| *name == text).map(|c| c.1);
    if found.is_none() {
        let names: Vec<String> = choices.iter().map(|(n, _)| format!("\"{n}\"")).collect();
        diags.attribute_error(
            path(attr),
            "Unsupported value",
            format!(
                "{attr} {text:?} is not supported; use {}.",
                names.join(" or ")
            ),
        );
    }
    found
}

/// Whether `s` looks like an OU id (`ou-` + root part + `-` + 8-32 characters) or a root id
/// (`r-` + 4-32 characters), lower-case letters and digits.
pub(crate) fn is_target_id(s: &str) -> bool {
    let part = |p: &str, min: usize| {
        p.len() >= min
            && p.len() <= 32
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if let Some(rest) = s.strip_prefix("ou-") {
        return rest
            .split_once('-')
            .is_some_and(|(root, ou)| part(root, 4) && part(ou, 8));
    }
    s.strip_prefix("r-").is_some_and(|r| part(r, 4))
}

/// Reads and checks the block of `value` (a configuration or planned value of the resource).
/// `Ok(None)`: no block. `Err(())`: something invalid (reported) or not known yet.
#[allow(clippy::result_unit_err)]
pub(crate) fn org_config(value: &Value, diags: &mut Diagnostics) -> Result<Option<OrgConfig>, ()> {
    let block = value.get(BLOCK);
    if block.is_null() {
        return Ok(None);
    }
    let before = diags.iter().count();
    if let Some(deployment) = value.get("deployment").as_str().or(Some("iam"))
        && deployment != "cloudformation"
        && !value.get("deployment").is_unknown()
    {
        diags.attribute_error(
            AttrPath::root(BLOCK),
            "Organization onboarding needs CloudFormation",
            "The organization block deploys the roles to member accounts with a CloudFormation \
             StackSet, which only the CloudFormation deployment manages: set \
             deployment = \"cloudformation\", or remove the organization block.",
        );
    }
    let name = block.get("stack_set_name").as_str().map(str::to_owned);
    if let Some(n) = &name
        && !stack_set_name_ok(n)
    {
        diags.attribute_error(
            path("stack_set_name"),
            "Invalid StackSet name",
            format!(
                "{n:?} is not a valid StackSet name: it must start with a letter, hold only \
                 letters, digits and hyphens, and be at most 128 characters."
            ),
        );
    }
    let targets = block.get("target_ou_ids").as_string_vec();
    for (i, t) in targets.iter().enumerate() {
        if !is_target_id(t) {
            diags.attribute_error(
                path("target_ou_ids").index(i as i64),
                "Invalid deployment target",
                format!(
                    "{t:?} is neither an OU id (ou-xxxx-xxxxxxxx) nor a root id (r-xxxx); list \
                     them with `aws organizations list-roots` and \
                     `aws organizations list-organizational-units-for-parent`."
                ),
            );
        }
    }
    let excluded = block.get("excluded_account_ids").as_string_vec();
    for (i, a) in excluded.iter().enumerate() {
        if !is_account_id(a) {
            diags.attribute_error(
                path("excluded_account_ids").index(i as i64),
                "Invalid account id",
                format!("{a:?} is not a 12-digit AWS account id."),
            );
        }
    }
    let regions = block.get("regions").as_string_vec();
    if block.get("regions").as_list().is_some_and(<[_]>::is_empty) {
        diags.attribute_error(
            path("regions"),
            "No region",
            "regions needs at least one region (or leave it unset for the provider's region).",
        );
    }
    let max = percentage(
        block,
        "max_concurrent_percentage",
        1,
        DEFAULT_MAX_CONCURRENT_PERCENTAGE,
        diags,
    );
    let tolerance = percentage(
        block,
        "failure_tolerance_percentage",
        0,
        DEFAULT_FAILURE_TOLERANCE_PERCENTAGE,
        diags,
    );
    let concurrency = one_of(
        block,
        "region_concurrency",
        &[
            ("PARALLEL", RegionConcurrency::Parallel),
            ("SEQUENTIAL", RegionConcurrency::Sequential),
        ],
        diags,
    );
    let call_as = one_of(
        block,
        "call_as",
        &[
            ("SELF", CallAs::ManagementAccount),
            ("DELEGATED_ADMIN", CallAs::DelegatedAdmin),
        ],
        diags,
    );
    if diags.iter().count() > before || !INPUTS.iter().all(|a| block.get(a).is_fully_known()) {
        return Err(());
    }
    let flag = |attr: &str, default: bool| block.get(attr).as_bool().unwrap_or(default);
    Ok(Some(OrgConfig {
        stack_set_name: name.unwrap_or_else(|| DEFAULT_STACK_SET_NAME.to_owned()),
        target_ou_ids: targets,
        excluded_account_ids: excluded,
        auto_deployment: flag("auto_deployment", true),
        retain_stacks: flag("retain_stacks_on_account_removal", false),
        regions,
        preferences: OperationPreferences {
            max_concurrent_percentage: max.ok_or(())?,
            failure_tolerance_percentage: tolerance.ok_or(())?,
            region_concurrency: concurrency.ok_or(())?,
        },
        call_as: call_as.ok_or(())?,
        enable_trusted_access: flag("enable_trusted_access", false),
    }))
}

/// CloudFormation's StackSet name rule (that of stacks).
fn stack_set_name_ok(name: &str) -> bool {
    name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The block as state records it: the inputs as configured, with the computed attributes.
pub(crate) fn state_block(config_block: &Value, computed: &OrgComputed) -> Value {
    let mut block = config_block.clone();
    block.set_attr("stack_set_id", Value::from(computed.stack_set_id.clone()));
    block.set_attr("stack_set_arn", Value::from(computed.stack_set_arn.clone()));
    block.set_attr(
        "member_account_ids",
        Value::string_list(computed.member_account_ids.iter().cloned()),
    );
    block.set_attr("in_sync", computed.in_sync);
    block
}

/// What a deployed StackSet adds to the block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct OrgComputed {
    pub stack_set_id: Option<String>,
    pub stack_set_arn: Option<String>,
    pub member_account_ids: Vec<String>,
    pub in_sync: bool,
}
