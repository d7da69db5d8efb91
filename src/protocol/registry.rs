//! The provider's types by name, with schemas computed once, and the
//! operations the gRPC service dispatches to, on decoded values.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use super::diagnostics::Diagnostics;
use super::plan;
use super::provider::{DataSource, PlanContext, Provider, Resource};
use super::schema::Schema;
use super::types::Type;
use super::value::Value;

/// A registered type: its implementation, schema and value type.
pub(crate) struct Entry<T: ?Sized> {
    pub(crate) imp: Arc<T>,
    pub(crate) schema: Schema,
    pub(crate) ty: Type,
}

/// The provider's schemas and types by name.
pub(crate) struct Tables<P: Provider> {
    pub(crate) provider_schema: Schema,
    pub(crate) provider_type: Type,
    pub(crate) resources: HashMap<String, Entry<dyn Resource<P::Client>>>,
    pub(crate) data_sources: HashMap<String, Entry<dyn DataSource<P::Client>>>,
}

/// Everything the service needs from the provider.
pub(crate) struct Registry<P: Provider> {
    provider: P,
    /// Built on the first call rather than before the handshake: the plugin's start (time and
    /// memory until Terraform can connect) then pays only for the server itself.
    tables: OnceLock<Tables<P>>,
    client: RwLock<Option<Arc<P::Client>>>,
}

fn not_configured(diags: &mut Diagnostics) {
    diags.error(
        "Provider not configured",
        "The provider was asked to manage a resource before it was configured. This is a bug in the \
         provider or in Terraform; please report it.",
    );
}

impl<P: Provider> Tables<P> {
    fn new(provider: &P) -> Self {
        let provider_schema = provider.schema();
        let provider_type = provider_schema.value_type();
        let resources = provider
            .resources()
            .into_iter()
            .map(|imp| {
                let schema = imp.schema();
                let ty = schema.value_type();
                (imp.type_name().to_owned(), Entry { imp, schema, ty })
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|imp| {
                let schema = imp.schema();
                let ty = schema.value_type();
                (imp.type_name().to_owned(), Entry { imp, schema, ty })
            })
            .collect();
        Tables {
            provider_schema,
            provider_type,
            resources,
            data_sources,
        }
    }
}

impl<P: Provider> Registry<P> {
    pub(crate) fn new(provider: P) -> Self {
        Registry {
            provider,
            tables: OnceLock::new(),
            client: RwLock::new(None),
        }
    }

    /// The schemas and types, built on first use.
    pub(crate) fn tables(&self) -> &Tables<P> {
        self.tables.get_or_init(|| Tables::new(&self.provider))
    }

    fn client(&self) -> Option<Arc<P::Client>> {
        self.client.read().ok().and_then(|c| c.clone())
    }

    pub(crate) fn validate_provider(&self, config: &Value, diags: &mut Diagnostics) {
        self.provider.validate(config, diags);
    }

    pub(crate) async fn configure(&self, config: &Value, diags: &mut Diagnostics) {
        let client = self.provider.configure(config, diags).await;
        if let (Some(client), Ok(mut slot)) = (client, self.client.write()) {
            *slot = Some(Arc::new(client));
        }
    }

    pub(crate) async fn plan(
        &self,
        entry: &Entry<dyn Resource<P::Client>>,
        prior: &Value,
        config: &Value,
        proposed: &Value,
        diags: &mut Diagnostics,
    ) -> PlanContext {
        if proposed.is_null() {
            // Destroy: nothing to plan, Terraform only needs the null back.
            return PlanContext {
                prior: Some(prior.clone()),
                config: config.clone(),
                planned: Value::Null,
                requires_replace: Vec::new(),
            };
        }
        let prior = (!prior.is_null()).then_some(prior);
        let mut ctx = plan::plan(&entry.schema.block, prior, config, proposed);
        // Values unknown at validation (from other resources, data sources) may be known now:
        // check again, and plan nothing (no cloud call) for a configuration that is invalid.
        entry.imp.validate(config, diags);
        if diags.has_errors() {
            return ctx;
        }
        let client = self.client();
        entry
            .imp
            .modify_plan(client.as_deref(), &mut ctx, diags)
            .await;
        ctx
    }

    /// Create, update or delete depending on which side is null.
    pub(crate) async fn apply(
        &self,
        entry: &Entry<dyn Resource<P::Client>>,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Value {
        let Some(client) = self.client() else {
            not_configured(diags);
            return prior.clone();
        };
        let new_state = if planned.is_null() {
            entry.imp.delete(&client, prior, diags).await;
            // A failed delete leaves the object, so it stays in state.
            return if diags.has_errors() {
                prior.clone()
            } else {
                Value::Null
            };
        } else if prior.is_null() {
            entry.imp.create(&client, planned, diags).await
        } else {
            entry.imp.update(&client, prior, planned, diags).await
        };
        let Some(new_state) = new_state else {
            if !diags.has_errors() {
                diags.error(
                    "Provider returned no state",
                    format!(
                        "{} returned no state without an error; this is a provider bug.",
                        entry.imp.type_name()
                    ),
                );
            }
            return if prior.is_null() {
                Value::Null
            } else {
                prior.clone()
            };
        };
        if !new_state.is_fully_known() {
            diags.error(
                "Provider returned unknown values after apply",
                format!(
                    "{} left values unknown in its new state; every value must be known after apply. \
                     This is a provider bug.",
                    entry.imp.type_name()
                ),
            );
        }
        new_state
    }

    pub(crate) async fn read(
        &self,
        entry: &Entry<dyn Resource<P::Client>>,
        state: &Value,
        diags: &mut Diagnostics,
    ) -> Value {
        if state.is_null() {
            return Value::Null;
        }
        let Some(client) = self.client() else {
            not_configured(diags);
            return state.clone();
        };
        match entry.imp.read(&client, state, diags).await {
            Some(v) => v,
            None if diags.has_errors() => state.clone(),
            None => Value::Null,
        }
    }

    pub(crate) async fn import(
        &self,
        entry: &Entry<dyn Resource<P::Client>>,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let Some(client) = self.client() else {
            not_configured(diags);
            return None;
        };
        entry.imp.import(&client, id, diags).await
    }

    pub(crate) async fn read_data_source(
        &self,
        entry: &Entry<dyn DataSource<P::Client>>,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Value {
        let Some(client) = self.client() else {
            not_configured(diags);
            return Value::Null;
        };
        let state = entry
            .imp
            .read(&client, config, diags)
            .await
            .unwrap_or(Value::Null);
        if !diags.has_errors() && !state.is_fully_known() {
            diags.error(
                "Data source returned unknown values",
                format!(
                    "{} left values unknown; this is a provider bug.",
                    entry.imp.type_name()
                ),
            );
        }
        state
    }
}
