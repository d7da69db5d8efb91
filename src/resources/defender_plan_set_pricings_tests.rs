//! Unit tests of the pricing plan, write and restore logic.

use super::*;
use crate::protocol::{Resource, json};
use crate::resources::DefenderPlanSetResource;

const SUB: &str = "22222222-2222-4222-8222-222222222222";

fn value(text: &str) -> Value {
    let ty = DefenderPlanSetResource.schema().value_type();
    json::decode(text.as_bytes(), &ty).unwrap()
}

async fn plan(config: &Value, prior: Option<Value>) -> (PlanContext, Diagnostics) {
    let mut ctx = PlanContext {
        prior,
        planned: config.clone(),
        config: config.clone(),
        requires_replace: Vec::new(),
    };
    let mut diags = Diagnostics::new();
    DefenderPlanSetResource
        .modify_plan(None, &mut ctx, &mut diags)
        .await;
    (ctx, diags)
}

fn std(sub_plan: Option<&str>) -> PricingSetting {
    PricingSetting::new(PricingTier::Standard, sub_plan)
}

#[tokio::test]
async fn without_a_subscription_nothing_is_planned() {
    let (ctx, diags) = plan(&value(r#"{"servers":{"plan":"P2"}}"#), None).await;
    assert!(diags.is_empty());
    assert!(ctx.planned.get(ENSURED).is_null());
    assert!(ctx.planned.get(PREVIOUS).is_null());
}

#[tokio::test]
async fn a_create_that_writes_is_known_after_apply_and_one_that_cannot_is_known_now() {
    let servers = value(&format!(
        r#"{{"subscription_id":"{SUB}","servers":{{"plan":"P2","arc_auto_provisioning":false}}}}"#
    ));
    let (ctx, diags) = plan(&servers, None).await;
    assert!(diags.is_empty(), "{diags:?}");
    assert!(ctx.planned.get(ENSURED).is_unknown());
    assert!(ctx.planned.get(PREVIOUS).is_unknown());
    assert!(ctx.planned.get("offerings").is_fully_known());

    let cspm = value(&format!(
        r#"{{"subscription_id":"{SUB}","defender_cspm":{{}}}}"#
    ));
    let (ctx, _) = plan(&cspm, None).await;
    assert_eq!(ctx.planned.get(ENSURED), &Value::list([]));
    assert_eq!(ctx.planned.get(PREVIOUS), &Value::list([]));
}

#[tokio::test]
async fn a_met_need_keeps_the_prior_values_and_drift_plans_an_update() {
    let config = value(&format!(
        r#"{{"subscription_id":"{SUB}","servers":{{"plan":"P1"}}}}"#
    ));
    let mut prior = plan(&config, None).await.0.planned;
    prior.set_attr(ENSURED, ensured_value(&[(SERVERS.into(), std(Some("P2")))]));
    prior.set_attr(PREVIOUS, Value::list([]));
    let (ctx, _) = plan(&config, Some(prior.clone())).await;
    assert_eq!(ctx.planned, prior, "P2 covers P1: nothing to do");

    // Someone switched the plan off: the apply will switch it on again.
    prior.set_attr(
        ENSURED,
        ensured_value(&[(SERVERS.into(), PricingSetting::free())]),
    );
    let (ctx, _) = plan(&config, Some(prior)).await;
    assert!(ctx.planned.get(ENSURED).is_unknown());
}

const SERVERS: &str = "VirtualMachines";

#[test]
fn a_malformed_subscription_is_reported_on_its_attribute() {
    let mut diags = Diagnostics::new();
    DefenderPlanSetResource.validate(&value(r#"{"subscription_id":"sub-1"}"#), &mut diags);
    let d = diags.iter().next().expect("a diagnostic");
    assert_eq!(d.attribute, Some(AttrPath::root(SUBSCRIPTION_ID)));
    assert_eq!(d.summary, "Invalid subscription_id");
}

#[test]
fn state_round_trips_through_values() {
    let changed = vec![ChangedPricing {
        name: SERVERS.into(),
        found: PricingSetting::free(),
        applied: std(Some("P2")),
    }];
    let mut state = value("{}");
    state.set_attr(PREVIOUS, previous_value(&changed));
    state.set_attr(ENSURED, ensured_value(&[(SERVERS.into(), std(None))]));
    assert_eq!(previous_of(&state), changed);
    assert_eq!(ensured_of(&state)[SERVERS], std(None));
}

#[test]
fn a_write_whose_answer_was_lost_counts_when_the_pricing_holds_it() {
    let transport = |kind| AzureError::Transport {
        method: "PUT".into(),
        url: "https://management.azure.com/x".into(),
        kind,
        message: "connection closed before message completed".into(),
    };
    use crate::http::TransportFailure;
    assert!(may_have_taken_effect(&transport(
        TransportFailure::Interrupted
    )));
    assert!(may_have_taken_effect(&transport(TransportFailure::Timeout)));
    assert!(
        may_have_taken_effect(&transport(TransportFailure::Tls)),
        "a hang-up over TLS is reported as a TLS failure"
    );
    assert!(
        !may_have_taken_effect(&transport(TransportFailure::Connect)),
        "nothing was sent"
    );
    let details = |status: u16| {
        Box::new(crate::azure::ArmErrorDetails {
            method: "PUT".into(),
            url: "https://management.azure.com/x".into(),
            status,
            code: String::new(),
            message: String::new(),
            target: None,
            request_id: None,
            correlation_id: None,
        })
    };
    assert!(may_have_taken_effect(&AzureError::Transient(details(503))));
    assert!(!may_have_taken_effect(&AzureError::Invalid(details(400))));

    let p2 = Pricing::update("Standard", Some("p2"), Vec::new());
    assert!(holds(&p2, &std(Some("P2"))));
    assert!(
        !holds(&p2, &std(Some("P1"))),
        "another sub-plan is not ours"
    );
    let free = Pricing::update("Free", None, Vec::new());
    assert!(!holds(&free, &std(Some("P2"))), "the write did not land");
    assert!(holds(&free, &PricingSetting::free()));
}

#[test]
fn a_failed_write_keeps_the_earlier_record_of_what_it_did_not_reach() {
    let sql = "SqlServerVirtualMachines";
    let previous = vec![ChangedPricing {
        name: sql.into(),
        found: PricingSetting::free(),
        applied: std(None),
    }];
    let r = Reconciliation {
        writes: vec![
            (SERVERS.into(), std(Some("P2"))),
            (sql.into(), PricingSetting::free()),
        ],
        ensured: vec![(SERVERS.into(), std(Some("P2")))],
        changed: vec![ChangedPricing {
            name: SERVERS.into(),
            found: PricingSetting::free(),
            applied: std(Some("P2")),
        }],
        notes: Vec::new(),
    };
    let current: BTreeMap<String, PricingSetting> = [
        (SERVERS.to_owned(), PricingSetting::free()),
        (sql.to_owned(), std(None)),
    ]
    .into();
    let written = [(SERVERS.to_owned(), std(Some("P2")))].into();
    let (ensured, changed) = settle(&r, &previous, &current, &written, Some(1));
    assert_eq!(ensured, [(SERVERS.to_owned(), std(Some("P2")))]);
    let names: Vec<&str> = changed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [sql, SERVERS],
        "the unreached restore stays on record"
    );

    // Failing on the first write: nothing changed, the pricing stays as it was.
    let (ensured, changed) = settle(&r, &previous, &current, &BTreeMap::new(), Some(0));
    assert_eq!(ensured, [(SERVERS.to_owned(), PricingSetting::free())]);
    assert_eq!(changed, previous);
}
