use super::*;
use crate::protocol::Diagnostics;

fn config(inventory: Value, arc: Value) -> Value {
    Value::object([
        ("name", Value::from("aws-prod")),
        ("location", Value::from("East US")),
        ("aws_account_id", Value::from("123456789012")),
        ("inventory", inventory),
        ("arc_onboarding", arc),
    ])
}

fn paths(diags: &Diagnostics) -> Vec<String> {
    diags
        .iter()
        .map(|d| {
            d.attribute
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn bad_solution_settings_name_their_attribute() {
    let inventory = Value::object([
        ("services", Value::string_set(["ec2", "s4"])),
        ("sync_interval_hours", Value::from(25_i64)),
    ]);
    let arc = Value::object([
        ("connectivity", Value::from("proxy")),
        ("proxy_url", Value::from("proxy.example.com")),
        ("regions", Value::string_set(["US East"])),
    ]);
    let mut diags = Diagnostics::new();
    check(&config(inventory, arc), &mut diags);
    let p = paths(&diags);
    for want in [
        "inventory.services",
        "inventory.sync_interval_hours",
        "arc_onboarding.proxy_url",
        "arc_onboarding.regions",
    ] {
        assert!(p.iter().any(|x| x == want), "{want} missing from {p:?}");
    }
}

#[test]
fn proxy_needs_url_and_region_must_be_supported() {
    let arc = Value::object([("connectivity", Value::from("proxy"))]);
    let mut c = config(Value::Null, arc);
    c.set_attr("location", "westindia");
    let mut diags = Diagnostics::new();
    check(&c, &mut diags);
    let p = paths(&diags);
    assert!(p.contains(&"arc_onboarding.proxy_url".to_string()), "{p:?}");
    assert!(p.contains(&"location".to_string()), "{p:?}");
}

#[test]
fn settings_round_trip_and_keep_defaults_out() {
    let arc = Value::object([
        ("connectivity", Value::from("proxy")),
        ("proxy_url", Value::from("http://proxy:3128")),
        ("regions", Value::string_set(["us-east-1", "eu-west-1"])),
        ("periodic_sync", Value::from(true)),
        ("sync_interval_hours", Value::from(6_i64)),
    ]);
    let all = solutions(&config(Value::Null, arc.clone()));
    assert_eq!(all.len(), 1);
    let s = &all[0].solution_settings;
    assert_eq!(s["connectivityMethod"], "ProxyServer");
    assert_eq!(s["cloudProviderRegions"], "eu-west-1,us-east-1");
    assert_eq!(s["periodicSyncTime"], "6");
    // No prior: the block is rebuilt from the settings alone.
    let rebuilt = block_from_settings(ARC_ONBOARDING, s, &Value::Null);
    assert_eq!(rebuilt, arc);
    // A prior asking for the same settings is kept as written.
    let prior = Value::object([
        ("periodic_sync", Value::from(true)),
        ("sync_interval_hours", Value::from(1_i64)),
    ]);
    let inv = solutions(&config(prior.clone(), Value::Null));
    assert_eq!(
        block_from_settings(INVENTORY, &inv[0].solution_settings, &prior),
        prior
    );
    // Drift (interval changed outside Terraform) shows.
    let mut drifted = inv[0].solution_settings.clone();
    drifted.insert("periodicSyncTime".into(), "12".into());
    assert_eq!(
        block_from_settings(INVENTORY, &drifted, &prior)
            .get("sync_interval_hours")
            .as_i64(),
        Some(12)
    );
}
