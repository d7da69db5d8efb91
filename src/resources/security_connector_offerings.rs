//! The security connector's `offerings`: the plan set's JSON with `<role_arn:KEY>` placeholders,
//! the role ARNs it needs, and the comparison of what Azure stores with what the configuration
//! asks for, so server-side additions and ordering never show up as a diff.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value as Json;

use crate::onboarding::{
    self, ContainersSpec, DatabasesSpec, DefenderCspmSpec, OfferingType, PlanSet, PlanSetSpec,
    RoleKey, ServersSpec,
};

/// The AWS offering types the connector API defines.
const AWS_OFFERINGS: [OfferingType; 5] = [
    OfferingType::CspmMonitorAws,
    OfferingType::DefenderCspmAws,
    OfferingType::DefenderForServersAws,
    OfferingType::DefenderForContainersAws,
    OfferingType::DefenderForDatabasesAws,
];

/// Fields Azure fills in on every offering and nobody configures.
const READ_ONLY_FIELDS: [&str; 1] = ["description"];

const PLACEHOLDER_PREFIX: &str = "<role_arn:";

/// A `<role_arn:KEY>` placeholder found in the offerings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placeholder {
    /// `offeringType` of the offering holding it.
    pub(crate) offering: String,
    /// Dotted path of the field inside the offering, e.g. `vmScanners.cloudRoleArn`.
    pub(crate) field: String,
    /// The key between the colon and `>`.
    pub(crate) key: String,
}

impl Placeholder {
    /// The role key, when the text names one.
    pub(crate) fn role_key(&self) -> Option<RoleKey> {
        RoleKey::parse(&self.key)
    }
}

/// Parses the `offerings` attribute: a JSON array of AWS offerings, each type at most once.
pub(crate) fn parse(text: &str) -> Result<Vec<Json>, String> {
    let value: Json = serde_json::from_str(text).map_err(|e| {
        format!(
            "`offerings` is not valid JSON ({e}); pass the `offerings` attribute of a \
             multicloud_defender_plan_set, or a JSON array of connector offerings"
        )
    })?;
    let Json::Array(items) = value else {
        return Err(
            "`offerings` must be a JSON array of offerings, as a multicloud_defender_plan_set's \
                    `offerings` attribute is"
                .to_owned(),
        );
    };
    let names: Vec<&str> = AWS_OFFERINGS.iter().map(|o| o.as_str()).collect();
    let mut seen = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let Some(kind) = item.get("offeringType").and_then(Json::as_str) else {
            return Err(format!(
                "offerings[{i}] has no string `offeringType`; every offering names its type, one of {}",
                names.join(", ")
            ));
        };
        if !names.contains(&kind) {
            return Err(format!(
                "offerings[{i}] has offeringType {kind:?}, which is not an AWS offering; use one of {}",
                names.join(", ")
            ));
        }
        if !seen.insert(kind) {
            return Err(format!(
                "offering type {kind:?} appears more than once; a connector has each offering at most once"
            ));
        }
    }
    Ok(items)
}

/// Every placeholder, in document order.
pub(crate) fn placeholders(offerings: &[Json]) -> Vec<Placeholder> {
    let mut out = Vec::new();
    for offering in offerings {
        let kind = offering_type(offering);
        walk(offering, &mut Vec::new(), &mut |path, text| {
            if let Some(key) = placeholder_key(text) {
                out.push(Placeholder {
                    offering: kind.clone(),
                    field: path.join("."),
                    key: key.to_owned(),
                });
            }
        });
    }
    out
}

/// The offerings with every placeholder replaced by its ARN, or the placeholders that have no
/// ARN in `arns` (unknown keys included).
pub(crate) fn fill(
    offerings: &[Json],
    arns: &BTreeMap<RoleKey, String>,
) -> Result<Vec<Json>, Vec<Placeholder>> {
    let unresolved: Vec<Placeholder> = placeholders(offerings)
        .into_iter()
        .filter(|p| p.role_key().is_none_or(|k| !arns.contains_key(&k)))
        .collect();
    if !unresolved.is_empty() {
        return Err(unresolved);
    }
    let mut doc = Json::Array(offerings.to_vec());
    let missing = onboarding::fill_role_arns(&mut doc, arns);
    debug_assert!(missing.is_empty(), "checked above");
    match doc {
        Json::Array(items) => Ok(items),
        _ => Ok(Vec::new()),
    }
}

/// The offerings as canonical JSON (the plan set's own format).
pub(crate) fn canonical(offerings: &[Json]) -> String {
    onboarding::canonical_json(&Json::Array(offerings.to_vec()))
}

/// The offerings without the fields Azure adds on read.
pub(crate) fn without_read_only(offerings: &[Json]) -> Vec<Json> {
    offerings
        .iter()
        .map(|o| {
            let mut o = o.clone();
            if let Json::Object(map) = &mut o {
                for field in READ_ONLY_FIELDS {
                    map.remove(field);
                }
            }
            o
        })
        .collect()
}

/// Whether Azure's offerings say the same as the wanted ones: offerings are matched by type in
/// any order, read-only fields are ignored, numbers compare by value, and a field one side
/// lacks equals an empty value on the other (`null`, `false`, `""`, `[]`, `{}`), since Azure
/// may drop switched-off settings or add empty defaults.
pub(crate) fn equivalent(remote: &[Json], wanted: &[Json]) -> bool {
    let remote = without_read_only(remote);
    let wanted = without_read_only(wanted);
    let (Some(r), Some(w)) = (by_type(&remote), by_type(&wanted)) else {
        // Duplicates cannot be matched by type; fall back to order.
        return remote.len() == wanted.len() && remote.iter().zip(&wanted).all(|(a, b)| same(a, b));
    };
    let types: BTreeSet<&String> = r.keys().chain(w.keys()).collect();
    types.into_iter().all(|t| match (r.get(t), w.get(t)) {
        (Some(a), Some(b)) => same(a, b),
        _ => false,
    })
}

/// Azure's offerings with each role ARN turned back into its placeholder where `arns` says
/// which role it is, in the plan set's order of offering types, so a drift diff shows what
/// changed rather than every ARN, and an import reproduces the plan set's text.
pub(crate) fn with_placeholders(remote: &[Json], arns: &BTreeMap<RoleKey, String>) -> Vec<Json> {
    let mut by_arn: BTreeMap<&str, Vec<RoleKey>> = BTreeMap::new();
    for (key, arn) in arns {
        by_arn.entry(arn.as_str()).or_default().push(*key);
    }
    let table = arn_field_table();
    let mut ordered = without_read_only(remote);
    ordered.sort_by_key(|o| {
        let kind = offering_type(o);
        AWS_OFFERINGS
            .iter()
            .position(|t| t.as_str() == kind)
            .unwrap_or(AWS_OFFERINGS.len())
    });
    ordered
        .into_iter()
        .map(|mut offering| {
            let kind = offering_type(&offering);
            rewrite(&mut offering, &mut Vec::new(), &mut |path, text| {
                let at_field = table
                    .get(&(kind.clone(), path.join(".")))
                    .filter(|k| arns.get(k).is_some_and(|a| a == text));
                let by_value = match by_arn.get(text).map(Vec::as_slice) {
                    Some([only]) => Some(only),
                    _ => None,
                };
                at_field
                    .or(by_value)
                    .map(|k| onboarding::role_arn_placeholder(*k))
            });
            offering
        })
        .collect()
}

/// The role ARNs Azure's offerings hold, by role key, read from the fields the plan set puts
/// each role's ARN in. A key whose fields disagree is left out.
pub(crate) fn role_arns_in(remote: &[Json]) -> BTreeMap<RoleKey, String> {
    let table = arn_field_table();
    let mut found: BTreeMap<RoleKey, BTreeSet<String>> = BTreeMap::new();
    for offering in remote {
        let kind = offering_type(offering);
        walk(offering, &mut Vec::new(), &mut |path, text| {
            if let Some(key) = table.get(&(kind.clone(), path.join(".")))
                && placeholder_key(text).is_none()
            {
                found.entry(*key).or_default().insert(text.to_owned());
            }
        });
    }
    found
        .into_iter()
        .filter_map(|(k, arns)| match arns.len() {
            1 => arns.into_iter().next().map(|a| (k, a)),
            _ => None,
        })
        .collect()
}

/// Which role's ARN each field holds: (offering type, dotted path) to role key, read off the
/// offerings of a plan set with every plan and option on, so it follows the onboarding domain.
fn arn_field_table() -> &'static BTreeMap<(String, String), RoleKey> {
    static TABLE: OnceLock<BTreeMap<(String, String), RoleKey>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = BTreeMap::new();
        let Ok(everything) = PlanSet::new(&every_plan()) else {
            return table;
        };
        for p in placeholders(&onboarding::offerings(&everything, &BTreeMap::new())) {
            if let Some(key) = p.role_key() {
                table.insert((p.offering, p.field), key);
            }
        }
        table
    })
}

fn every_plan() -> PlanSetSpec {
    PlanSetSpec {
        defender_cspm: Some(DefenderCspmSpec::default()),
        servers: Some(ServersSpec {
            plan: Some("P2".to_owned()),
            ..ServersSpec::default()
        }),
        containers: Some(ContainersSpec {
            agentless_scanning: Some(Default::default()),
            ..ContainersSpec::default()
        }),
        databases: Some(DatabasesSpec::default()),
        ..PlanSetSpec::default()
    }
}

fn offering_type(offering: &Json) -> String {
    offering
        .get("offeringType")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn placeholder_key(text: &str) -> Option<&str> {
    text.strip_prefix(PLACEHOLDER_PREFIX)?.strip_suffix('>')
}

fn by_type(offerings: &[Json]) -> Option<BTreeMap<String, &Json>> {
    let mut out = BTreeMap::new();
    for o in offerings {
        if out.insert(offering_type(o), o).is_some() {
            return None;
        }
    }
    Some(out)
}

/// Calls `visit` with the path and text of every string inside objects (offerings hold no
/// arrays of ARNs, so array elements are not visited).
fn walk(value: &Json, path: &mut Vec<String>, visit: &mut dyn FnMut(&[String], &str)) {
    match value {
        Json::String(s) => visit(path, s),
        Json::Object(map) => {
            for (k, v) in map {
                path.push(k.clone());
                walk(v, path, visit);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Like [`walk`], replacing a string by what `replace` returns for it.
fn rewrite(
    value: &mut Json,
    path: &mut Vec<String>,
    replace: &mut dyn FnMut(&[String], &str) -> Option<String>,
) {
    match value {
        Json::String(s) => {
            if let Some(new) = replace(path, s) {
                *s = new;
            }
        }
        Json::Object(map) => {
            for (k, v) in map.iter_mut() {
                path.push(k.clone());
                rewrite(v, path, replace);
                path.pop();
            }
        }
        _ => {}
    }
}

fn is_empty(value: &Json) -> bool {
    match value {
        Json::Null => true,
        Json::Bool(b) => !b,
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Object(m) => m.values().all(is_empty),
        Json::Number(_) => false,
    }
}

fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().all(|k| {
                same(
                    x.get(k).unwrap_or(&Json::Null),
                    y.get(k).unwrap_or(&Json::Null),
                )
            })
        }
        (Json::Null, other) | (other, Json::Null) => is_empty(other),
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        _ => a == b,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    const SERVERS_ARN: &str = "arn:aws:iam::123456789012:role/DefenderForCloud-DefenderForServers";

    fn plan_set(spec: &PlanSetSpec) -> Vec<Json> {
        onboarding::offerings(&PlanSet::new(spec).unwrap(), &BTreeMap::new())
    }

    fn servers_p1() -> Vec<Json> {
        plan_set(&PlanSetSpec {
            servers: Some(ServersSpec {
                plan: Some("P1".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    fn arns(keys: &[RoleKey]) -> BTreeMap<RoleKey, String> {
        keys.iter()
            .map(|k| {
                (
                    *k,
                    format!("arn:aws:iam::123456789012:role/{}", k.default_name()),
                )
            })
            .collect()
    }

    #[test]
    fn parses_plan_set_output_and_rejects_what_azure_would() {
        let text = canonical(&servers_p1());
        assert_eq!(parse(&text).unwrap().len(), 2);
        for (bad, needle) in [
            ("{", "not valid JSON"),
            ("{}", "JSON array"),
            ("[{}]", "no string `offeringType`"),
            (
                r#"[{"offeringType":"CspmMonitorGcp"}]"#,
                "not an AWS offering",
            ),
            (
                r#"[{"offeringType":"CspmMonitorAws"},{"offeringType":"CspmMonitorAws"}]"#,
                "more than once",
            ),
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }

    #[test]
    fn fill_names_each_unresolved_placeholder_with_its_offering() {
        let offerings = servers_p1();
        let missing = fill(&offerings, &arns(&[RoleKey::CspmMonitor])).unwrap_err();
        let named: Vec<(&str, &str, &str)> = missing
            .iter()
            .map(|p| (p.offering.as_str(), p.key.as_str(), p.field.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                (
                    "DefenderForServersAws",
                    "arc_auto_provisioning",
                    "arcAutoProvisioning.cloudRoleArn"
                ),
                (
                    "DefenderForServersAws",
                    "defender_for_servers",
                    "defenderForServers.cloudRoleArn"
                ),
            ]
        );
        let all = arns(&[
            RoleKey::CspmMonitor,
            RoleKey::DefenderForServers,
            RoleKey::ArcAutoProvisioning,
        ]);
        let filled = fill(&offerings, &all).unwrap();
        assert_eq!(
            filled[1]["defenderForServers"]["cloudRoleArn"],
            json!(SERVERS_ARN)
        );
        assert!(placeholders(&filled).is_empty());
        // A placeholder with a key no role has is never sent as is.
        let odd = vec![json!({"offeringType": "CspmMonitorAws",
            "nativeCloudConnection": {"cloudRoleArn": "<role_arn:no_such_role>"}})];
        let err = fill(&odd, &all).unwrap_err();
        assert_eq!(err[0].key, "no_such_role");
        assert!(err[0].role_key().is_none());
    }

    #[test]
    fn server_side_additions_and_order_are_not_drift() {
        let keys = [
            RoleKey::CspmMonitor,
            RoleKey::DefenderForServers,
            RoleKey::ArcAutoProvisioning,
        ];
        let wanted = fill(&servers_p1(), &arns(&keys)).unwrap();
        let mut remote: Vec<Json> = wanted.iter().rev().cloned().collect();
        remote[0]["description"] = json!("Defender for Servers for AWS");
        remote[0]["arcAutoProvisioning"]["configuration"] =
            json!({"proxy": "", "privateLinkScope": ""});
        remote[1]["nativeCloudConnection"]["extra"] = json!(null);
        assert!(equivalent(&remote, &wanted));
        // Numbers compare by value.
        let a =
            vec![json!({"offeringType": "DefenderForContainersAws", "kubeAuditRetentionTime": 30})];
        let b = vec![
            json!({"offeringType": "DefenderForContainersAws", "kubeAuditRetentionTime": 30.0}),
        ];
        assert!(equivalent(&a, &b));
        // A switched-off setting may be dropped by the server.
        let off = vec![
            json!({"offeringType": "DefenderForServersAws", "mdeAutoProvisioning": {"enabled": false}}),
        ];
        let dropped = vec![json!({"offeringType": "DefenderForServersAws"})];
        assert!(equivalent(&dropped, &off));
    }

    #[test]
    fn real_changes_are_drift() {
        let keys = [
            RoleKey::CspmMonitor,
            RoleKey::DefenderForServers,
            RoleKey::ArcAutoProvisioning,
        ];
        let wanted = fill(&servers_p1(), &arns(&keys)).unwrap();
        let mut plan = wanted.clone();
        plan[1]["subPlan"]["type"] = json!("P2");
        assert!(!equivalent(&plan, &wanted));
        let mut arn = wanted.clone();
        arn[1]["defenderForServers"]["cloudRoleArn"] =
            json!("arn:aws:iam::123456789012:role/Other");
        assert!(!equivalent(&arn, &wanted));
        let mut switched_on = wanted.clone();
        switched_on[1]["mdeAutoProvisioning"] = json!({"enabled": true});
        let mut switched_off = wanted.clone();
        switched_off[1]["mdeAutoProvisioning"] = json!({"enabled": false});
        assert!(!equivalent(&switched_on, &switched_off));
        assert!(
            !equivalent(&wanted[..1], &wanted),
            "an offering removed out of band"
        );
    }

    #[test]
    fn drift_is_shown_with_placeholders_and_import_recovers_the_role_map() {
        let keys = [
            RoleKey::CspmMonitor,
            RoleKey::DefenderForServers,
            RoleKey::ArcAutoProvisioning,
        ];
        let config = servers_p1();
        let mut remote = fill(&config, &arns(&keys)).unwrap();
        remote[0]["description"] = json!("read-only");
        assert_eq!(
            canonical(&with_placeholders(&remote, &arns(&keys))),
            canonical(&config)
        );
        assert_eq!(role_arns_in(&remote), arns(&keys));
        // An ARN no key explains stays as it is.
        remote[1]["defenderForServers"]["cloudRoleArn"] =
            json!("arn:aws:iam::123456789012:role/Other");
        let shown = with_placeholders(&remote, &arns(&keys));
        assert_eq!(
            shown[1]["defenderForServers"]["cloudRoleArn"],
            json!("arn:aws:iam::123456789012:role/Other")
        );
        assert_eq!(
            shown[1]["arcAutoProvisioning"]["cloudRoleArn"],
            json!("<role_arn:arc_auto_provisioning>")
        );
    }

    #[test]
    fn one_role_used_for_two_keys_is_placed_by_field() {
        let same = "arn:aws:iam::123456789012:role/Shared";
        let mut map = arns(&[RoleKey::CspmMonitor, RoleKey::DefenderForServers]);
        map.insert(RoleKey::ArcAutoProvisioning, same.to_owned());
        map.insert(RoleKey::DefenderForServers, same.to_owned());
        let remote = fill(&servers_p1(), &map).unwrap();
        assert_eq!(
            canonical(&with_placeholders(&remote, &map)),
            canonical(&servers_p1())
        );
        assert_eq!(role_arns_in(&remote), map);
    }

    #[test]
    fn the_field_table_covers_every_role() {
        let keys: BTreeSet<RoleKey> = arn_field_table().values().copied().collect();
        assert_eq!(keys, RoleKey::ALL.into_iter().collect::<BTreeSet<_>>());
        assert_eq!(
            arn_field_table().get(&(
                "DefenderForServersAws".to_owned(),
                "vmScanners.cloudRoleArn".to_owned()
            )),
            Some(&RoleKey::AgentlessScanner)
        );
    }
}
