//! The traits a provider and its resources and data sources implement; the
//! protocol server drives them and knows nothing else about them.

use std::sync::Arc;

use async_trait::async_trait;

use super::diagnostics::{AttrPath, Diagnostics};
use super::schema::Schema;
use super::value::Value;

/// A provider: its configuration schema and the types it offers.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// What [`Provider::configure`] builds; passed to every CRUD call.
    type Client: Send + Sync + 'static;

    /// Schema of the `provider "..." {}` block.
    fn schema(&self) -> Schema;

    /// Checks provider configuration; it may hold unknown values.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Builds the client from the provider configuration (which may hold unknowns).
    async fn configure(&self, config: &Value, diags: &mut Diagnostics) -> Option<Self::Client>;

    /// The managed resource types.
    fn resources(&self) -> Vec<Arc<dyn Resource<Self::Client>>>;

    /// The data source types.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Self::Client>>>;
}

/// A managed resource type.
#[async_trait]
pub trait Resource<C: Send + Sync + 'static>: Send + Sync {
    /// Terraform type name, e.g. `multicloud_aws_connector`.
    fn type_name(&self) -> &'static str;

    /// Schema of the resource.
    fn schema(&self) -> Schema;

    /// Checks configuration; it may hold unknown values.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Called after the generic plan with the planned value editable: for
    /// cross-attribute logic and remote checks. `client` is `None` when the
    /// provider is not configured yet.
    async fn modify_plan(
        &self,
        _client: Option<&C>,
        _plan: &mut PlanContext,
        _diags: &mut Diagnostics,
    ) {
    }

    /// Creates the object. Returning `Some(partial)` with an error keeps the
    /// partial state so that Terraform can clean up.
    async fn create(&self, client: &C, planned: &Value, diags: &mut Diagnostics) -> Option<Value>;

    /// Refreshes state; `None` means the object is gone and leaves the state.
    async fn read(&self, client: &C, state: &Value, diags: &mut Diagnostics) -> Option<Value>;

    /// Updates the object in place.
    async fn update(
        &self,
        client: &C,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value>;

    /// Deletes the object.
    async fn delete(&self, client: &C, state: &Value, diags: &mut Diagnostics);

    /// Rewrites state stored under an older schema `version` (lower than the current
    /// [`Schema::version`]) into the current shape, on the JSON object Terraform stored, before
    /// it is decoded. Decoding drops attributes the current schema no longer has anyway, so an
    /// upgrade is needed for renamed, moved or retyped attributes; a type still removes its
    /// removed attributes here, so that dropping them is a documented, tested decision rather
    /// than a side effect of decoding. The default changes nothing.
    fn upgrade_state(
        &self,
        _version: i64,
        _state: &mut serde_json::Map<String, serde_json::Value>,
    ) {
    }

    /// Turns an import id into a state that [`Resource::read`] completes.
    /// The default is an object with only `id` set.
    async fn import(&self, _client: &C, id: &str, _diags: &mut Diagnostics) -> Option<Value> {
        Some(Value::object([("id", Value::from(id))]))
    }
}

/// The plan being made for one resource, editable by [`Resource::modify_plan`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlanContext {
    /// Prior state; `None` when the resource is being created.
    pub prior: Option<Value>,
    /// Configuration (may hold unknowns).
    pub config: Value,
    /// The planned new state (unknown where only apply can tell).
    pub planned: Value,
    /// Attributes whose change forces replacement.
    pub requires_replace: Vec<AttrPath>,
}

/// A data source type.
#[async_trait]
pub trait DataSource<C: Send + Sync + 'static>: Send + Sync {
    /// Terraform type name, e.g. `multicloud_caller_identity`.
    fn type_name(&self) -> &'static str;

    /// Schema of the data source.
    fn schema(&self) -> Schema;

    /// Checks configuration; it may hold unknown values.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Reads the data; the result must be fully known.
    async fn read(&self, client: &C, config: &Value, diags: &mut Diagnostics) -> Option<Value>;
}
