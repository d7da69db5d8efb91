//! Reading resources out of `terraform show -json` and comparing them, for import
//! verification.

use serde_json::Value;

/// Searches a `show -json` module tree for a resource by address.
pub(super) fn find_resource(module: &Value, address: &str) -> Option<Value> {
    let own = module
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|r| r.get("address").and_then(Value::as_str) == Some(address))
        .and_then(|r| r.get("values").cloned());
    own.or_else(|| {
        module
            .get("child_modules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|m| find_resource(m, address))
    })
}

/// Top-level attributes whose values differ, one line each.
pub(super) fn attribute_diffs(before: &Value, after: &Value, ignore: &[&str]) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (b, a) = (
        before.as_object().unwrap_or(&empty),
        after.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !ignore.contains(&k.as_str()))
        .filter_map(|k| {
            let (x, y) = (
                b.get(k).unwrap_or(&Value::Null),
                a.get(k).unwrap_or(&Value::Null),
            );
            (x != y).then(|| format!("  {k}: applied {x}, imported {y}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_verification_compares_all_but_ignored_attributes() {
        let state = serde_json::json!({
            "resources": [{"address": "a.x", "values": {"id": "1"}}],
            "child_modules": [{"resources": [{"address": "module.m.a.y", "values": {"id": "2"}}]}]
        });
        assert_eq!(
            find_resource(&state, "a.x"),
            Some(serde_json::json!({"id": "1"}))
        );
        assert_eq!(
            find_resource(&state, "module.m.a.y"),
            Some(serde_json::json!({"id": "2"}))
        );
        assert_eq!(find_resource(&state, "a.z"), None);

        let before = serde_json::json!({"id": "1", "name": "n", "secret": "s"});
        let after = serde_json::json!({"id": "1", "name": "m", "secret": null});
        assert_eq!(
            attribute_diffs(&before, &after, &["secret"]),
            ["  name: applied \"n\", imported \"m\""]
        );
        assert!(attribute_diffs(&before, &before, &[]).is_empty());
    }
}
