//! Canonical JSON (object keys sorted, no insignificant whitespace) and a stable hash, so every
//! output of the domain is byte-identical for the same input, whatever serde_json's map type.

use std::fmt::Write;

use serde_json::Value as Json;

/// Serialises `value` with object keys in byte order and no whitespace.
pub fn canonical_json(value: &Json) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Json) {
    match value {
        Json::Object(map) => {
            let mut entries: Vec<(&String, &Json)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Json::String(k.clone()).to_string());
                out.push(':');
                write_value(out, v);
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, v);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A stable 64-bit FNV-1a hash of `text`, as 16 lowercase hex digits. Not cryptographic: it
/// names a normalised input, it does not protect anything. FNV is specified bit for bit, so the
/// value never changes between builds or platforms (unlike `std`'s `DefaultHasher`).
pub fn stable_hash(text: &str) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = text
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    let mut out = String::with_capacity(16);
    let _ = write!(out, "{hash:016x}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_level() {
        let v = json!({"b": 1, "a": {"z": [ {"y": 1, "x": 2} ], "c": "q\"uote"}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":"q\"uote","z":[{"x":2,"y":1}]},"b":1}"#
        );
    }

    #[test]
    fn hash_is_fnv1a() {
        // Reference values of 64-bit FNV-1a.
        assert_eq!(stable_hash(""), "cbf29ce484222325");
        assert_eq!(stable_hash("a"), "af63dc4c8601ec8c");
        assert_ne!(stable_hash("ab"), stable_hash("ba"));
    }
}
