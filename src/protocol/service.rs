//! The tfplugin6 `Provider` gRPC service: decode, dispatch to the registry,
//! encode. Problems travel back as diagnostics in the response body.
//! Values are never logged: they may hold sensitive attributes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use tonic::{Request, Response, Status, Streaming};

use super::convert::{
    attribute_path, capabilities, decode, diagnostics, encode, schema, unknown_type, unsupported,
};
use super::diagnostics::Diagnostics;
use super::json;
use super::pb::tfplugin6 as pb;
use super::provider::Provider;
use super::registry::Registry;
use super::value::Value;

/// Serves one provider over tfplugin6.
pub(crate) struct ProviderService<P: Provider> {
    registry: Arc<Registry<P>>,
}

impl<P: Provider> ProviderService<P> {
    pub(crate) fn new(registry: Arc<Registry<P>>) -> Self {
        ProviderService { registry }
    }
}

type Reply<T> = Result<Response<T>, Status>;
type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Implements an RPC this provider does not offer: an error diagnostic.
/// Written out in the shape `async_trait` gives async methods, because that
/// attribute does not look inside macro invocations.
macro_rules! unsupported_rpc {
    ($name:ident, $module:ident, $what:literal) => {
        #[allow(clippy::needless_update)]
        fn $name<'life0, 'async_trait>(
            &'life0 self,
            _request: Request<pb::$module::Request>,
        ) -> Pin<Box<dyn Future<Output = Reply<pb::$module::Response>> + Send + 'async_trait>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async move {
                let diagnostics = unsupported($what);
                Ok(Response::new(pb::$module::Response {
                    diagnostics,
                    ..Default::default()
                }))
            })
        }
    };
}

#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for ProviderService<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Reply<pb::get_metadata::Response> {
        tracing::debug!(rpc = "GetMetadata", "serving");
        let r = self.registry.tables();
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            resources: r
                .resources
                .keys()
                .map(|t| pb::get_metadata::ResourceMetadata {
                    type_name: t.clone(),
                })
                .collect(),
            data_sources: r
                .data_sources
                .keys()
                .map(|t| pb::get_metadata::DataSourceMetadata {
                    type_name: t.clone(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Reply<pb::get_provider_schema::Response> {
        tracing::debug!(rpc = "GetProviderSchema", "serving");
        let r = self.registry.tables();
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema(&r.provider_schema)),
            resource_schemas: r
                .resources
                .iter()
                .map(|(k, e)| (k.clone(), schema(&e.schema)))
                .collect(),
            data_source_schemas: r
                .data_sources
                .iter()
                .map(|(k, e)| (k.clone(), schema(&e.schema)))
                .collect(),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Reply<pb::get_resource_identity_schemas::Response> {
        Ok(Response::new(
            pb::get_resource_identity_schemas::Response::default(),
        ))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Reply<pb::validate_provider_config::Response> {
        tracing::debug!(rpc = "ValidateProviderConfig", "serving");
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        if let Some(config) = decode(
            req.config.as_ref(),
            &self.registry.tables().provider_type,
            "configuration",
            &mut diags,
        ) {
            self.registry.validate_provider(&config, &mut diags);
        }
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diagnostics(&diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Reply<pb::validate_resource_config::Response> {
        let req = request.into_inner();
        tracing::debug!(rpc = "ValidateResourceConfig", type_name = %req.type_name, "serving");
        let Some(entry) = self.registry.tables().resources.get(&req.type_name) else {
            let d = unknown_type("resource", &req.type_name);
            return Ok(Response::new(pb::validate_resource_config::Response {
                diagnostics: diagnostics(&d),
            }));
        };
        let mut diags = Diagnostics::new();
        if let Some(config) = decode(req.config.as_ref(), &entry.ty, "configuration", &mut diags) {
            entry.imp.validate(&config, &mut diags);
        }
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diagnostics(&diags),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Reply<pb::validate_data_resource_config::Response> {
        let req = request.into_inner();
        tracing::debug!(rpc = "ValidateDataResourceConfig", type_name = %req.type_name, "serving");
        let Some(entry) = self.registry.tables().data_sources.get(&req.type_name) else {
            let d = unknown_type("data source", &req.type_name);
            return Ok(Response::new(pb::validate_data_resource_config::Response {
                diagnostics: diagnostics(&d),
            }));
        };
        let mut diags = Diagnostics::new();
        if let Some(config) = decode(req.config.as_ref(), &entry.ty, "configuration", &mut diags) {
            entry.imp.validate(&config, &mut diags);
        }
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diagnostics(&diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Reply<pb::upgrade_resource_state::Response> {
        let req = request.into_inner();
        tracing::debug!(rpc = "UpgradeResourceState", type_name = %req.type_name, version = req.version, "serving");
        let Some(entry) = self.registry.tables().resources.get(&req.type_name) else {
            let d = unknown_type("resource", &req.type_name);
            return Ok(Response::new(pb::upgrade_resource_state::Response {
                diagnostics: diagnostics(&d),
                ..Default::default()
            }));
        };
        let mut diags = Diagnostics::new();
        let raw = req.raw_state.unwrap_or_default();
        let mut upgraded = None;
        if req.version > entry.schema.version {
            diags.error(
                "State from a newer provider",
                format!(
                    "The state of this {} has schema version {}, but this provider only knows version {}. \
                     Upgrade the provider.",
                    req.type_name, req.version, entry.schema.version
                ),
            );
        } else if raw.json.is_empty() && !raw.flatmap.is_empty() {
            diags.error(
                "Unsupported state format",
                "Flatmap state from Terraform 0.11 and older cannot be read.",
            );
        } else {
            let value = if raw.json.is_empty() {
                Ok(Value::Null)
            } else if req.version < entry.schema.version {
                json::decode_upgraded(&raw.json, &entry.ty, |state| {
                    entry.imp.upgrade_state(req.version, state);
                })
            } else {
                json::decode(&raw.json, &entry.ty)
            };
            match value {
                Ok(v) => upgraded = encode(&v, &entry.ty, "upgraded state", &mut diags),
                Err(e) => diags.error("Stored state does not match the schema", e.to_string()),
            }
        }
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: upgraded,
            diagnostics: diagnostics(&diags),
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        _request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Reply<pb::upgrade_resource_identity::Response> {
        Ok(Response::new(pb::upgrade_resource_identity::Response {
            upgraded_identity: None,
            diagnostics: unsupported("resource identity"),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Reply<pb::configure_provider::Response> {
        let req = request.into_inner();
        tracing::debug!(rpc = "ConfigureProvider", terraform_version = %req.terraform_version, "serving");
        let mut diags = Diagnostics::new();
        if let Some(config) = decode(
            req.config.as_ref(),
            &self.registry.tables().provider_type,
            "configuration",
            &mut diags,
        ) {
            self.registry.configure(&config, &mut diags).await;
        }
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diagnostics(&diags),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Reply<pb::read_resource::Response> {
        let req = request.into_inner();
        tracing::debug!(rpc = "ReadResource", type_name = %req.type_name, "serving");
        let Some(entry) = self.registry.tables().resources.get(&req.type_name) else {
            let d = unknown_type("resource", &req.type_name);
            return Ok(Response::new(pb::read_resource::Response {
                diagnostics: diagnostics(&d),
                ..Default::default()
            }));
        };
        let mut diags = Diagnostics::new();
        let mut new_state = req.current_state.clone();
        if let Some(state) = decode(req.current_state.as_ref(), &entry.ty, "state", &mut diags) {
            let read = self.registry.read(entry, &state, &mut diags).await;
            new_state = encode(&read, &entry.ty, "state", &mut diags).or(new_state);
        }
        Ok(Response::new(pb::read_resource::Response {
            new_state,
            diagnostics: diagnostics(&diags),
            private: req.private,
            deferred: None,
            new_identity: None,
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Reply<pb::plan_resource_change::Response> {
        let req = request.into_inner();
        tracing::debug!(rpc = "PlanResourceChange", type_name = %req.type_name, "serving");
        let Some(entry) = self.registry.tables().resources.get(&req.type_name) else {
            let d = unknown_type("resource", &req.type_name);
            return Ok(Response::new(pb::plan_resource_change::Response {
                diagnostics: diagnostics(&d),
                ..Default::default()
            }));
        };
        let mut diags = Diagnostics::new();
        let ty = &entry.ty;
        let prior = decode(req.prior_state.as_ref(), ty, "prior state", &mut diags);
        let proposed = decode(
            req.proposed_new_state.as_ref(),
            ty,
            "proposed state",
            &mut diags,
        );
        let config = decode(req.config.as_ref(), ty, "configuration", &mut diags);
        let mut resp = pb::plan_resource_change::Response {
            planned_private: req.prior_private,
            ..Default::default()
        };
        if let (Some(prior), Some(proposed), Some(config)) = (prior, proposed, config) {
            let ctx = self
                .registry
                .plan(entry, &prior, &config, &proposed, &mut diags)
                .await;
            resp.planned_state = encode(&ctx.planned, ty, "plan", &mut diags);
            resp.requires_replace = ctx.requires_replace.iter().map(attribute_path).collect();
        }
        resp.diagnostics = diagnostics(&diags);
        Ok(Response::new(resp))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Reply<pb::apply_resource_change::Response> {
        let req = request.into_inner();
        tracing::debug!(rpc = "ApplyResourceChange", type_name = %req.type_name, "serving");
        let Some(entry) = self.registry.tables().resources.get(&req.type_name) else {
            let d = unknown_type("resource", &req.type_name);
            return Ok(Response::new(pb::apply_resource_change::Response {
                diagnostics: diagnostics(&d),
                ..Default::default()
            }));
        };
        let mut diags = Diagnostics::new();
        let ty = &entry.ty;
        let prior = decode(req.prior_state.as_ref(), ty, "prior state", &mut diags);
        let planned = decode(req.planned_state.as_ref(), ty, "planned state", &mut diags);
        let mut resp = pb::apply_resource_change::Response {
            private: req.planned_private,
            ..Default::default()
        };
        if let (Some(prior), Some(planned)) = (prior, planned) {
            let new_state = self
                .registry
                .apply(entry, &prior, &planned, &mut diags)
                .await;
            resp.new_state = encode(&new_state, ty, "new state", &mut diags);
        }
        resp.diagnostics = diagnostics(&diags);
        Ok(Response::new(resp))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Reply<pb::import_resource_state::Response> {
        let req = request.into_inner();
        tracing::debug!(rpc = "ImportResourceState", type_name = %req.type_name, "serving");
        let Some(entry) = self.registry.tables().resources.get(&req.type_name) else {
            let d = unknown_type("resource", &req.type_name);
            return Ok(Response::new(pb::import_resource_state::Response {
                diagnostics: diagnostics(&d),
                ..Default::default()
            }));
        };
        let mut diags = Diagnostics::new();
        let mut imported = Vec::new();
        if let Some(state) = self.registry.import(entry, &req.id, &mut diags).await {
            if let Some(state) = encode(&state, &entry.ty, "imported state", &mut diags) {
                imported.push(pb::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: Some(state),
                    private: Vec::new(),
                    identity: None,
                });
            }
        } else if !diags.has_errors() {
            diags.error(
                "Cannot import",
                format!("No {} with id {:?} was found.", req.type_name, req.id),
            );
        }
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: imported,
            diagnostics: diagnostics(&diags),
            deferred: None,
        }))
    }

    unsupported_rpc!(
        move_resource_state,
        move_resource_state,
        "moving state between resource types"
    );

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Reply<pb::read_data_source::Response> {
        let req = request.into_inner();
        tracing::debug!(rpc = "ReadDataSource", type_name = %req.type_name, "serving");
        let Some(entry) = self.registry.tables().data_sources.get(&req.type_name) else {
            let d = unknown_type("data source", &req.type_name);
            return Ok(Response::new(pb::read_data_source::Response {
                diagnostics: diagnostics(&d),
                ..Default::default()
            }));
        };
        let mut diags = Diagnostics::new();
        let mut state = None;
        if let Some(config) = decode(req.config.as_ref(), &entry.ty, "configuration", &mut diags) {
            let read = self
                .registry
                .read_data_source(entry, &config, &mut diags)
                .await;
            state = encode(&read, &entry.ty, "data source state", &mut diags);
        }
        Ok(Response::new(pb::read_data_source::Response {
            state,
            diagnostics: diagnostics(&diags),
            deferred: None,
        }))
    }

    unsupported_rpc!(
        generate_resource_config,
        generate_resource_config,
        "configuration generation"
    );
    unsupported_rpc!(
        validate_ephemeral_resource_config,
        validate_ephemeral_resource_config,
        "ephemeral resources"
    );
    unsupported_rpc!(
        open_ephemeral_resource,
        open_ephemeral_resource,
        "ephemeral resources"
    );
    unsupported_rpc!(
        renew_ephemeral_resource,
        renew_ephemeral_resource,
        "ephemeral resources"
    );
    unsupported_rpc!(
        close_ephemeral_resource,
        close_ephemeral_resource,
        "ephemeral resources"
    );
    unsupported_rpc!(
        validate_list_resource_config,
        validate_list_resource_config,
        "list resources"
    );
    unsupported_rpc!(validate_action_config, validate_action_config, "actions");
    unsupported_rpc!(plan_action, plan_action, "actions");
    unsupported_rpc!(
        validate_state_store_config,
        validate_state_store_config,
        "state stores"
    );
    unsupported_rpc!(configure_state_store, configure_state_store, "state stores");
    unsupported_rpc!(lock_state, lock_state, "state stores");
    unsupported_rpc!(unlock_state, unlock_state, "state stores");
    unsupported_rpc!(get_states, get_states, "state stores");
    unsupported_rpc!(delete_state, delete_state, "state stores");

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Reply<pb::get_functions::Response> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    type ListResourceStream = BoxStream<pb::list_resource::Event>;

    async fn list_resource(
        &self,
        _request: Request<pb::list_resource::Request>,
    ) -> Reply<Self::ListResourceStream> {
        let event = pb::list_resource::Event {
            diagnostic: unsupported("list resources"),
            ..Default::default()
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(event)]))))
    }

    async fn call_function(
        &self,
        _request: Request<pb::call_function::Request>,
    ) -> Reply<pb::call_function::Response> {
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: "This provider offers no functions.".to_owned(),
                function_argument: None,
            }),
        }))
    }

    type InvokeActionStream = BoxStream<pb::invoke_action::Event>;

    async fn invoke_action(
        &self,
        _request: Request<pb::invoke_action::Request>,
    ) -> Reply<Self::InvokeActionStream> {
        use pb::invoke_action::event::{Completed, Type as EventType};
        let event = pb::invoke_action::Event {
            r#type: Some(EventType::Completed(Completed {
                diagnostics: unsupported("actions"),
            })),
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(event)]))))
    }

    type ReadStateBytesStream = BoxStream<pb::read_state_bytes::ResponseChunk>;

    async fn read_state_bytes(
        &self,
        _request: Request<pb::read_state_bytes::Request>,
    ) -> Reply<Self::ReadStateBytesStream> {
        let chunk = pb::read_state_bytes::ResponseChunk {
            diagnostics: unsupported("state stores"),
            ..Default::default()
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(chunk)]))))
    }

    async fn write_state_bytes(
        &self,
        _request: Request<Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> Reply<pb::write_state_bytes::Response> {
        Ok(Response::new(pb::write_state_bytes::Response {
            diagnostics: unsupported("state stores"),
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Reply<pb::stop_provider::Response> {
        // Calls in flight finish on their own; their cloud clients bound every wait.
        tracing::debug!(rpc = "StopProvider", "serving");
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}
