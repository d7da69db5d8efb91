//! Pins what each plan and option needs of the subscription, how settings compare, the wording
//! of what to enable, and how pricings are raised and put back.

use std::collections::BTreeMap;

use super::plans::*;
use super::prerequisites::*;
use super::{PlanSet, offerings_json};

fn plans(f: impl FnOnce(&mut PlanSetSpec)) -> PlanSet {
    let mut spec = PlanSetSpec::default();
    f(&mut spec);
    PlanSet::new(&spec).unwrap()
}

fn servers(plan: &str, arc: Option<bool>) -> Option<ServersSpec> {
    Some(ServersSpec {
        plan: Some(plan.into()),
        arc_auto_provisioning: arc,
        ..ServersSpec::default()
    })
}

fn databases(arc: Option<bool>) -> Option<DatabasesSpec> {
    Some(DatabasesSpec {
        arc_auto_provisioning: arc,
        ..DatabasesSpec::default()
    })
}

/// `(pricing, sub-plan, block)`.
type Need = (&'static str, Option<&'static str>, &'static str);

/// A [`Need`] per required pricing and `block.attribute` per Owner option.
fn summary(p: &Prerequisites) -> (Vec<Need>, Vec<String>) {
    (
        p.pricings
            .iter()
            .map(|r| (r.name, r.sub_plan, r.block))
            .collect(),
        p.owner_options
            .iter()
            .map(|o| format!("{}.{}", o.block, o.attribute))
            .collect(),
    )
}

fn std(sub_plan: Option<&str>) -> PricingSetting {
    PricingSetting::new(PricingTier::Standard, sub_plan)
}

fn each_plan_and_option() -> Vec<PlanSet> {
    vec![
        PlanSet::foundational(),
        plans(|s| s.defender_cspm = Some(DefenderCspmSpec::default())),
        plans(|s| s.containers = Some(ContainersSpec::default())),
        plans(|s| s.servers = servers("P1", None)),
        plans(|s| s.servers = servers("P2", None)),
        plans(|s| s.servers = servers("P1", Some(false))),
        plans(|s| s.servers = servers("P2", Some(false))),
        plans(|s| s.databases = databases(None)),
        plans(|s| s.databases = databases(Some(false))),
        plans(|s| {
            s.defender_cspm = Some(DefenderCspmSpec::default());
            s.servers = servers("P2", None);
            s.containers = Some(ContainersSpec::default());
            s.databases = databases(None);
        }),
    ]
}

#[test]
fn each_plan_and_option_needs_exactly_these() {
    let got: Vec<_> = each_plan_and_option()
        .iter()
        .map(|p| summary(&prerequisites(p)))
        .collect();
    let arc = |b: &str| vec![format!("{b}.arc_auto_provisioning")];
    let vm = |p| ("VirtualMachines", Some(p), "servers");
    let sql = ("SqlServerVirtualMachines", None, "databases");
    let expected = vec![
        (vec![], vec![]),
        (vec![], vec![]),
        (vec![], vec![]),
        (vec![vm("P1")], arc("servers")),
        (vec![vm("P2")], arc("servers")),
        (vec![vm("P1")], vec![]),
        (vec![vm("P2")], vec![]),
        (vec![sql], arc("databases")),
        (vec![sql], vec![]),
        (
            vec![vm("P2"), sql],
            vec![
                "servers.arc_auto_provisioning".to_owned(),
                "databases.arc_auto_provisioning".to_owned(),
            ],
        ),
    ];
    assert_eq!(got, expected);
}

#[test]
fn offerings_need_what_their_plan_set_needs() {
    for p in each_plan_and_option() {
        let offerings: serde_json::Value =
            serde_json::from_str(&offerings_json(&p, &BTreeMap::new())).unwrap();
        assert_eq!(
            prerequisites_from_offerings(&offerings),
            prerequisites(&p),
            "{offerings}"
        );
    }
    let no_sub_plan = serde_json::json!([{"offeringType": "DefenderForServersAws"}, {"offeringType": "CspmMonitorGcp"}]);
    assert_eq!(
        summary(&prerequisites_from_offerings(&no_sub_plan)).0,
        [("VirtualMachines", Some("P2"), "servers")]
    );
    assert_eq!(
        prerequisites_from_offerings(&serde_json::json!("not a list")),
        Prerequisites::default()
    );
}

#[test]
fn a_setting_satisfies_a_need_at_or_above_it() {
    let p1 = &prerequisites(&plans(|s| s.servers = servers("P1", None))).pricings[0];
    let p2 = &prerequisites(&plans(|s| s.servers = servers("P2", None))).pricings[0];
    let sql = &prerequisites(&plans(|s| s.databases = databases(None))).pricings[0];
    let cases = [
        (PricingSetting::free(), [false, false, false]),
        (std(Some("P1")), [true, false, true]),
        (std(Some("p2")), [true, true, true]),
        // No sub-plan is the full plan.
        (std(None), [true, true, true]),
        // A sub-plan this version does not know is never taken for enough.
        (std(Some("P9")), [false, false, true]),
    ];
    for (setting, want) in cases {
        let got = [
            setting.satisfies(p1),
            setting.satisfies(p2),
            setting.satisfies(sql),
        ];
        assert_eq!(got, want, "{}", setting.label());
    }
    assert_eq!(
        PricingSetting::new(PricingTier::Free, Some("P2")),
        PricingSetting::free()
    );
    let vm = "VirtualMachines";
    let includes = |a: &PricingSetting, b: &PricingSetting| a.includes(vm, b);
    assert!(includes(&std(Some("P2")), &std(Some("P1"))));
    assert!(includes(&std(Some("P1")), &std(Some("P1"))));
    assert!(includes(&std(None), &std(Some("P2"))));
    assert!(includes(&std(Some("P1")), &PricingSetting::free()));
    assert!(!includes(&std(Some("P1")), &std(Some("P2"))));
    assert!(!includes(&PricingSetting::free(), &std(Some("P1"))));
    assert_eq!(PricingTier::parse("standard"), Some(PricingTier::Standard));
    assert_eq!(PricingTier::parse("Premium"), None);
}

fn listed(name: &str, setting: PricingSetting) -> SubscriptionPricing {
    SubscriptionPricing {
        name: name.into(),
        setting,
        deprecated: false,
        replaced_by: Vec::new(),
    }
}

#[test]
fn missing_prerequisites_say_what_to_enable_and_where() {
    let all = prerequisites(&plans(|s| {
        s.servers = servers("P2", None);
        s.databases = databases(None);
    }));
    let sub = "22222222-2222-4222-8222-222222222222";
    let pricings = [listed("virtualmachines", std(Some("P1")))];
    let missing = missing_prerequisites(&all, sub, &pricings, Some(false));
    let got: Vec<_> = missing
        .iter()
        .map(|m| (m.block, m.attribute, m.pricing, m.summary.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "servers",
                None,
                Some("VirtualMachines"),
                "Defender for Servers Plan 2 is not enabled"
            ),
            (
                "databases",
                None,
                Some("SqlServerVirtualMachines"),
                "Defender for SQL servers on machines is not enabled"
            ),
            (
                "servers",
                Some("arc_auto_provisioning"),
                None,
                "Azure Arc auto-provisioning needs Owner on the subscription"
            ),
            (
                "databases",
                Some("arc_auto_provisioning"),
                None,
                "Azure Arc auto-provisioning needs Owner on the subscription"
            ),
        ]
    );
    assert_eq!(
        missing[0].detail,
        "Defender for Servers Plan 2 must be enabled on subscription \
         22222222-2222-4222-8222-222222222222 for the AWS connector's `servers` plan (pricing \
         `VirtualMachines` at Standard/P2; it is Standard/P1 now). Set `subscription_id = \
         \"22222222-2222-4222-8222-222222222222\"` on the `multicloud_defender_plan_set` so that \
         Terraform enables it, or enable it in Defender for Cloud > Environment settings > \
         22222222-2222-4222-8222-222222222222 > Defender plans."
    );
    assert!(
        missing[1].detail.contains("it is Free now"),
        "a pricing the list lacks counts as free: {}",
        missing[1].detail
    );
    assert!(
        missing[2]
            .detail
            .contains("set `arc_auto_provisioning = false`"),
        "{}",
        missing[2].detail
    );

    // Met (P2 covers P1, the full plan covers P2), and Owner not known: nothing to say.
    let p1 = prerequisites(&plans(|s| s.servers = servers("P1", None)));
    for setting in [std(Some("P2")), std(None)] {
        let pricings = [listed("VirtualMachines", setting)];
        assert!(missing_prerequisites(&p1, sub, &pricings, None).is_empty());
        assert!(missing_prerequisites(&p1, sub, &pricings, Some(true)).is_empty());
    }
}

#[test]
fn a_deprecated_pricing_is_named_with_its_replacement() {
    let needs = prerequisites(&plans(|s| s.databases = databases(Some(false))));
    let mut p = listed("SqlServerVirtualMachines", PricingSetting::free());
    p.deprecated = true;
    p.replaced_by = vec!["Databases".into()];
    let missing = missing_prerequisites(&needs, "s", &[p], Some(true));
    assert_eq!(missing.len(), 1);
    assert!(
        missing[0]
            .detail
            .ends_with("reports `SqlServerVirtualMachines` as deprecated (replaced by Databases)."),
        "{}",
        missing[0].detail
    );
}

fn current(entries: &[(&str, PricingSetting)]) -> BTreeMap<String, PricingSetting> {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn changed(name: &str, found: PricingSetting, applied: PricingSetting) -> ChangedPricing {
    ChangedPricing {
        name: name.into(),
        found,
        applied,
    }
}

fn need(plan: &str) -> Vec<RequiredPricing> {
    prerequisites(&plans(|s| s.servers = servers(plan, None))).pricings
}

const VM: &str = "VirtualMachines";

#[test]
fn a_free_pricing_is_raised_and_remembered() {
    let r = reconcile(&need("P2"), &current(&[(VM, PricingSetting::free())]), &[]);
    assert_eq!(r.writes, [(VM.to_owned(), std(Some("P2")))]);
    assert_eq!(r.ensured, [(VM.to_owned(), std(Some("P2")))]);
    assert_eq!(
        r.changed,
        [changed(VM, PricingSetting::free(), std(Some("P2")))]
    );
    assert!(r.notes.is_empty());
}

#[test]
fn a_higher_pricing_is_never_lowered_nor_claimed() {
    for found in [std(Some("P2")), std(None)] {
        let cur = current(&[(VM, found.clone())]);
        let r = reconcile(&need("P1"), &cur, &[]);
        assert!(r.writes.is_empty());
        assert!(r.changed.is_empty());
        assert_eq!(r.ensured, [(VM.to_owned(), found)]);
        // Destroy: nothing was changed, so nothing is put back.
        assert_eq!(reconcile(&[], &cur, &r.changed), Reconciliation::default());
    }
}

#[test]
fn destroy_puts_back_what_was_found() {
    let ours = [changed(VM, PricingSetting::free(), std(Some("P2")))];
    let r = reconcile(&[], &current(&[(VM, std(Some("P2")))]), &ours);
    assert_eq!(r.writes, [(VM.to_owned(), PricingSetting::free())]);
    assert!(r.changed.is_empty() && r.ensured.is_empty() && r.notes.is_empty());

    // Found P1, raised to P2: put back to P1, not to Free.
    let ours = [changed(VM, std(Some("P1")), std(Some("P2")))];
    let r = reconcile(&[], &current(&[(VM, std(Some("p2")))]), &ours);
    assert_eq!(r.writes, [(VM.to_owned(), std(Some("P1")))]);
}

#[test]
fn a_pricing_changed_by_someone_else_is_left_with_a_note() {
    let ours = [changed(VM, PricingSetting::free(), std(Some("P1")))];
    let r = reconcile(&[], &current(&[(VM, std(Some("P2")))]), &ours);
    assert!(r.writes.is_empty() && r.changed.is_empty());
    assert_eq!(
        r.notes,
        [
            "The pricing `VirtualMachines` was changed outside Terraform since this plan set set it to \
          Standard/P1 (it is Standard/P2 now), so Free is no longer what it puts back."
        ]
    );
    // Still needed and still enough: kept as it is, no longer this plan set's to put back.
    let r = reconcile(&need("P1"), &current(&[(VM, std(Some("P2")))]), &ours);
    assert!(r.writes.is_empty() && r.changed.is_empty());
    assert_eq!(r.ensured, [(VM.to_owned(), std(Some("P2")))]);
    assert_eq!(r.notes.len(), 1);
}

#[test]
fn drift_below_the_need_is_raised_again_and_put_back_later() {
    let ours = [changed(VM, PricingSetting::free(), std(Some("P2")))];
    let cur = current(&[(VM, PricingSetting::free())]);
    let r = reconcile(&need("P2"), &cur, &ours);
    assert_eq!(r.writes, [(VM.to_owned(), std(Some("P2")))]);
    assert_eq!(r.changed, ours);
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
}

#[test]
fn a_lower_need_lowers_only_what_this_plan_set_raised() {
    // Raised Free to P2; the plan set now asks for P1: P1, still to be put back to Free.
    let ours = [changed(VM, PricingSetting::free(), std(Some("P2")))];
    let r = reconcile(&need("P1"), &current(&[(VM, std(Some("P2")))]), &ours);
    assert_eq!(r.writes, [(VM.to_owned(), std(Some("P1")))]);
    assert_eq!(
        r.changed,
        [changed(VM, PricingSetting::free(), std(Some("P1")))]
    );
    // Raised P1 to P2; P1 is asked for now: back to P1, nothing left to put back.
    let ours = [changed(VM, std(Some("P1")), std(Some("P2")))];
    let r = reconcile(&need("P1"), &current(&[(VM, std(Some("P2")))]), &ours);
    assert_eq!(r.writes, [(VM.to_owned(), std(Some("P1")))]);
    assert!(r.changed.is_empty());
    assert_eq!(r.ensured, [(VM.to_owned(), std(Some("P1")))]);
}

#[test]
fn a_pricing_no_longer_needed_is_put_back_and_an_unread_one_kept() {
    let sql = "SqlServerVirtualMachines";
    let ours = [
        changed(sql, PricingSetting::free(), std(None)),
        changed(VM, PricingSetting::free(), std(Some("P2"))),
    ];
    let cur = current(&[(VM, std(Some("P2")))]);
    let r = reconcile(&need("P2"), &cur, &ours);
    assert!(r.writes.is_empty());
    assert_eq!(r.changed, ours, "the unread pricing stays remembered");
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);

    let cur = current(&[(VM, std(Some("P2"))), (sql, std(None))]);
    let r = reconcile(&need("P2"), &cur, &ours);
    assert_eq!(r.writes, [(sql.to_owned(), PricingSetting::free())]);
    assert_eq!(r.changed, ours[1..]);
    assert_eq!(r.ensured, [(VM.to_owned(), std(Some("P2")))]);
}
