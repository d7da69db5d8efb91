//! `Microsoft.Security/pricings` at subscription scope: the Defender plans every subscription
//! has, `Free` until switched on. GET and list answer every plan without a prior PUT; PUT is
//! validated against the api-version's schema and the plan catalogue and answered with the
//! properties the service fills in; there is no PATCH, and DELETE exists only for resource-scope
//! pricings, which the emulator does not serve.

use serde_json::{Map, Value, json};

use super::connector::{payload_error, service_error_for};
use super::pricing_schema::{PLAN_NAMES, PRICING, Plan, find};
use crate::errors::ArmError;
use crate::hooks::{ResourceBehaviour, WriteContext};
use crate::schema::{strip_read_only, validate};
use crate::state::{Stored, World};

/// The only api-version whose schema the emulator encodes (the newest stable one).
pub const PRICINGS_API_VERSION: &str = "2024-01-01";
/// Full resource type.
pub const PRICINGS_TYPE: &str = "Microsoft.Security/pricings";

/// Trial time a plan offers when first switched on; cosmetic, no clock runs it down.
const TRIAL: &str = "P30D";
/// `freeTrialRemainingTime` of a plan that is off (as the definition's examples show it).
const NO_TRIAL: &str = "PT0S";

/// The behaviour registered for [`PRICINGS_TYPE`].
#[derive(Debug, Default)]
pub struct Pricings;

fn name_of(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or_default()
}

/// `id` with its last segment in the plan's canonical casing.
fn canonical_id(id: &str, plan: &Plan) -> String {
    match id.rsplit_once('/') {
        Some((parent, _)) => format!("{parent}/{}", plan.name),
        None => plan.name.to_string(),
    }
}

/// The body of a plan that was never written: off, with the service's read-only values.
fn free_body(id: &str, plan: &Plan) -> Value {
    let mut props = json!({
        "pricingTier": "Free",
        "freeTrialRemainingTime": NO_TRIAL,
        "enforce": "False",
        "resourcesCoverageStatus": "NotCovered",
    });
    mark_deprecated(plan, &mut props);
    json!({
        "id": canonical_id(id, plan),
        "name": plan.name,
        "type": PRICINGS_TYPE,
        "properties": props,
    })
}

fn mark_deprecated(plan: &Plan, props: &mut Value) {
    if !plan.replaced_by.is_empty() {
        props["deprecated"] = json!(true);
        props["replacedBy"] = json!(plan.replaced_by);
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

impl ResourceBehaviour for Pricings {
    fn api_versions(&self) -> &'static [&'static str] {
        &[PRICINGS_API_VERSION]
    }

    fn reports_provisioning_state(&self) -> bool {
        false
    }

    fn supports(&self, method: &str) -> bool {
        !matches!(method, "PATCH" | "DELETE")
    }

    fn implicit_names(&self) -> &'static [&'static str] {
        PLAN_NAMES
    }

    fn implicit(&self, id: &str, name: &str) -> Option<Value> {
        find(name).map(|plan| free_body(id, plan))
    }

    fn validate(&self, ctx: &WriteContext<'_>, body: &Value) -> Result<(), ArmError> {
        let problems = validate(&PRICING, body);
        if !problems.is_empty() {
            return Err(payload_error(&problems));
        }
        check(name_of(ctx.id), body)
    }

    fn on_write(&self, ctx: &WriteContext<'_>, body: &mut Value) {
        let Some(plan) = find(name_of(ctx.id)) else {
            return;
        };
        strip_read_only(&PRICING, body);
        body["id"] = json!(canonical_id(ctx.id, plan));
        body["name"] = json!(plan.name);
        body["type"] = json!(PRICINGS_TYPE);
        if let Some(m) = body.as_object_mut() {
            m.remove("systemData");
        }
        fill(plan, ctx.existing, body);
    }
}

fn pricing_id(subscription_id: &str, name: &str) -> String {
    format!("/subscriptions/{subscription_id}/providers/{PRICINGS_TYPE}/{name}")
}

/// The admin API's view of plan `name` on the subscription: stored or implicit.
pub(crate) fn admin_get(world: &World, subscription_id: &str, name: &str) -> Option<Value> {
    let id = pricing_id(subscription_id, name);
    world
        .resources
        .get(&id.to_ascii_lowercase())
        .map(|s| s.body.clone())
        .or_else(|| Pricings.implicit(&id, name))
}

/// The admin API's write of plan `name`, as someone else would make it in the portal: validated
/// like a PUT, but needing neither a token nor the namespace's registration, and not logged.
pub(crate) fn admin_put(
    world: &mut World,
    subscription_id: &str,
    name: &str,
    mut body: Value,
) -> Result<Value, ArmError> {
    let existing = admin_get(world, subscription_id, name);
    let id = existing
        .as_ref()
        .and_then(|e| e.get("id").and_then(Value::as_str))
        .map_or_else(|| pricing_id(subscription_id, name), str::to_string);
    let ctx = WriteContext {
        id: &id,
        resource_type: PRICINGS_TYPE,
        api_version: PRICINGS_API_VERSION,
        method: "PUT",
        existing: existing.as_ref(),
    };
    Pricings.validate(&ctx, &body)?;
    Pricings.on_write(&ctx, &mut body);
    world.resources.insert(
        id.to_ascii_lowercase(),
        Stored {
            id,
            resource_type: PRICINGS_TYPE.to_string(),
            body: body.clone(),
            pending: None,
        },
    );
    Ok(body)
}

/// The service's own checks, after the schema: a known plan, a sub-plan it offers, extensions it
/// offers in that sub-plan, and no switching on a deprecated plan. Codes and wording are the
/// emulator's; the service's are not published.
fn check(name: &str, body: &Value) -> Result<(), ArmError> {
    let Some(plan) = find(name) else {
        return Err(service_error_for(
            "name",
            format!(
                "'{name}' is not a Defender plan. Known plans: {}.",
                PLAN_NAMES.join(", ")
            ),
        ));
    };
    let Some(tier) = str_at(body, "/properties/pricingTier") else {
        return Err(service_error_for(
            "properties.pricingTier",
            "The pricing tier is required: 'Free' or 'Standard'.",
        ));
    };
    if tier == "Free" {
        return Ok(());
    }
    if !plan.replaced_by.is_empty() {
        return Err(service_error_for(
            "properties.pricingTier",
            format!(
                "The plan '{}' is deprecated and cannot be enabled; enable {} instead.",
                plan.name,
                plan.replaced_by.join(", ")
            ),
        ));
    }
    let sub_plan = str_at(body, "/properties/subPlan");
    if let Some(sp) = sub_plan {
        if plan.sub_plans.is_empty() {
            return Err(service_error_for(
                "properties.subPlan",
                format!("The plan '{}' has no sub-plans; omit subPlan.", plan.name),
            ));
        }
        if !plan.sub_plans.contains(&sp) {
            return Err(service_error_for(
                "properties.subPlan",
                format!(
                    "'{sp}' is not a sub-plan of '{}'. Allowed: {}.",
                    plan.name,
                    plan.sub_plans.join(", ")
                ),
            ));
        }
    }
    let extensions = body
        .pointer("/properties/extensions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, e) in extensions.iter().enumerate() {
        let ext_name = e.get("name").and_then(Value::as_str).unwrap_or_default();
        let target = format!("properties.extensions[{i}].name");
        let Some(known) = plan.extensions.iter().find(|x| x.name == ext_name) else {
            let offered: Vec<&str> = plan.extensions.iter().map(|x| x.name).collect();
            return Err(service_error_for(
                &target,
                format!(
                    "The plan '{}' offers no extension '{ext_name}'. Offered: {}.",
                    plan.name,
                    if offered.is_empty() {
                        "none".to_string()
                    } else {
                        offered.join(", ")
                    }
                ),
            ));
        };
        let on = e.get("isEnabled").and_then(Value::as_str) == Some("True");
        if on && !known.in_sub_plan(sub_plan) {
            return Err(service_error_for(
                &target,
                format!(
                    "The extension '{ext_name}' is part of sub-plan {} of '{}', not of {}.",
                    known.sub_plans.join(", "),
                    plan.name,
                    sub_plan.unwrap_or_default()
                ),
            ));
        }
    }
    Ok(())
}

/// The properties the service sets: the full plan's sub-plan when none is named, default
/// extensions when none are named, the trial, the enablement time and the coverage.
fn fill(plan: &Plan, existing: Option<&Value>, body: &mut Value) {
    let was_on = existing.and_then(|e| str_at(e, "/properties/pricingTier")) == Some("Standard");
    let previous = |key: &str| {
        existing
            .and_then(|e| e.pointer(&format!("/properties/{key}")))
            .cloned()
    };
    if !body.get("properties").is_some_and(Value::is_object) {
        body["properties"] = json!({});
    }
    let Some(props) = body.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    props.entry("enforce").or_insert_with(|| json!("False"));
    let on = props.get("pricingTier").and_then(Value::as_str) == Some("Standard");
    if on {
        switched_on(plan, was_on, &previous, props);
    } else {
        props.remove("subPlan");
        props.remove("extensions");
        props.insert("freeTrialRemainingTime".into(), json!(NO_TRIAL));
        props.insert("resourcesCoverageStatus".into(), json!("NotCovered"));
    }
    let mut v = Value::Object(std::mem::take(props));
    mark_deprecated(plan, &mut v);
    body["properties"] = v;
}

fn switched_on(
    plan: &Plan,
    was_on: bool,
    previous: &dyn Fn(&str) -> Option<Value>,
    props: &mut Map<String, Value>,
) {
    if !props.contains_key("subPlan")
        && let Some(full) = plan.sub_plans.last()
    {
        props.insert("subPlan".into(), json!(full));
    }
    let sub_plan = props
        .get("subPlan")
        .and_then(Value::as_str)
        .map(str::to_string);
    let given = props
        .get("extensions")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let extensions: Vec<Value> = if given {
        props
            .get("extensions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|mut e| {
                e["operationStatus"] = json!({"code": "Succeeded"});
                e
            })
            .collect()
    } else {
        plan.extensions
            .iter()
            .filter(|x| x.in_sub_plan(sub_plan.as_deref()))
            .map(|x| {
                json!({"name": x.name, "isEnabled": if x.on_by_default { "True" } else { "False" }})
            })
            .collect()
    };
    if extensions.is_empty() {
        props.remove("extensions");
    } else {
        props.insert("extensions".into(), json!(extensions));
    }
    let (trial, since) = if was_on {
        (
            previous("freeTrialRemainingTime").unwrap_or_else(|| json!(TRIAL)),
            previous("enablementTime").unwrap_or_else(|| json!(crate::clock::rfc3339_now())),
        )
    } else {
        (json!(TRIAL), json!(crate::clock::rfc3339_now()))
    };
    props.insert("freeTrialRemainingTime".into(), trial);
    props.insert("enablementTime".into(), since);
    props.insert("resourcesCoverageStatus".into(), json!("FullyCovered"));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ID: &str = "/subscriptions/s/providers/Microsoft.Security/pricings/virtualmachines";

    fn ctx<'a>(existing: Option<&'a Value>) -> WriteContext<'a> {
        WriteContext {
            id: ID,
            resource_type: PRICINGS_TYPE,
            api_version: PRICINGS_API_VERSION,
            method: "PUT",
            existing,
        }
    }

    fn written(body: Value, existing: Option<&Value>) -> Value {
        let mut body = body;
        Pricings.validate(&ctx(existing), &body).unwrap();
        Pricings.on_write(&ctx(existing), &mut body);
        body
    }

    #[test]
    fn a_new_subscription_has_every_plan_free() {
        let v = Pricings.implicit(ID, "virtualMACHINES").unwrap();
        assert_eq!(v["name"], "VirtualMachines");
        assert!(
            v["id"]
                .as_str()
                .unwrap()
                .ends_with("/pricings/VirtualMachines")
        );
        assert_eq!(v["properties"]["pricingTier"], "Free");
        assert!(Pricings.implicit(ID, "Servers").is_none());
        let k = Pricings.implicit(ID, "KubernetesService").unwrap();
        assert_eq!(k["properties"]["replacedBy"], json!(["Containers"]));
    }

    #[test]
    fn switching_on_fills_what_the_service_fills() {
        let free = Pricings.implicit(ID, "VirtualMachines").unwrap();
        let on = written(
            json!({"properties": {"pricingTier": "Standard"}}),
            Some(&free),
        );
        let p = &on["properties"];
        assert_eq!(p["subPlan"], "P2", "no sub-plan is the full plan");
        assert_eq!(p["freeTrialRemainingTime"], TRIAL);
        assert_eq!(p["resourcesCoverageStatus"], "FullyCovered");
        assert!(p["enablementTime"].is_string());
        let names: Vec<&str> = p["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["name"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "MdeDesignatedSubscription",
                "AgentlessVmScanning",
                "FileIntegrityMonitoring"
            ]
        );

        let p1 = written(
            json!({"properties": {"pricingTier": "Standard", "subPlan": "P1"}}),
            Some(&on),
        );
        assert_eq!(p1["properties"]["enablementTime"], p["enablementTime"]);
        assert_eq!(p1["properties"]["extensions"].as_array().unwrap().len(), 1);

        let off = written(
            json!({"id": "x", "properties": {"pricingTier": "Free", "subPlan": "P1",
                "freeTrialRemainingTime": "P1D"}}),
            Some(&p1),
        );
        assert_eq!(
            off["properties"],
            json!({"pricingTier": "Free", "enforce": "False",
                "freeTrialRemainingTime": NO_TRIAL, "resourcesCoverageStatus": "NotCovered"})
        );
        assert_eq!(
            off["id"],
            Pricings.implicit(ID, "VirtualMachines").unwrap()["id"]
        );
    }

    #[test]
    fn the_service_rejects_what_the_plan_does_not_offer() {
        let rejected = |name: &str, body: Value| {
            let id = format!("/subscriptions/s/providers/Microsoft.Security/pricings/{name}");
            let c = WriteContext {
                id: &id,
                ..ctx(None)
            };
            Pricings.validate(&c, &body).unwrap_err()
        };
        let std = |extra: Value| {
            let mut b = json!({"properties": {"pricingTier": "Standard"}});
            if let (Some(p), Value::Object(e)) = (b["properties"].as_object_mut(), extra) {
                p.extend(e);
            }
            b
        };
        let cases = [
            ("Servers", std(json!({})), "name"),
            (
                "VirtualMachines",
                json!({"properties": {}}),
                "properties.pricingTier",
            ),
            ("VirtualMachines", json!({}), "properties.pricingTier"),
            (
                "VirtualMachines",
                std(json!({"subPlan": "P3"})),
                "properties.subPlan",
            ),
            (
                "SqlServerVirtualMachines",
                std(json!({"subPlan": "P1"})),
                "properties.subPlan",
            ),
            (
                "KubernetesService",
                std(json!({})),
                "properties.pricingTier",
            ),
            (
                "VirtualMachines",
                std(
                    json!({"subPlan": "P1", "extensions": [{"name": "AgentlessVmScanning", "isEnabled": "True"}]}),
                ),
                "properties.extensions[0].name",
            ),
            (
                "Containers",
                std(json!({"extensions": [{"name": "Nope", "isEnabled": "False"}]})),
                "properties.extensions[0].name",
            ),
        ];
        for (name, body, target) in cases {
            let e = rejected(name, body.clone());
            assert_eq!(e.target.as_deref(), Some(target), "{name} {body}: {e:?}");
        }
        let schema = rejected(
            "VirtualMachines",
            json!({"properties": {"pricingTier": "standard"}}),
        );
        assert_eq!(schema.code, "HttpPayloadAPISpecValidationFailed");
        assert_eq!(schema.target.as_deref(), Some("properties.pricingTier"));
        // Off needs no sub-plan check, and a read-only value sent back is ignored.
        let c = WriteContext {
            id: "/subscriptions/s/providers/Microsoft.Security/pricings/Dns",
            ..ctx(None)
        };
        Pricings
            .validate(
                &c,
                &json!({"properties": {"pricingTier": "Free", "subPlan": "x", "deprecated": "no"}}),
            )
            .unwrap();
    }
}
