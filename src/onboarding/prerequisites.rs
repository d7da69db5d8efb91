//! What AWS plans need on the Azure subscription that holds the connector: Defender plans
//! (`Microsoft.Security/pricings`) at a tier and sub-plan, and, for Arc auto-provisioning, the
//! right to create role assignments (Owner). Pure: the caller reads the subscription and gets
//! back either the missing prerequisites, worded for the user ([`missing_prerequisites`]), or
//! the writes that make them true and how to undo them ([`reconcile`]).
//!
//! Defender for Servers on EC2 needs Defender for Servers on the subscription, at least the
//! sub-plan the connector uses; Defender for SQL on EC2 and RDS Custom for SQL Server needs
//! Defender for SQL servers on machines. Defender CSPM and Defender for Containers for AWS are
//! billed per connector and need no subscription plan.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;

use super::offerings::OfferingType;
use super::plans::{PlanSet, ServersPlan};

/// The pricing that carries Defender for Servers.
pub const SERVERS_PRICING: &str = "VirtualMachines";
/// The pricing that carries Defender for SQL servers on machines (SQL Server on EC2 and RDS
/// Custom for SQL Server reach Defender as Arc-enabled SQL servers).
pub const SQL_MACHINES_PRICING: &str = "SqlServerVirtualMachines";

/// Where users switch plans on by hand.
const PORTAL_PATH: &str = "Defender for Cloud > Environment settings";

/// A pricing tier (`pricingTier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PricingTier {
    /// The plan is off.
    Free,
    /// The plan is on.
    Standard,
}

impl PricingTier {
    /// The API value.
    pub fn as_str(self) -> &'static str {
        match self {
            PricingTier::Free => "Free",
            PricingTier::Standard => "Standard",
        }
    }

    /// Parses an API value, ignoring case; `None` for a tier this version does not know.
    pub fn parse(value: &str) -> Option<Self> {
        [PricingTier::Free, PricingTier::Standard]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(value))
    }
}

impl fmt::Display for PricingTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A pricing's tier and sub-plan. A free plan has no sub-plan; a standard one without a
/// sub-plan is the full plan (what the API applies when none is given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingSetting {
    /// The tier.
    pub tier: PricingTier,
    /// The sub-plan, for a standard tier.
    pub sub_plan: Option<String>,
}

impl PricingSetting {
    /// A setting, normalised: the sub-plan of a free tier is dropped.
    pub fn new(tier: PricingTier, sub_plan: Option<&str>) -> Self {
        let sub_plan = match tier {
            PricingTier::Free => None,
            PricingTier::Standard => sub_plan.filter(|s| !s.is_empty()).map(str::to_owned),
        };
        PricingSetting { tier, sub_plan }
    }

    /// The free tier.
    pub fn free() -> Self {
        PricingSetting::new(PricingTier::Free, None)
    }

    /// Whether this setting gives at least what `need` asks for pricing `need.name`.
    pub fn satisfies(&self, need: &RequiredPricing) -> bool {
        if self.tier != PricingTier::Standard {
            return false;
        }
        match need.sub_plan {
            None => true,
            Some(min) => {
                sub_plan_rank(need.name, self.sub_plan.as_deref())
                    >= sub_plan_rank(need.name, Some(min))
            }
        }
    }

    /// Whether this setting gives at least everything `other` gives, for pricing `pricing`
    /// (a raise or no change, never a lowering).
    pub fn includes(&self, pricing: &str, other: &PricingSetting) -> bool {
        match (self.tier, other.tier) {
            (_, PricingTier::Free) => true,
            (PricingTier::Free, PricingTier::Standard) => false,
            (PricingTier::Standard, PricingTier::Standard) => {
                sub_plan_rank(pricing, self.sub_plan.as_deref())
                    >= sub_plan_rank(pricing, other.sub_plan.as_deref())
            }
        }
    }

    /// `Standard/P2`, `Standard` or `Free`.
    pub fn label(&self) -> String {
        match &self.sub_plan {
            Some(s) => format!("{}/{s}", self.tier),
            None => self.tier.to_string(),
        }
    }

    /// Whether both are the same setting (sub-plan names compared without case).
    pub fn same_as(&self, other: &PricingSetting) -> bool {
        self.tier == other.tier
            && match (&self.sub_plan, &other.sub_plan) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                (a, b) => a.is_none() && b.is_none(),
            }
    }
}

/// The order of a pricing's sub-plans, lowest first; a later one includes the earlier ones.
fn sub_plan_order(pricing: &str) -> &'static [&'static str] {
    if pricing.eq_ignore_ascii_case(SERVERS_PRICING) {
        &["P1", "P2"]
    } else {
        &[]
    }
}

/// How much of a pricing a sub-plan gives: none (the full plan) ranks highest; a sub-plan this
/// version does not know ranks lowest, so it is never taken to satisfy a need.
fn sub_plan_rank(pricing: &str, sub_plan: Option<&str>) -> usize {
    let order = sub_plan_order(pricing);
    match sub_plan {
        None => usize::MAX,
        Some(s) => order
            .iter()
            .position(|p| p.eq_ignore_ascii_case(s))
            .map_or(0, |i| i + 1),
    }
}

/// One Defender plan an AWS plan needs on the subscription, at tier Standard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredPricing {
    /// The pricing name, e.g. `VirtualMachines`.
    pub name: &'static str,
    /// The lowest sub-plan that will do, when the pricing has sub-plans.
    pub sub_plan: Option<&'static str>,
    /// The Defender plan as the portal names it, e.g. `Defender for Servers Plan 2`.
    pub display_name: &'static str,
    /// The plan set block that needs it (`servers`, `databases`).
    pub block: &'static str,
}

impl RequiredPricing {
    /// The setting that meets this need exactly.
    pub fn setting(&self) -> PricingSetting {
        PricingSetting::new(PricingTier::Standard, self.sub_plan)
    }
}

/// An option that only a subscription Owner (someone who may create role assignments) can
/// switch on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerOption {
    /// The plan set block (`servers`, `databases`).
    pub block: &'static str,
    /// The attribute in that block (`arc_auto_provisioning`).
    pub attribute: &'static str,
    /// The option as the portal names it.
    pub display_name: &'static str,
}

/// Everything a plan set needs of the subscription.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prerequisites {
    /// Defender plans, one per pricing name.
    pub pricings: Vec<RequiredPricing>,
    /// Options that need Owner rights on the subscription.
    pub owner_options: Vec<OwnerOption>,
}

fn servers_pricing(plan: ServersPlan) -> RequiredPricing {
    let (sub_plan, display_name) = match plan {
        ServersPlan::P1 => ("P1", "Defender for Servers Plan 1"),
        ServersPlan::P2 => ("P2", "Defender for Servers Plan 2"),
    };
    RequiredPricing {
        name: SERVERS_PRICING,
        sub_plan: Some(sub_plan),
        display_name,
        block: "servers",
    }
}

fn sql_pricing() -> RequiredPricing {
    RequiredPricing {
        name: SQL_MACHINES_PRICING,
        sub_plan: None,
        display_name: "Defender for SQL servers on machines",
        block: "databases",
    }
}

fn arc_option(block: &'static str) -> OwnerOption {
    OwnerOption {
        block,
        attribute: "arc_auto_provisioning",
        display_name: "Azure Arc auto-provisioning",
    }
}

/// What `plans` needs of the subscription.
pub fn prerequisites(plans: &PlanSet) -> Prerequisites {
    let mut out = Prerequisites::default();
    if let Some(s) = &plans.servers {
        out.pricings.push(servers_pricing(s.plan));
        if s.arc_auto_provisioning {
            out.owner_options.push(arc_option("servers"));
        }
    }
    if let Some(d) = &plans.databases {
        out.pricings.push(sql_pricing());
        if d.arc_auto_provisioning {
            out.owner_options.push(arc_option("databases"));
        }
    }
    out
}

/// What a connector's `offerings` array (api-version `2024-08-01-preview`, as the plan set's
/// `offerings` attribute holds it) needs of the subscription. Entries this version does not know
/// are ignored; a Servers offering without `subPlan` counts as Plan 2, the full plan.
pub fn prerequisites_from_offerings(offerings: &Json) -> Prerequisites {
    let mut out = Prerequisites::default();
    let items = offerings.as_array().map(Vec::as_slice).unwrap_or_default();
    let arc_on = |o: &Json| o.pointer("/arcAutoProvisioning/enabled") == Some(&Json::Bool(true));
    for o in items {
        match o.get("offeringType").and_then(Json::as_str) {
            Some(t) if t == OfferingType::DefenderForServersAws.as_str() => {
                let plan = match o.pointer("/subPlan/type").and_then(Json::as_str) {
                    Some(p) if p.eq_ignore_ascii_case("P1") => ServersPlan::P1,
                    _ => ServersPlan::P2,
                };
                out.pricings.push(servers_pricing(plan));
                if arc_on(o) {
                    out.owner_options.push(arc_option("servers"));
                }
            }
            Some(t) if t == OfferingType::DefenderForDatabasesAws.as_str() => {
                out.pricings.push(sql_pricing());
                if arc_on(o) {
                    out.owner_options.push(arc_option("databases"));
                }
            }
            _ => {}
        }
    }
    out
}

/// One pricing as read from the subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionPricing {
    /// The pricing name.
    pub name: String,
    /// Its tier and sub-plan.
    pub setting: PricingSetting,
    /// Whether the API marks the plan deprecated.
    pub deprecated: bool,
    /// The plans that replace a deprecated one.
    pub replaced_by: Vec<String>,
}

/// A prerequisite the subscription does not meet, worded for a diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPrerequisite {
    /// The plan set block whose plan needs it (`servers`, `databases`).
    pub block: &'static str,
    /// The attribute in that block the need comes from, when one option causes it
    /// (`arc_auto_provisioning`); `None` when the plan itself does.
    pub attribute: Option<&'static str>,
    /// The pricing at fault; `None` for a permission.
    pub pricing: Option<&'static str>,
    /// Diagnostic summary.
    pub summary: String,
    /// What to enable, where, and how Terraform can do it.
    pub detail: String,
}

impl fmt::Display for MissingPrerequisite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.summary, self.detail)
    }
}

/// The prerequisites in `needs` that subscription `subscription_id` does not meet, given its
/// `pricings` (the `Pricings_List` answer; a pricing missing from it counts as free) and whether
/// the caller may create role assignments there (`None`: not known, not reported).
pub fn missing_prerequisites(
    needs: &Prerequisites,
    subscription_id: &str,
    pricings: &[SubscriptionPricing],
    may_assign_roles: Option<bool>,
) -> Vec<MissingPrerequisite> {
    let mut out = Vec::new();
    for need in &needs.pricings {
        let found = pricings
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(need.name));
        let setting = found.map_or_else(PricingSetting::free, |p| p.setting.clone());
        if setting.satisfies(need) {
            continue;
        }
        let wanted = need.setting();
        let mut detail = format!(
            "{} must be enabled on subscription {subscription_id} for the AWS connector's `{}` plan \
             (pricing `{}` at {}; it is {} now). Set `subscription_id = \"{subscription_id}\"` on the \
             `multicloud_defender_plan_set` so that Terraform enables it, or enable it in {PORTAL_PATH} \
             > {subscription_id} > Defender plans.",
            need.display_name,
            need.block,
            need.name,
            wanted.label(),
            setting.label(),
        );
        if let Some(p) = found.filter(|p| p.deprecated) {
            detail.push_str(&format!(
                " The subscription reports `{}` as deprecated (replaced by {}).",
                p.name,
                p.replaced_by.join(", ")
            ));
        }
        out.push(MissingPrerequisite {
            block: need.block,
            attribute: None,
            pricing: Some(need.name),
            summary: format!("{} is not enabled", need.display_name),
            detail,
        });
    }
    if may_assign_roles == Some(false) {
        for option in &needs.owner_options {
            out.push(owner_missing(option, subscription_id));
        }
    }
    out
}

/// The diagnostic for an Owner-only option the caller cannot switch on.
pub fn owner_missing(option: &OwnerOption, subscription_id: &str) -> MissingPrerequisite {
    MissingPrerequisite {
        block: option.block,
        attribute: Some(option.attribute),
        pricing: None,
        summary: format!("{} needs Owner on the subscription", option.display_name),
        detail: format!(
            "{} (`{}.{}`) needs the Owner role on subscription {subscription_id} (Defender creates a \
             role assignment for the Arc onboarding), and the identity Terraform runs as cannot \
             create role assignments there. Have an Owner run this, assign Owner (or User Access \
             Administrator in addition to Contributor) to the identity, or set `{} = false` and \
             install Azure Arc on the instances yourself.",
            option.display_name, option.block, option.attribute, option.attribute
        ),
    }
}

/// A pricing this plan set changed: what it found, to put back, and what it set, to recognise
/// a later change by someone else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedPricing {
    /// The pricing name.
    pub name: String,
    /// The setting found before the first change.
    pub found: PricingSetting,
    /// The setting this plan set last wrote.
    pub applied: PricingSetting,
}

/// The outcome of [`reconcile`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciliation {
    /// The PUTs to make, in order: pricing name and the setting to write.
    pub writes: Vec<(String, PricingSetting)>,
    /// Each required pricing and its setting once the writes are done.
    pub ensured: Vec<(String, PricingSetting)>,
    /// The pricings this plan set has changed afterwards, by name.
    pub changed: Vec<ChangedPricing>,
    /// Things the user should know: pricings changed by someone else since this plan set set
    /// them, or not readable.
    pub notes: Vec<String>,
}

/// Brings the subscription's pricings to what `required` needs, never lowering a pricing that
/// already gives more, and puts back what this plan set changed but no longer needs (all of it
/// when `required` is empty, as on destroy). `current` holds every pricing named in `required`
/// or `changed`; `changed` is what this plan set changed before.
///
/// A pricing counts as this plan set's only while it still holds what the plan set wrote; once
/// someone else changes it, their setting is what the plan set starts from and puts back.
pub fn reconcile(
    required: &[RequiredPricing],
    current: &BTreeMap<String, PricingSetting>,
    changed: &[ChangedPricing],
) -> Reconciliation {
    let mut names: Vec<&str> = required.iter().map(|r| r.name).collect();
    let mut extra: Vec<&str> = changed
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| !names.iter().any(|r| r.eq_ignore_ascii_case(n)))
        .collect();
    extra.sort_unstable();
    names.extend(extra);

    let mut out = Reconciliation::default();
    for name in names {
        let need = required.iter().find(|r| r.name.eq_ignore_ascii_case(name));
        let prev = changed.iter().find(|c| c.name.eq_ignore_ascii_case(name));
        let Some(cur) = current
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
        else {
            out.notes.push(format!(
                "The pricing `{name}` was not read from the subscription, so it was left as it is."
            ));
            if let Some(p) = prev {
                out.changed.push(p.clone());
            }
            continue;
        };
        let owned = prev.is_some_and(|p| p.applied.same_as(cur));
        let baseline = match prev {
            Some(p) if owned => p.found.clone(),
            _ => cur.clone(),
        };
        if let Some(p) = prev.filter(|_| !owned) {
            out.notes.push(format!(
                "The pricing `{name}` was changed outside Terraform since this plan set set it to {} \
                 (it is {} now), so {} is no longer what it puts back.",
                p.applied.label(),
                cur.label(),
                p.found.label()
            ));
        }
        let target = match need {
            Some(n) if !baseline.satisfies(n) => n.setting(),
            _ => baseline.clone(),
        };
        if !target.same_as(cur) {
            out.writes.push((name.to_owned(), target.clone()));
        }
        if !target.same_as(&baseline) {
            out.changed.push(ChangedPricing {
                name: name.to_owned(),
                found: baseline,
                applied: target.clone(),
            });
        }
        if need.is_some() {
            out.ensured.push((name.to_owned(), target));
        }
    }
    out.changed.sort_by(|a, b| a.name.cmp(&b.name));
    out
}
