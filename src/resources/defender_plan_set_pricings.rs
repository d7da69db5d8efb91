//! The plan set's subscription side: with `subscription_id`, the Defender plans
//! (`Microsoft.Security/pricings`) its AWS plans need are switched on there, what was found is
//! remembered and put back on destroy, and a later change shows in the plan. Without it nothing
//! remote happens. The decisions are [`onboarding::reconcile`]'s; this file reads, writes and
//! converts.

use std::collections::{BTreeMap, BTreeSet};

use crate::azure::{ArmClient, AzureError, Pricing};
use crate::onboarding::{
    self, ChangedPricing, PlanSet, PricingSetting, PricingTier, Reconciliation, RequiredPricing,
    SubscriptionPricing,
};
use crate::protocol::{AttrPath, Attribute, Block, Diagnostics, PlanContext, Type, Value};

use super::clients::ProviderClients;
use super::defender_plan_set_schema as inputs;
use super::{errors, validators};

/// The namespace pricings live in; it must be registered on the subscription.
const SECURITY_NAMESPACE: &str = "Microsoft.Security";

const SUBSCRIPTION_ID: &str = "subscription_id";
const ENSURED: &str = "subscription_pricings";
const PREVIOUS: &str = "previous_pricings";

fn pricing_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("tier", Type::String),
        ("sub_plan", Type::String),
    ])
}

fn previous_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("tier", Type::String),
        ("sub_plan", Type::String),
        ("applied_tier", Type::String),
        ("applied_sub_plan", Type::String),
    ])
}

/// Adds `subscription_id`, `subscription_pricings` and `previous_pricings` to `block`.
pub(crate) fn schema(block: Block) -> Block {
    block
        .attribute(
            Attribute::string(SUBSCRIPTION_ID)
                .optional()
                .force_new()
                .description(
                    "The Azure subscription that holds the AWS connectors using this plan set. When set, \
                     the Defender plans the AWS plans need there are switched on (Defender for Servers \
                     at the sub-plan of `servers.plan` for `servers`, Defender for SQL servers on machines \
                     for `databases`; a plan already at or above what is needed is left as it is), what \
                     was found is put back on destroy, and a later change shows in the plan. Arc \
                     auto-provisioning needs Owner there, which is checked at plan time. When not set, \
                     nothing in Azure is read or changed (the security connector then checks the \
                     subscription at plan time).",
                ),
        )
        .attribute(
            Attribute::list(ENSURED, pricing_type())
                .computed()
                .description(
                    "The Defender plans (`Microsoft.Security/pricings`) the plan set needs on \
                     `subscription_id`, as last read: `name`, `tier` (`Free` or `Standard`) and `sub_plan` \
                     (null for a plan without sub-plans, or the full plan). A plan switched off or lowered outside Terraform shows \
                     here, and the next apply switches it on again. Null without `subscription_id`.",
                ),
        )
        .attribute(
            Attribute::list(PREVIOUS, previous_type())
                .computed()
                .description(
                    "The pricings this plan set changed, with what it found (`tier`, `sub_plan`) and what \
                     it set (`applied_tier`, `applied_sub_plan`). Destroy puts each back to what was \
                     found if it still holds what was set; one changed by someone else since is left \
                     as it is, with a warning. Empty after import: an imported plan set puts nothing \
                     back. Null without `subscription_id`.",
                ),
        )
}

/// Plan-time checks of `subscription_id`.
pub(crate) fn validate(config: &Value, diags: &mut Diagnostics) {
    if let Some(sub) = config.get(SUBSCRIPTION_ID).as_str()
        && let Err(detail) = validators::guid(sub)
    {
        diags.attribute_error(
            AttrPath::root(SUBSCRIPTION_ID),
            "Invalid subscription_id",
            detail,
        );
    }
}

/// A setting from the API's strings. A tier this version does not know counts as the full
/// standard plan, so it is never lowered.
fn setting(tier: &str, sub_plan: Option<&str>) -> PricingSetting {
    PricingSetting::new(
        PricingTier::parse(tier).unwrap_or(PricingTier::Standard),
        sub_plan,
    )
}

fn setting_of(p: &Pricing) -> PricingSetting {
    setting(&p.properties.pricing_tier, p.properties.sub_plan.as_deref())
}

/// A subscription's pricings as the onboarding domain sees them, for plan-time checks
/// ([`onboarding::missing_prerequisites`]).
pub(crate) async fn subscription_pricings(
    arm: &ArmClient,
    subscription_id: &str,
) -> Result<Vec<SubscriptionPricing>, AzureError> {
    Ok(arm
        .pricings(subscription_id)
        .await?
        .iter()
        .map(|p| SubscriptionPricing {
            name: p.name.clone(),
            setting: setting_of(p),
            deprecated: p.properties.deprecated.unwrap_or(false),
            replaced_by: p.properties.replaced_by.clone(),
        })
        .collect())
}

fn ensured_value(entries: &[(String, PricingSetting)]) -> Value {
    Value::list(entries.iter().map(|(name, s)| {
        Value::object([
            ("name", Value::from(name.as_str())),
            ("tier", Value::from(s.tier.as_str())),
            ("sub_plan", Value::from(s.sub_plan.clone())),
        ])
    }))
}

fn previous_value(entries: &[ChangedPricing]) -> Value {
    Value::list(entries.iter().map(|c| {
        Value::object([
            ("name", Value::from(c.name.as_str())),
            ("tier", Value::from(c.found.tier.as_str())),
            ("sub_plan", Value::from(c.found.sub_plan.clone())),
            ("applied_tier", Value::from(c.applied.tier.as_str())),
            ("applied_sub_plan", Value::from(c.applied.sub_plan.clone())),
        ])
    }))
}

fn items(v: &Value) -> &[Value] {
    v.as_list().unwrap_or_default()
}

fn ensured_of(state: &Value) -> BTreeMap<String, PricingSetting> {
    items(state.get(ENSURED))
        .iter()
        .filter_map(|e| {
            let name = e.get("name").as_str()?;
            let tier = e.get("tier").as_str()?;
            Some((name.to_owned(), setting(tier, e.get("sub_plan").as_str())))
        })
        .collect()
}

fn previous_of(state: &Value) -> Vec<ChangedPricing> {
    items(state.get(PREVIOUS))
        .iter()
        .filter_map(|e| {
            Some(ChangedPricing {
                name: e.get("name").as_str()?.to_owned(),
                found: setting(e.get("tier").as_str()?, e.get("sub_plan").as_str()),
                applied: setting(
                    e.get("applied_tier").as_str()?,
                    e.get("applied_sub_plan").as_str(),
                ),
            })
        })
        .collect()
}

/// The plan set's pricing needs, from a state or planned value whose inputs are known and valid.
fn needs(value: &Value) -> Option<Vec<RequiredPricing>> {
    let plans = inputs::plan_set(value, &mut Diagnostics::new())?;
    Some(onboarding::prerequisites(&plans).pricings)
}

fn same_subscription(a: &Value, b: &Value) -> bool {
    match (
        a.get(SUBSCRIPTION_ID).as_str(),
        b.get(SUBSCRIPTION_ID).as_str(),
    ) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    }
}

/// Plans `subscription_pricings` and `previous_pricings`: null without a subscription, the
/// prior values when nothing needs writing (so a no-op plan stays empty), unknown otherwise.
/// Also checks, on create or change, that Owner-only options can be switched on.
pub(crate) async fn plan(
    clients: Option<&ProviderClients>,
    plans: Option<&PlanSet>,
    ctx: &mut PlanContext,
    diags: &mut Diagnostics,
) {
    let sub = ctx.config.get(SUBSCRIPTION_ID).clone();
    if sub.is_null() {
        ctx.planned.set_attr(ENSURED, Value::Null);
        ctx.planned.set_attr(PREVIOUS, Value::Null);
        return;
    }
    let (Some(sub), Some(plans)) = (sub.as_str(), plans) else {
        ctx.planned.set_attr(ENSURED, Value::Unknown);
        ctx.planned.set_attr(PREVIOUS, Value::Unknown);
        return;
    };
    let required = onboarding::prerequisites(plans);
    let prior = ctx
        .prior
        .as_ref()
        .filter(|p| same_subscription(p, &ctx.config));
    let (ensured, previous) = match prior {
        None if required.pricings.is_empty() => (Value::list([]), Value::list([])),
        None => (Value::Unknown, Value::Unknown),
        Some(p) => predict(&required.pricings, p),
    };
    ctx.planned.set_attr(ENSURED, ensured);
    ctx.planned.set_attr(PREVIOUS, previous);

    let changed = prior.is_none_or(|p| {
        ["servers", "databases"]
            .iter()
            .any(|b| p.get(b) != ctx.planned.get(b))
    });
    if let Some(clients) = clients.filter(|_| changed && !required.owner_options.is_empty()) {
        check_owner(clients, sub, &required.owner_options, diags).await;
    }
}

/// What apply will leave, computed from the refreshed prior state, when it writes nothing.
fn predict(required: &[RequiredPricing], prior: &Value) -> (Value, Value) {
    let current = ensured_of(prior);
    let previous = previous_of(prior);
    let all_read = required
        .iter()
        .map(|r| r.name)
        .chain(previous.iter().map(|c| c.name.as_str()))
        .all(|n| current.keys().any(|k| k.eq_ignore_ascii_case(n)));
    if !all_read {
        return (Value::Unknown, Value::Unknown);
    }
    let r = onboarding::reconcile(required, &current, &previous);
    if !r.writes.is_empty() || !r.notes.is_empty() {
        return (Value::Unknown, Value::Unknown);
    }
    (ensured_value(&r.ensured), previous_value(&r.changed))
}

async fn check_owner(
    clients: &ProviderClients,
    subscription_id: &str,
    options: &[onboarding::OwnerOption],
    diags: &mut Diagnostics,
) {
    let Some(arm) = clients.azure(diags).await else {
        return;
    };
    match arm.may_assign_roles(subscription_id).await {
        Ok(true) => {}
        Ok(false) => {
            for option in options {
                let m = onboarding::owner_missing(option, subscription_id);
                diags.attribute_error(
                    AttrPath::root(m.block).attr(option.attribute),
                    m.summary,
                    m.detail,
                );
            }
        }
        Err(e) => diags.attribute_warning(
            AttrPath::root(SUBSCRIPTION_ID),
            "Cannot check for Owner rights",
            format!(
                "Arc auto-provisioning needs the Owner role on subscription {subscription_id}, and \
                 the role assignments of the identity Terraform runs as could not be read to check \
                 it: {e}"
            ),
        ),
    }
}

/// Reads every pricing named in `required` or `previous`; names the service does not know are
/// left out (reconcile notes them).
async fn read_current(
    arm: &ArmClient,
    subscription_id: &str,
    required: &[RequiredPricing],
    previous: &[ChangedPricing],
) -> Result<BTreeMap<String, Pricing>, AzureError> {
    let names: BTreeSet<String> = required
        .iter()
        .map(|r| r.name.to_owned())
        .chain(previous.iter().map(|c| c.name.clone()))
        .collect();
    let mut out = BTreeMap::new();
    for name in names {
        if let Some(p) = arm.pricing(subscription_id, &name).await? {
            out.insert(name, p);
        }
    }
    Ok(out)
}

/// Performs the writes of `r` in order; returns the new settings by name and the index of the
/// write that failed, if one did (the ones after it were not attempted).
async fn write(
    arm: &ArmClient,
    subscription_id: &str,
    r: &Reconciliation,
    current: &BTreeMap<String, Pricing>,
    diags: &mut Diagnostics,
) -> (BTreeMap<String, PricingSetting>, Option<usize>) {
    let mut written = BTreeMap::new();
    for (i, (name, target)) in r.writes.iter().enumerate() {
        // Raising a plan that is already on keeps its extension choices. A plan switched on
        // from Free, switched off, or lowered gets the service's defaults: the extensions of a
        // higher sub-plan are not part of a lower one.
        let keep = current
            .get(name)
            .filter(|p| {
                let now = setting_of(p);
                now.tier == PricingTier::Standard && target.includes(name, &now)
            })
            .map(|p| p.properties.extensions.clone())
            .unwrap_or_default();
        let body = Pricing::update(target.tier.as_str(), target.sub_plan.as_deref(), keep);
        tracing::info!(pricing = %name, to = %target.label(), "writing Defender plan pricing");
        match arm.put_pricing(subscription_id, name, &body).await {
            Ok(p) => {
                let failed = p.failed_extensions();
                if !failed.is_empty() {
                    diags.warning(
                        format!("Some extensions of the {name} plan were not applied"),
                        format!(
                            "Defender for Cloud set the pricing `{name}` on subscription \
                             {subscription_id} but reports: {}.",
                            failed.join("; ")
                        ),
                    );
                }
                written.insert(name.clone(), setting_of(&p));
            }
            Err(e) => {
                if let Some(p) = applied_anyway(arm, subscription_id, name, target, &e).await {
                    tracing::info!(pricing = %name, error = %e, "the pricing write failed, yet the pricing holds what it wrote");
                    written.insert(name.clone(), setting_of(&p));
                    continue;
                }
                errors::azure(
                    diags,
                    &format!("Cannot set the Defender plan pricing {name}"),
                    &e,
                );
                return (written, Some(i));
            }
        }
    }
    (written, None)
}

/// Whether a failed write may still have been applied: the request went out and its answer
/// was lost (a broken connection, a timeout), or the service failed after accepting it (5xx).
/// Only a connection never made, or a request never built, rules it out. A TLS failure does
/// not: a peer hanging up mid-answer is reported as a missing TLS `close_notify`.
fn may_have_taken_effect(e: &AzureError) -> bool {
    use crate::http::TransportFailure::{Config, Connect, Dns};
    match e {
        AzureError::Transport { kind, .. } => !matches!(kind, Connect | Dns | Config),
        AzureError::Transient(_) => true,
        _ => false,
    }
}

/// Whether a write that failed with `e` took effect all the same: a PUT the service applied
/// whose answer was lost is an error to the caller, yet the pricing changed. Unless it is
/// recorded as written, state would say the plan set changed nothing, and destroy would leave
/// the plan switched on. The pricing is read back, and counts as written only when the error
/// leaves room for it and it now holds exactly what was written (the write was made only
/// because it held something else).
async fn applied_anyway(
    arm: &ArmClient,
    subscription_id: &str,
    name: &str,
    target: &PricingSetting,
    e: &AzureError,
) -> Option<Pricing> {
    if !may_have_taken_effect(e) {
        return None;
    }
    // The connection that lost the answer may not be the last to break: a few reads, so one
    // more broken connection does not turn a write that happened into one that did not.
    for _ in 0..READ_BACK_ATTEMPTS {
        match arm.pricing(subscription_id, name).await {
            Ok(now) => return now.filter(|p| holds(p, target)),
            Err(_) => tokio::time::sleep(READ_BACK_PAUSE).await,
        }
    }
    None
}

/// Reads of a pricing whose write failed, to learn whether the write took effect.
const READ_BACK_ATTEMPTS: usize = 3;
const READ_BACK_PAUSE: std::time::Duration = std::time::Duration::from_millis(500);

/// Whether the pricing read back holds `target`.
fn holds(now: &Pricing, target: &PricingSetting) -> bool {
    setting_of(now).same_as(target)
}

/// The state after the writes: written pricings at what the service answered, pricings whose
/// write failed (or never ran) at what they were, with their earlier restore record.
fn settle(
    r: &Reconciliation,
    previous: &[ChangedPricing],
    current: &BTreeMap<String, PricingSetting>,
    written: &BTreeMap<String, PricingSetting>,
    failed_at: Option<usize>,
) -> (Vec<(String, PricingSetting)>, Vec<ChangedPricing>) {
    let pending: BTreeSet<&str> = failed_at
        .map(|i| r.writes[i..].iter().map(|(n, _)| n.as_str()).collect())
        .unwrap_or_default();
    let ensured = r
        .ensured
        .iter()
        .map(|(n, s)| {
            let now = if pending.contains(n.as_str()) {
                current.get(n).cloned()
            } else {
                written.get(n).cloned()
            };
            (n.clone(), now.unwrap_or_else(|| s.clone()))
        })
        .collect();
    let mut changed: Vec<ChangedPricing> = r
        .changed
        .iter()
        .filter(|c| !pending.contains(c.name.as_str()))
        .map(|c| ChangedPricing {
            applied: written.get(&c.name).cloned().unwrap_or(c.applied.clone()),
            ..c.clone()
        })
        .collect();
    changed.extend(
        previous
            .iter()
            .filter(|c| pending.contains(c.name.as_str()))
            .cloned(),
    );
    changed.sort_by(|a, b| a.name.cmp(&b.name));
    (ensured, changed)
}

fn warn_notes(r: &Reconciliation, diags: &mut Diagnostics) {
    for note in &r.notes {
        diags.attribute_warning(
            AttrPath::root(PREVIOUS),
            "Defender plan changed outside Terraform",
            note.clone(),
        );
    }
}

/// Create and update: brings the subscription's pricings to what `out`'s plans need and
/// records the result in `out`. `prior` is the state before an update. Returns false when the
/// apply failed before changing anything, so there is no new state to keep.
pub(crate) async fn apply(
    clients: &ProviderClients,
    prior: Option<&Value>,
    out: &mut Value,
    diags: &mut Diagnostics,
) -> bool {
    let Some(sub) = out.get(SUBSCRIPTION_ID).as_str().map(str::to_owned) else {
        out.set_attr(ENSURED, Value::Null);
        out.set_attr(PREVIOUS, Value::Null);
        return true;
    };
    let required = needs(out).unwrap_or_default();
    let previous = prior
        .filter(|p| same_subscription(p, out))
        .map(previous_of)
        .unwrap_or_default();
    if required.is_empty() && previous.is_empty() {
        out.set_attr(ENSURED, Value::list([]));
        out.set_attr(PREVIOUS, Value::list([]));
        return true;
    }
    let Some(arm) = clients.azure(diags).await else {
        return false;
    };
    if let Err(e) = arm.ensure_registered_on(&sub, &[SECURITY_NAMESPACE]).await {
        errors::azure(
            diags,
            "Cannot use Microsoft.Security on the subscription",
            &e,
        );
        return false;
    }
    let raw = match read_current(arm, &sub, &required, &previous).await {
        Ok(r) => r,
        Err(e) => {
            errors::azure(diags, "Cannot read the subscription's Defender plans", &e);
            return false;
        }
    };
    let current: BTreeMap<String, PricingSetting> = raw
        .iter()
        .map(|(k, p)| (k.clone(), setting_of(p)))
        .collect();
    let r = onboarding::reconcile(&required, &current, &previous);
    warn_notes(&r, diags);
    let (written, failed_at) = write(arm, &sub, &r, &raw, diags).await;
    let (ensured, changed) = settle(&r, &previous, &current, &written, failed_at);
    out.set_attr(ENSURED, ensured_value(&ensured));
    out.set_attr(PREVIOUS, previous_value(&changed));
    failed_at.is_none() || !written.is_empty()
}

/// Read: refreshes `subscription_pricings` so that a change made elsewhere shows in the plan.
pub(crate) async fn refresh(clients: &ProviderClients, state: &mut Value, diags: &mut Diagnostics) {
    let Some(sub) = state.get(SUBSCRIPTION_ID).as_str().map(str::to_owned) else {
        return;
    };
    let Some(required) = needs(state) else {
        return;
    };
    if required.is_empty() {
        state.set_attr(ENSURED, Value::list([]));
        return;
    }
    let Some(arm) = clients.azure(diags).await else {
        return;
    };
    match read_current(arm, &sub, &required, &[]).await {
        Ok(raw) => {
            let entries: Vec<(String, PricingSetting)> = required
                .iter()
                .map(|r| {
                    let s = raw
                        .get(r.name)
                        .map_or_else(PricingSetting::free, setting_of);
                    (r.name.to_owned(), s)
                })
                .collect();
            state.set_attr(ENSURED, ensured_value(&entries));
        }
        Err(e) => errors::azure(diags, "Cannot read the subscription's Defender plans", &e),
    }
}

/// Delete: puts back every pricing this plan set changed and that still holds what it set.
pub(crate) async fn restore(clients: &ProviderClients, state: &Value, diags: &mut Diagnostics) {
    let Some(sub) = state.get(SUBSCRIPTION_ID).as_str() else {
        return;
    };
    let previous = previous_of(state);
    if previous.is_empty() {
        return;
    }
    let Some(arm) = clients.azure(diags).await else {
        return;
    };
    let raw = match read_current(arm, sub, &[], &previous).await {
        Ok(r) => r,
        Err(e) => {
            errors::azure(diags, "Cannot read the subscription's Defender plans", &e);
            return;
        }
    };
    let current = raw
        .iter()
        .map(|(k, p)| (k.clone(), setting_of(p)))
        .collect();
    let r = onboarding::reconcile(&[], &current, &previous);
    warn_notes(&r, diags);
    let _ = write(arm, sub, &r, &raw, diags).await;
}

/// Import: nothing was changed by this plan set, so nothing is to be put back; read fills in
/// `subscription_pricings`.
pub(crate) fn imported(value: &mut Value) {
    let has_sub = !value.get(SUBSCRIPTION_ID).is_null();
    value.set_attr(ENSURED, Value::Null);
    value.set_attr(
        PREVIOUS,
        if has_sub {
            Value::list([])
        } else {
            Value::Null
        },
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "defender_plan_set_pricings_tests.rs"]
mod tests;
