//! Stacks: describe, template, resources, and the create/update/delete calls (which return
//! as soon as CloudFormation accepted the operation; see the waiter for the rest).

use super::{CloudFormationClient, StackStatus, is_no_updates, none_if_not_found};
use crate::aws::error::AwsError;
use aws_sdk_cloudformation::types;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Acknowledges that the template creates IAM resources with generated names.
pub const CAPABILITY_IAM: &str = "CAPABILITY_IAM";
/// Acknowledges that the template creates IAM resources with explicit names.
pub const CAPABILITY_NAMED_IAM: &str = "CAPABILITY_NAMED_IAM";
/// Acknowledges that the template contains macros or nested transforms.
pub const CAPABILITY_AUTO_EXPAND: &str = "CAPABILITY_AUTO_EXPAND";

/// A stack as CloudFormation describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    /// Stack id (an ARN; stays unique after the stack is deleted, unlike the name).
    pub id: String,
    /// Stack name.
    pub name: String,
    /// Current status.
    pub status: StackStatus,
    /// Why the stack reached that status (set after failures).
    pub status_reason: Option<String>,
    /// The template's description.
    pub description: Option<String>,
    /// Outputs by key.
    pub outputs: BTreeMap<String, String>,
    /// Parameters by key (`NoEcho` ones read as `****`).
    pub parameters: BTreeMap<String, String>,
    /// Stack tags.
    pub tags: BTreeMap<String, String>,
    /// Capabilities the stack was given.
    pub capabilities: Vec<String>,
}

impl Stack {
    /// A stack known only by id that is gone (what a delete wait returns when CloudFormation
    /// no longer describes it).
    pub fn deleted(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: stack_name_from_id(id).to_owned(),
            status: StackStatus::DeleteComplete,
            status_reason: None,
            description: None,
            outputs: BTreeMap::new(),
            parameters: BTreeMap::new(),
            tags: BTreeMap::new(),
            capabilities: Vec::new(),
        }
    }
}

/// The name inside a stack id (`arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`);
/// anything else is returned unchanged (it is a name already).
pub fn stack_name_from_id(id: &str) -> &str {
    id.split_once(":stack/")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
        .unwrap_or(id)
}

/// One resource of a stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackResource {
    /// Logical id in the template.
    pub logical_id: String,
    /// Physical id (role name, provider ARN, ...), once created.
    pub physical_id: Option<String>,
    /// Resource type, e.g. `AWS::IAM::Role`.
    pub resource_type: String,
    /// Resource status, e.g. `CREATE_COMPLETE`.
    pub status: String,
    /// Why it reached that status.
    pub status_reason: Option<String>,
}

/// What CloudFormation does when a create fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Delete what was created and leave the stack in `ROLLBACK_COMPLETE` (the default).
    Rollback,
    /// Delete what was created and the stack itself.
    Delete,
    /// Leave everything as it is, the stack in `CREATE_FAILED`.
    DoNothing,
}

impl OnFailure {
    fn to_sdk(self) -> types::OnFailure {
        match self {
            Self::Rollback => types::OnFailure::Rollback,
            Self::Delete => types::OnFailure::Delete,
            Self::DoNothing => types::OnFailure::DoNothing,
        }
    }
}

/// Input of [`CloudFormationClient::create_stack`] and [`CloudFormationClient::update_stack`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStack {
    /// Stack name (for updates: name or id).
    pub name: String,
    /// Template, JSON or YAML (at most 51,200 bytes inline).
    pub template_body: String,
    /// Parameter values by key.
    pub parameters: BTreeMap<String, String>,
    /// Stack tags, propagated to the resources that support tags. An update sends the full
    /// set, so tags removed here are removed from the stack.
    pub tags: BTreeMap<String, String>,
    /// Capabilities acknowledged; [`CAPABILITY_NAMED_IAM`] by default.
    pub capabilities: Vec<String>,
    /// What to do when the create fails (CloudFormation's default, rollback, when `None`);
    /// not used by updates.
    pub on_failure: Option<OnFailure>,
}

impl Default for NewStack {
    fn default() -> Self {
        Self {
            name: String::new(),
            template_body: String::new(),
            parameters: BTreeMap::new(),
            tags: BTreeMap::new(),
            capabilities: vec![CAPABILITY_NAMED_IAM.to_owned()],
            on_failure: None,
        }
    }
}

impl NewStack {
    /// A stack with this name and template, no parameters or tags, `CAPABILITY_NAMED_IAM`.
    ///
    /// ```
    /// use terraform_provider_multicloud::aws::cloudformation::{NewStack, OnFailure};
    /// let s = NewStack::new("trust", "{\"Resources\": {}}")
    ///     .with_tag("owner", "platform")
    ///     .with_on_failure(OnFailure::Rollback);
    /// assert_eq!(s.capabilities, ["CAPABILITY_NAMED_IAM"]);
    /// ```
    pub fn new(name: impl Into<String>, template_body: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            template_body: template_body.into(),
            ..Self::default()
        }
    }

    /// Adds a parameter value.
    pub fn with_parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.insert(key.into(), value.into());
        self
    }

    /// Adds a stack tag.
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// Sets what happens when the create fails.
    pub fn with_on_failure(mut self, on_failure: OnFailure) -> Self {
        self.on_failure = Some(on_failure);
        self
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

    fn sdk_tags(&self) -> Vec<types::Tag> {
        self.tags
            .iter()
            .map(|(k, v)| types::Tag::builder().key(k).value(v).build())
            .collect()
    }

    fn sdk_capabilities(&self) -> Vec<types::Capability> {
        self.capabilities
            .iter()
            .map(|c| types::Capability::from(c.as_str()))
            .collect()
    }
}

/// What [`CloudFormationClient::update_stack_and_wait`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackUpdate {
    /// The stack after the update (as it was, when nothing changed).
    pub stack: Stack,
    /// Whether CloudFormation performed an update (`false`: "No updates are to be performed").
    pub changed: bool,
}

/// A token unique to this process and moment: CloudFormation recognises a retried request
/// carrying the same token (the SDK's retries reuse it) instead of failing the second
/// `CreateStack` with `AlreadyExists`.
pub(super) fn client_request_token(kind: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("multicloud-{kind}-{nanos:x}-{:x}-{n}", std::process::id())
}

fn pairs<'a>(
    it: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> BTreeMap<String, String> {
    it.filter_map(|(k, v)| Some((k?.to_owned(), v.unwrap_or_default().to_owned())))
        .collect()
}

pub(super) fn stack_from_sdk(s: &types::Stack) -> Stack {
    Stack {
        id: s.stack_id().unwrap_or_default().to_owned(),
        name: s.stack_name().unwrap_or_default().to_owned(),
        status: s
            .stack_status()
            .map_or(StackStatus::Other(String::new()), |st| {
                StackStatus::parse(st.as_str())
            }),
        status_reason: s.stack_status_reason().map(str::to_owned),
        description: s.description().map(str::to_owned),
        outputs: pairs(
            s.outputs()
                .iter()
                .map(|o| (o.output_key(), o.output_value())),
        ),
        parameters: pairs(
            s.parameters()
                .iter()
                .map(|p| (p.parameter_key(), p.parameter_value())),
        ),
        tags: pairs(s.tags().iter().map(|t| (t.key(), t.value()))),
        capabilities: s
            .capabilities()
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
    }
}

impl CloudFormationClient {
    /// The stack, or `None` when it does not exist or is deleted (`DELETE_COMPLETE`).
    pub async fn describe_stack_opt(&self, name_or_id: &str) -> Result<Option<Stack>, AwsError> {
        Ok(self
            .describe_stack_any(name_or_id)
            .await?
            .filter(|s| s.status != StackStatus::DeleteComplete))
    }

    /// The stack in any status, deleted ones included (by id, AWS describes a deleted stack
    /// for 90 days); `None` when CloudFormation does not know it.
    pub(super) async fn describe_stack_any(
        &self,
        name_or_id: &str,
    ) -> Result<Option<Stack>, AwsError> {
        const OP: &str = "DescribeStacks";
        let r = self
            .client
            .describe_stacks()
            .stack_name(name_or_id)
            .send()
            .await
            .map_err(self.err(OP));
        Ok(none_if_not_found(r)?.and_then(|out| out.stacks().first().map(stack_from_sdk)))
    }

    /// The template the stack was created or last updated with, as it was given.
    pub async fn get_template_body(&self, name_or_id: &str) -> Result<String, AwsError> {
        const OP: &str = "GetTemplate";
        let out = self
            .client
            .get_template()
            .stack_name(name_or_id)
            .template_stage(types::TemplateStage::Original)
            .send()
            .await
            .map_err(self.err(OP))?;
        out.template_body.ok_or_else(|| AwsError::MissingField {
            operation: OP.into(),
            field: "TemplateBody".into(),
        })
    }

    /// The stack's resources (all pages).
    pub async fn list_stack_resources(
        &self,
        name_or_id: &str,
    ) -> Result<Vec<StackResource>, AwsError> {
        let summaries: Vec<types::StackResourceSummary> = self
            .client
            .list_stack_resources()
            .stack_name(name_or_id)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(self.err("ListStackResources"))?;
        Ok(summaries
            .iter()
            .map(|r| StackResource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                physical_id: r
                    .physical_resource_id()
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
                resource_type: r.resource_type().unwrap_or_default().to_owned(),
                status: r
                    .resource_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                status_reason: r.resource_status_reason().map(str::to_owned),
            })
            .collect())
    }

    /// Starts creating a stack; returns its id. `AlreadyExists` when a stack of that name
    /// exists, also one left in `ROLLBACK_COMPLETE` (see
    /// [`delete_failed_create`](Self::delete_failed_create)).
    pub async fn create_stack(&self, stack: &NewStack) -> Result<String, AwsError> {
        self.start_create(stack).await.map(|(id, _)| id)
    }

    /// `CreateStack`: the stack id and, where CloudFormation reports one, the operation id.
    pub(super) async fn start_create(
        &self,
        stack: &NewStack,
    ) -> Result<(String, Option<String>), AwsError> {
        const OP: &str = "CreateStack";
        // One token for every resend: CloudFormation answers a repeated request with the stack
        // the first one made.
        let token = client_request_token("create");
        let out = self
            .idempotent(OP, || async {
                self.client
                    .create_stack()
                    .stack_name(&stack.name)
                    .template_body(&stack.template_body)
                    .set_parameters(Some(stack.sdk_parameters()))
                    .set_tags(Some(stack.sdk_tags()))
                    .set_capabilities(Some(stack.sdk_capabilities()))
                    .set_on_failure(stack.on_failure.map(OnFailure::to_sdk))
                    .client_request_token(&token)
                    .send()
                    .await
                    .map_err(self.err(OP))
            })
            .await?;
        let id = out.stack_id.ok_or_else(|| AwsError::MissingField {
            operation: OP.into(),
            field: "StackId".into(),
        })?;
        Ok((id, out.operation_id))
    }

    /// Starts updating a stack to `stack`'s template, parameters, tags and capabilities.
    /// `Ok(false)` when CloudFormation answers that no updates are to be performed.
    pub async fn update_stack(&self, stack: &NewStack) -> Result<bool, AwsError> {
        self.start_update(stack).await.map(|o| o.is_some())
    }

    /// `UpdateStack`: `None` when there was nothing to update, else the operation id if any.
    pub(super) async fn start_update(
        &self,
        stack: &NewStack,
    ) -> Result<Option<Option<String>>, AwsError> {
        const OP: &str = "UpdateStack";
        let token = client_request_token("update");
        let r = self
            .idempotent(OP, || async {
                self.client
                    .update_stack()
                    .stack_name(&stack.name)
                    .template_body(&stack.template_body)
                    .set_parameters(Some(stack.sdk_parameters()))
                    .set_tags(Some(stack.sdk_tags()))
                    .set_capabilities(Some(stack.sdk_capabilities()))
                    .client_request_token(&token)
                    .send()
                    .await
                    .map_err(self.err(OP))
            })
            .await;
        match r {
            Ok(out) => Ok(Some(out.operation_id)),
            Err(e) if is_no_updates(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Starts deleting a stack. `Ok(false)` when there is no such stack (or it is deleted
    /// already); CloudFormation itself accepts deleting a missing stack silently.
    pub async fn delete_stack(&self, name_or_id: &str) -> Result<bool, AwsError> {
        match self.describe_stack_opt(name_or_id).await? {
            Some(s) => self.start_delete(&s.id).await.map(|()| true),
            None => Ok(false),
        }
    }

    /// `DeleteStack` by id.
    pub(super) async fn start_delete(&self, stack_id: &str) -> Result<(), AwsError> {
        let token = client_request_token("delete");
        self.idempotent("DeleteStack", || async {
            self.client
                .delete_stack()
                .stack_name(stack_id)
                .client_request_token(&token)
                .send()
                .await
                .map(drop)
                .map_err(self.err("DeleteStack"))
        })
        .await
    }
}
