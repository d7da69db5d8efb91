//! `multicloud_resource_provider_registration`: an Azure resource provider namespace registered on
//! a subscription (`Microsoft.Security`, `Microsoft.HybridConnectivity`, ...), for teams that
//! manage registrations explicitly instead of letting the provider register on first use.

use async_trait::async_trait;

use crate::azure::{ArmClient, ResourceProvider};
use crate::protocol::{
    AttrPath, Attribute, Block, Diagnostics, PlanContext, Resource, Schema, Value,
};

use super::clients::ProviderClients;
use super::{errors, ids, validators};

/// The `multicloud_resource_provider_registration` resource.
#[derive(Debug, Default, Clone, Copy)]
pub struct ResourceProviderRegistrationResource;

const TYPE_NAME: &str = "multicloud_resource_provider_registration";

#[async_trait]
impl Resource<ProviderClients> for ResourceProviderRegistrationResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new().description(
                "Registers an Azure resource provider namespace on a subscription and waits until \
                 it is `Registered`; destroying it unregisters the namespace. Defender for Cloud's \
                 AWS connectors need `Microsoft.Security`; Azure Arc's multicloud connector needs \
                 `Microsoft.HybridConnectivity`, `Microsoft.HybridCompute` and `Microsoft.AwsConnector`. \
                 A namespace that is already registered must be imported.",
            )
            .attribute(
                Attribute::string("id")
                    .computed()
                    .use_state_for_unknown()
                    .description("The ARM id: `/subscriptions/<subscription_id>/providers/<namespace>`."),
            )
            .attribute(
                Attribute::string("namespace")
                    .required()
                    .force_new()
                    .description("The resource provider namespace, for example `Microsoft.Security`."),
            )
            .attribute(
                Attribute::string("subscription_id")
                    .optional()
                    .computed()
                    .force_new()
                    .use_state_for_unknown()
                    .description("The subscription to register the namespace on. Defaults to the provider's `azure.subscription_id`."),
            )
            .attribute(
                Attribute::string("registration_state")
                    .computed()
                    .use_state_for_unknown()
                    .description("The registration state reported by Azure: `Registered` once applied."),
            ),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(ns) = config.get("namespace").as_str()
            && let Err(detail) = validators::rp_namespace(ns)
        {
            diags.attribute_error(AttrPath::root("namespace"), "Invalid namespace", detail);
        }
        if let Some(sub) = config.get("subscription_id").as_str()
            && let Err(detail) = validators::guid(sub)
        {
            diags.attribute_error(
                AttrPath::root("subscription_id"),
                "Invalid subscription_id",
                detail,
            );
        }
    }

    async fn modify_plan(
        &self,
        clients: Option<&ProviderClients>,
        plan: &mut PlanContext,
        diags: &mut Diagnostics,
    ) {
        // The default subscription comes from the provider, so it is known at plan time and a
        // change of provider subscription shows up as a replacement rather than a surprise.
        let (Some(clients), Value::Object(_)) = (clients, &plan.planned) else {
            return;
        };
        if plan.prior.is_none() && plan.config.get("subscription_id").is_null() {
            match clients.default_subscription_id() {
                Some(sub) => plan.planned.set_attr("subscription_id", sub),
                None => diags.attribute_error(
                    AttrPath::root("subscription_id"),
                    "No subscription",
                    "Set `subscription_id` here, or `subscription_id` in the provider's azure block (or ARM_SUBSCRIPTION_ID).",
                ),
            }
        }
    }

    async fn create(
        &self,
        clients: &ProviderClients,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let arm = clients.azure(diags).await?;
        let target = target(arm, planned)?;
        let current = match arm
            .resource_provider(&target.subscription_id, &target.namespace)
            .await
        {
            Ok(p) => p,
            Err(e) => {
                errors::azure(diags, "Cannot read the resource provider", &e);
                return None;
            }
        };
        if current
            .as_ref()
            .is_some_and(|p| p.registration_state == "Registered")
        {
            errors::already_exists(diags, &target.to_string(), TYPE_NAME);
            return None;
        }
        match arm
            .register_resource_provider(&target.subscription_id, &target.namespace)
            .await
        {
            Ok(p) => Some(state(&target, &p)),
            Err(e) => {
                errors::azure(diags, &format!("Cannot register {}", target.namespace), &e);
                None
            }
        }
    }

    async fn read(
        &self,
        clients: &ProviderClients,
        current: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let arm = clients.azure(diags).await?;
        let target = target(arm, current)?;
        match arm
            .resource_provider(&target.subscription_id, &target.namespace)
            .await
        {
            // Anything but registered means the registration this resource stands for is gone.
            Ok(Some(p))
                if p.registration_state == "Registered"
                    || p.registration_state == "Registering" =>
            {
                Some(state(&target, &p))
            }
            Ok(_) => None,
            Err(e) => {
                errors::azure(diags, "Cannot read the resource provider", &e);
                Some(current.clone())
            }
        }
    }

    async fn update(
        &self,
        _clients: &ProviderClients,
        _prior: &Value,
        planned: &Value,
        _diags: &mut Diagnostics,
    ) -> Option<Value> {
        // Every configurable attribute forces replacement, so an update only refreshes computed ones.
        Some(planned.clone())
    }

    async fn delete(&self, clients: &ProviderClients, current: &Value, diags: &mut Diagnostics) {
        let Some(arm) = clients.azure(diags).await else {
            return;
        };
        let Some(target) = target(arm, current) else {
            return;
        };
        if let Err(e) = arm
            .unregister_resource_provider(&target.subscription_id, &target.namespace)
            .await
        {
            errors::azure(
                diags,
                &format!("Cannot unregister {}", target.namespace),
                &e,
            );
        }
    }

    async fn import(
        &self,
        _clients: &ProviderClients,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        match ids::ProviderRegistrationId::parse(id) {
            Ok(parsed) => Some(Value::object([
                ("id", parsed.to_string().into()),
                ("namespace", parsed.namespace.clone().into()),
                ("subscription_id", parsed.subscription_id.clone().into()),
                ("registration_state", Value::Null),
            ])),
            Err(detail) => {
                diags.error("Invalid import id", detail);
                None
            }
        }
    }
}

fn target(arm: &ArmClient, value: &Value) -> Option<ids::ProviderRegistrationId> {
    let namespace = value.get("namespace").as_str()?.to_owned();
    let subscription_id = match value.get("subscription_id").as_str() {
        Some(s) => s.to_owned(),
        None => arm.subscription_id().to_owned(),
    };
    Some(ids::ProviderRegistrationId {
        subscription_id,
        namespace,
    })
}

fn state(target: &ids::ProviderRegistrationId, provider: &ResourceProvider) -> Value {
    Value::object([
        ("id", target.to_string().into()),
        // Azure answers with its canonical casing; keep the user's so the plan stays empty.
        ("namespace", target.namespace.clone().into()),
        ("subscription_id", target.subscription_id.clone().into()),
        (
            "registration_state",
            provider.registration_state.clone().into(),
        ),
    ])
}
