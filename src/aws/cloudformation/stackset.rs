//! Service-managed StackSets: the StackSet itself (create, describe, update, delete) and its
//! stack instances in member accounts (created and deleted by OU targets with account
//! filters). Every write returns an operation id; [`wait_for_stack_set_operation`]
//! (crate::aws::cloudformation::CloudFormationClient::wait_for_stack_set_operation) follows it.
//!
//! The same calls serve Defender's authentication StackSet and Arc's
//! `AzureArcMultiCloudStackset`: only the template, name and targets differ.

use super::{CAPABILITY_NAMED_IAM, CloudFormationClient, none_if_not_found};
use crate::aws::error::AwsError;
use aws_sdk_cloudformation::operation::update_stack_set::builders::UpdateStackSetFluentBuilder;
use aws_sdk_cloudformation::types;
use std::collections::BTreeMap;

/// Who the StackSet calls are made as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CallAs {
    /// The organization's management account (`SELF`).
    #[default]
    ManagementAccount,
    /// A member account registered as delegated administrator for StackSets.
    DelegatedAdmin,
}

impl CallAs {
    pub(super) fn sdk(self) -> types::CallAs {
        match self {
            Self::ManagementAccount => types::CallAs::SelfValue,
            Self::DelegatedAdmin => types::CallAs::DelegatedAdmin,
        }
    }
}

/// Whether regions are deployed one after the other or all at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegionConcurrency {
    /// All regions at once (onboarding templates hold global IAM resources in one region).
    #[default]
    Parallel,
    /// One region at a time.
    Sequential,
}

/// How fast an operation rolls out over accounts. The defaults suit onboarding: the template
/// holds only IAM roles, so all accounts may go at once; a tenth may fail before CloudFormation
/// stops the rest, and the failures are reported with their accounts either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationPreferences {
    /// Percentage of accounts deployed at once per region (1-100).
    pub max_concurrent_percentage: u8,
    /// Percentage of accounts that may fail per region before the operation stops (0-100).
    pub failure_tolerance_percentage: u8,
    /// Region ordering.
    pub region_concurrency: RegionConcurrency,
}

/// Default [`OperationPreferences::max_concurrent_percentage`].
pub const DEFAULT_MAX_CONCURRENT_PERCENTAGE: u8 = 100;
/// Default [`OperationPreferences::failure_tolerance_percentage`].
pub const DEFAULT_FAILURE_TOLERANCE_PERCENTAGE: u8 = 10;

impl Default for OperationPreferences {
    fn default() -> Self {
        Self {
            max_concurrent_percentage: DEFAULT_MAX_CONCURRENT_PERCENTAGE,
            failure_tolerance_percentage: DEFAULT_FAILURE_TOLERANCE_PERCENTAGE,
            region_concurrency: RegionConcurrency::Parallel,
        }
    }
}

impl OperationPreferences {
    /// The SDK form. Soft failure tolerance lets concurrency exceed the tolerance + 1 that
    /// strict mode would cap it at, which at 1,000 accounts is the difference between one
    /// wave and ten.
    fn sdk(&self) -> types::StackSetOperationPreferences {
        types::StackSetOperationPreferences::builder()
            .max_concurrent_percentage(i32::from(self.max_concurrent_percentage.clamp(1, 100)))
            .failure_tolerance_percentage(i32::from(self.failure_tolerance_percentage.min(100)))
            .concurrency_mode(types::ConcurrencyMode::SoftFailureTolerance)
            .region_concurrency_type(match self.region_concurrency {
                RegionConcurrency::Parallel => types::RegionConcurrencyType::Parallel,
                RegionConcurrency::Sequential => types::RegionConcurrencyType::Sequential,
            })
            .build()
    }
}

/// Sets everything of a [`StackSetSpec`] on a `CreateStackSet` or `UpdateStackSet` request
/// builder. The SDK gives the two builders no common trait, so a macro is what lets both
/// requests be built by the same lines: a setting added to the spec reaches both or neither.
macro_rules! with_spec {
    ($request:expr, $spec:expr) => {{
        let spec: &StackSetSpec = $spec;
        $request
            .stack_set_name(&spec.name)
            .set_description(spec.description.clone())
            .template_body(&spec.template_body)
            .set_parameters(Some(spec.sdk_parameters()))
            .set_capabilities(Some(spec.sdk_capabilities()))
            .set_tags(Some(spec.sdk_tags()))
            .permission_model(types::PermissionModels::ServiceManaged)
            .auto_deployment(spec.auto())
            .call_as(spec.call_as.sdk())
    }};
}

/// A service-managed StackSet to create or update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackSetSpec {
    /// StackSet name (unique per region and account).
    pub name: String,
    /// Description shown in the console.
    pub description: Option<String>,
    /// Template body (JSON or YAML).
    pub template_body: String,
    /// Template parameters.
    pub parameters: BTreeMap<String, String>,
    /// Capabilities (onboarding templates name their roles: `CAPABILITY_NAMED_IAM`).
    pub capabilities: Vec<String>,
    /// Deploy to accounts that join a target OU later.
    pub auto_deployment: bool,
    /// Keep the stacks (and roles) of accounts that leave a target OU.
    pub retain_stacks_on_account_removal: bool,
    /// StackSet tags (propagated to the stacks).
    pub tags: BTreeMap<String, String>,
    /// Management account or delegated administrator.
    pub call_as: CallAs,
}

impl StackSetSpec {
    /// A spec with the onboarding defaults: named-IAM capability, auto-deployment on, stacks
    /// removed with accounts that leave.
    pub fn new(name: impl Into<String>, template_body: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: None,
            template_body: template_body.into(),
            parameters: BTreeMap::new(),
            capabilities: vec![CAPABILITY_NAMED_IAM.to_owned()],
            auto_deployment: true,
            retain_stacks_on_account_removal: false,
            tags: BTreeMap::new(),
            call_as: CallAs::ManagementAccount,
        }
    }

    fn auto(&self) -> types::AutoDeployment {
        types::AutoDeployment::builder()
            .enabled(self.auto_deployment)
            .retain_stacks_on_account_removal(self.retain_stacks_on_account_removal)
            .build()
    }

    fn sdk_parameters(&self) -> Vec<types::Parameter> {
        self.parameters
            .iter()
            .map(|(k, v)| {
                types::Parameter::builder()
                    .parameter_key(k)
                    .parameter_value(v)
                    .build()
            })
            .collect()
    }

    fn sdk_capabilities(&self) -> Vec<types::Capability> {
        self.capabilities
            .iter()
            .map(|c| types::Capability::from(c.as_str()))
            .collect()
    }

    fn sdk_tags(&self) -> Vec<types::Tag> {
        self.tags
            .iter()
            .map(|(k, v)| types::Tag::builder().key(k).value(v).build())
            .collect()
    }
}

/// Where stack instances go: OUs (or the root id for the whole organization) minus excluded
/// accounts, in the given regions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StackSetTargets {
    /// OU ids or the root id.
    pub organizational_unit_ids: Vec<String>,
    /// Accounts inside those OUs that get no instance (`AccountFilterType` `DIFFERENCE`).
    pub excluded_accounts: Vec<String>,
    /// Regions (IAM is global: onboarding deploys to one).
    pub regions: Vec<String>,
}

impl StackSetTargets {
    fn sdk(&self) -> types::DeploymentTargets {
        let b = types::DeploymentTargets::builder()
            .set_organizational_unit_ids(Some(self.organizational_unit_ids.clone()));
        if self.excluded_accounts.is_empty() {
            b.build()
        } else {
            b.set_accounts(Some(self.excluded_accounts.clone()))
                .account_filter_type(types::AccountFilterType::Difference)
                .build()
        }
    }
}

/// A StackSet as CloudFormation describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackSet {
    /// StackSet id (`name:uuid`).
    pub id: String,
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// `ACTIVE` or `DELETED`.
    pub status: String,
    /// Description.
    pub description: Option<String>,
    /// Template body.
    pub template_body: String,
    /// Parameters by key.
    pub parameters: BTreeMap<String, String>,
    /// Capabilities.
    pub capabilities: Vec<String>,
    /// `SERVICE_MANAGED` or `SELF_MANAGED`.
    pub permission_model: String,
    /// Auto-deployment on (`None` when not reported).
    pub auto_deployment: Option<bool>,
    /// Retain stacks on account removal (`None` when not reported).
    pub retain_stacks_on_account_removal: Option<bool>,
    /// OU ids the StackSet has instances for, as CloudFormation reports them.
    pub organizational_unit_ids: Vec<String>,
}

/// One stack instance (an account and region of the StackSet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackInstance {
    /// Member account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// `CURRENT`, `OUTDATED` or `INOPERABLE`.
    pub status: String,
    /// Why (set on failures).
    pub status_reason: Option<String>,
    /// `SUCCEEDED`, `FAILED`, `PENDING`, `RUNNING`, ... when reported.
    pub detailed_status: Option<String>,
    /// The OU through which it was deployed, when reported.
    pub organizational_unit_id: Option<String>,
    /// Stack id in the member account.
    pub stack_id: Option<String>,
}

/// CloudFormation's own words when trusted access is off; moved to the variant that says how
/// to turn it on.
pub const TRUSTED_ACCESS_MESSAGE: &str =
    "You must enable organizations access to operate a service managed stack set";

fn trusted_access(e: AwsError) -> AwsError {
    match e.service_message() {
        Some(m) if m.contains(TRUSTED_ACCESS_MESSAGE) => AwsError::TrustedAccessDisabled {
            service_principal: crate::aws::organizations::STACKSETS_SERVICE_PRINCIPAL.to_owned(),
        },
        _ => e,
    }
}

/// A fresh operation id. StackSet operations are keyed by it: the same id goes with every
/// resend of one request, so CloudFormation runs the operation once.
fn operation_id() -> String {
    super::stack::client_request_token("op")
}

/// The operation id of a StackSet write sent with `id`. `OperationIdAlreadyExistsException`
/// answers a resend whose earlier attempt started the operation: the id is unique to this
/// request, so the operation is ours.
fn ours_if_taken(
    sent: Result<Option<String>, AwsError>,
    id: String,
    operation: &str,
) -> Result<String, AwsError> {
    match sent {
        Ok(answered) => answered.ok_or_else(|| missing(operation, "OperationId")),
        Err(e) if e.code() == Some("OperationIdAlreadyExistsException") => {
            tracing::info!(operation, operation_id = %id, "a resent StackSet write found its own operation running");
            Ok(id)
        }
        Err(e) => Err(e),
    }
}

fn missing(operation: &str, field: &str) -> AwsError {
    AwsError::MissingField {
        operation: operation.into(),
        field: field.into(),
    }
}

impl CloudFormationClient {
    /// Creates a service-managed StackSet (no instances yet); returns its id. Fails with
    /// CloudFormation's own error when trusted access is off: run
    /// [`require_stacksets_trusted_access`](crate::aws::OrganizationsClient::require_stacksets_trusted_access)
    /// first to fail with the fix instead.
    pub async fn create_stack_set(&self, spec: &StackSetSpec) -> Result<String, AwsError> {
        const OP: &str = "CreateStackSet";
        // One token for every resend, so CloudFormation can tell a repeated request from a
        // second StackSet of the same name.
        let token = super::stack::client_request_token("stackset");
        let out = self
            .idempotent(OP, || async {
                let request = self.sdk().create_stack_set();
                with_spec!(request, spec)
                    .client_request_token(&token)
                    .send()
                    .await
                    .map_err(self.err(OP))
            })
            .await
            .map_err(trusted_access)?;
        out.stack_set_id.ok_or_else(|| missing(OP, "StackSetId"))
    }

    /// The StackSet, or `None` when there is none of that name (or it is deleted).
    pub async fn describe_stack_set(
        &self,
        name: &str,
        call_as: CallAs,
    ) -> Result<Option<StackSet>, AwsError> {
        const OP: &str = "DescribeStackSet";
        let out = none_if_not_found(
            self.sdk()
                .describe_stack_set()
                .stack_set_name(name)
                .call_as(call_as.sdk())
                .send()
                .await
                .map_err(self.err(OP)),
        )?;
        let Some(s) = out.and_then(|o| o.stack_set) else {
            return Ok(None);
        };
        let status = s.status.map(|x| x.as_str().to_owned()).unwrap_or_default();
        if status == "DELETED" {
            return Ok(None);
        }
        let auto = s.auto_deployment;
        Ok(Some(StackSet {
            id: s.stack_set_id.ok_or_else(|| missing(OP, "StackSetId"))?,
            name: s.stack_set_name.unwrap_or_else(|| name.to_owned()),
            arn: s.stack_set_arn.unwrap_or_default(),
            status,
            description: s.description,
            template_body: s.template_body.unwrap_or_default(),
            parameters: s
                .parameters
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| Some((p.parameter_key?, p.parameter_value.unwrap_or_default())))
                .collect(),
            capabilities: s
                .capabilities
                .unwrap_or_default()
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
            permission_model: s
                .permission_model
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            auto_deployment: auto.as_ref().and_then(|a| a.enabled),
            retain_stacks_on_account_removal: auto
                .as_ref()
                .and_then(|a| a.retain_stacks_on_account_removal),
            organizational_unit_ids: s.organizational_unit_ids.unwrap_or_default(),
        }))
    }

    /// Updates template, parameters, description, tags and auto-deployment; CloudFormation
    /// rolls the change out to every existing instance. Returns the operation id.
    pub async fn update_stack_set(
        &self,
        spec: &StackSetSpec,
        preferences: &OperationPreferences,
    ) -> Result<String, AwsError> {
        self.send_update(self.update_request(spec, preferences))
            .await
    }

    /// Rolls the StackSet's settings out to the instances of `accounts` only (the OU targets
    /// narrowed with an `INTERSECTION` account filter) in `regions`, leaving every other
    /// instance alone: how failed instances are deployed again without touching the rest.
    /// Returns the operation id.
    pub async fn update_stack_set_accounts(
        &self,
        spec: &StackSetSpec,
        preferences: &OperationPreferences,
        organizational_unit_ids: &[String],
        accounts: &[String],
        regions: &[String],
    ) -> Result<String, AwsError> {
        let targets = types::DeploymentTargets::builder()
            .set_organizational_unit_ids(Some(organizational_unit_ids.to_vec()))
            .set_accounts(Some(accounts.to_vec()))
            .account_filter_type(types::AccountFilterType::Intersection)
            .build();
        let request = self
            .update_request(spec, preferences)
            .deployment_targets(targets)
            .set_regions(Some(regions.to_vec()));
        self.send_update(request).await
    }

    fn update_request(
        &self,
        spec: &StackSetSpec,
        preferences: &OperationPreferences,
    ) -> UpdateStackSetFluentBuilder {
        with_spec!(self.sdk().update_stack_set(), spec).operation_preferences(preferences.sdk())
    }

    async fn send_update(&self, request: UpdateStackSetFluentBuilder) -> Result<String, AwsError> {
        const OP: &str = "UpdateStackSet";
        let id = operation_id();
        let request = request.operation_id(&id);
        let sent = self
            .idempotent(OP, || async {
                request.clone().send().await.map_err(self.err(OP))
            })
            .await;
        ours_if_taken(sent.map(|out| out.operation_id), id, OP)
    }

    /// Deletes the StackSet (it must have no instances left); a missing one is not an error.
    pub async fn delete_stack_set(&self, name: &str, call_as: CallAs) -> Result<(), AwsError> {
        none_if_not_found(
            self.idempotent("DeleteStackSet", || async {
                self.sdk()
                    .delete_stack_set()
                    .stack_set_name(name)
                    .call_as(call_as.sdk())
                    .send()
                    .await
                    .map_err(self.err("DeleteStackSet"))
            })
            .await,
        )?;
        Ok(())
    }

    /// Creates stack instances in every account of the target OUs (nested OUs included) except
    /// the excluded ones. Returns the operation id.
    pub async fn create_stack_instances(
        &self,
        name: &str,
        targets: &StackSetTargets,
        preferences: &OperationPreferences,
        call_as: CallAs,
    ) -> Result<String, AwsError> {
        const OP: &str = "CreateStackInstances";
        let id = operation_id();
        let sent = self
            .idempotent(OP, || async {
                self.sdk()
                    .create_stack_instances()
                    .stack_set_name(name)
                    .deployment_targets(targets.sdk())
                    .set_regions(Some(targets.regions.clone()))
                    .operation_preferences(preferences.sdk())
                    .call_as(call_as.sdk())
                    .operation_id(&id)
                    .send()
                    .await
                    .map_err(self.err(OP))
            })
            .await
            .map_err(trusted_access);
        ours_if_taken(sent.map(|out| out.operation_id), id, OP)
    }

    /// Deletes the stack instances of the target OUs (minus the excluded accounts); with
    /// `retain_stacks` the stacks stay in the accounts, detached from the StackSet. Returns the
    /// operation id.
    pub async fn delete_stack_instances(
        &self,
        name: &str,
        targets: &StackSetTargets,
        retain_stacks: bool,
        preferences: &OperationPreferences,
        call_as: CallAs,
    ) -> Result<String, AwsError> {
        const OP: &str = "DeleteStackInstances";
        let id = operation_id();
        let sent = self
            .idempotent(OP, || async {
                self.sdk()
                    .delete_stack_instances()
                    .stack_set_name(name)
                    .deployment_targets(targets.sdk())
                    .set_regions(Some(targets.regions.clone()))
                    .retain_stacks(retain_stacks)
                    .operation_preferences(preferences.sdk())
                    .call_as(call_as.sdk())
                    .operation_id(&id)
                    .send()
                    .await
                    .map_err(self.err(OP))
            })
            .await;
        ours_if_taken(sent.map(|out| out.operation_id), id, OP)
    }

    /// Every stack instance of the StackSet (all pages), sorted by account then region.
    pub async fn list_stack_instances(
        &self,
        name: &str,
        call_as: CallAs,
    ) -> Result<Vec<StackInstance>, AwsError> {
        let items: Vec<_> = self
            .sdk()
            .list_stack_instances()
            .stack_set_name(name)
            .call_as(call_as.sdk())
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(self.err("ListStackInstances"))?;
        let mut out: Vec<StackInstance> = items
            .into_iter()
            .filter_map(|i| {
                Some(StackInstance {
                    account: i.account?,
                    region: i.region?,
                    status: i.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    status_reason: i.status_reason,
                    detailed_status: i
                        .stack_instance_status
                        .and_then(|s| s.detailed_status)
                        .map(|d| d.as_str().to_owned()),
                    organizational_unit_id: i.organizational_unit_id,
                    stack_id: i.stack_id,
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        Ok(out)
    }
}
