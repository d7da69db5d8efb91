//! JSON decoding of stored state (UpgradeResourceState's raw state), shaped
//! by the current schema: attributes no longer in the schema are dropped and
//! attributes new to it start as null.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::diagnostics::{AttrPath, PathStep};
use super::error::ProtocolError;
use super::types::Type;
use super::value::{Number, Value};

/// Decodes JSON bytes into a value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, ProtocolError> {
    let json: Json = serde_json::from_slice(bytes)
        .map_err(|e| ProtocolError::Json(format!("invalid JSON: {e}")))?;
    from_json(&json, ty, &mut Vec::new())
}

/// Decodes state stored under an older schema version: `upgrade` first rewrites the stored
/// top-level object into the current shape (see `Resource::upgrade_state`), then the result is
/// decoded as by [`decode`].
pub fn decode_upgraded(
    bytes: &[u8],
    ty: &Type,
    upgrade: impl FnOnce(&mut serde_json::Map<String, Json>),
) -> Result<Value, ProtocolError> {
    let mut json: Json = serde_json::from_slice(bytes)
        .map_err(|e| ProtocolError::Json(format!("invalid JSON: {e}")))?;
    if let Json::Object(map) = &mut json {
        upgrade(map);
    }
    from_json(&json, ty, &mut Vec::new())
}

fn err(path: &[PathStep], expected: &str) -> ProtocolError {
    ProtocolError::WrongType {
        format: "JSON",
        path: AttrPath::from_steps(path.to_vec()),
        expected: expected.to_owned(),
    }
}

/// A list index as a path step; lengths never come near `i64::MAX`.
fn index_step(i: usize) -> PathStep {
    PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX))
}

fn from_json(json: &Json, ty: &Type, path: &mut Vec<PathStep>) -> Result<Value, ProtocolError> {
    if json.is_null() {
        return Ok(Value::Null);
    }
    match ty {
        Type::Bool => match json {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            Json::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            _ => Err(err(path, "bool")),
        },
        Type::Number => match json {
            Json::Number(n) => {
                let num = if let Some(i) = n.as_i64() {
                    Number::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Number::Big(u.to_string())
                } else {
                    Number::from_f64(n.as_f64().ok_or_else(|| err(path, "number"))?)
                };
                Ok(Value::Number(num))
            }
            Json::String(s) => Number::parse(s)
                .map(Value::Number)
                .ok_or_else(|| err(path, "number")),
            _ => Err(err(path, "number")),
        },
        Type::String => match json {
            Json::String(s) => Ok(Value::String(s.clone())),
            // Older state may hold primitives that Terraform converts to strings.
            Json::Number(n) => Ok(Value::String(n.to_string())),
            Json::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(err(path, "string")),
        },
        Type::Dynamic => {
            let obj = json
                .as_object()
                .ok_or_else(|| err(path, "{\"value\",\"type\"} object"))?;
            let inner_ty = obj
                .get("type")
                .ok_or_else(|| err(path, "dynamic value type"))
                .and_then(Type::from_json)?;
            from_json(obj.get("value").unwrap_or(&Json::Null), &inner_ty, path)
        }
        Type::List(ety) | Type::Set(ety) => {
            let items = json.as_array().ok_or_else(|| err(path, "array"))?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(index_step(i));
                out.push(from_json(item, ety, path)?);
                path.pop();
            }
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(out)
            } else {
                Value::List(out)
            })
        }
        Type::Tuple(etys) => {
            let items = json.as_array().filter(|a| a.len() == etys.len());
            let items = items.ok_or_else(|| err(path, "tuple"))?;
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, ety)) in items.iter().zip(etys).enumerate() {
                path.push(index_step(i));
                out.push(from_json(item, ety, path)?);
                path.pop();
            }
            Ok(Value::Tuple(out))
        }
        Type::Map(ety) => {
            let obj = json.as_object().ok_or_else(|| err(path, "object"))?;
            let mut out = BTreeMap::new();
            for (k, v) in obj {
                path.push(PathStep::Key(k.clone()));
                out.insert(k.clone(), from_json(v, ety, path)?);
                path.pop();
            }
            Ok(Value::Map(out))
        }
        Type::Object(attrs) => {
            let obj = json.as_object().ok_or_else(|| err(path, "object"))?;
            let mut out = BTreeMap::new();
            for (name, aty) in attrs {
                path.push(PathStep::Attr(name.clone()));
                let v = match obj.get(name) {
                    Some(j) => from_json(j, aty, path)?,
                    None => Value::Null,
                };
                path.pop();
                out.insert(name.clone(), v);
            }
            Ok(Value::Object(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_state_to_current_schema() {
        let ty = Type::object([
            ("id", Type::String),
            ("added", Type::Bool),
            ("count", Type::Number),
            ("tags", Type::map(Type::String)),
            ("blocks", Type::list(Type::object([("x", Type::String)]))),
        ]);
        let raw = br#"{"id":"a","removed":"gone","count":3,"tags":{"k":"v"},"blocks":[{"x":"1","old":2}]}"#;
        let v = decode(raw, &ty).unwrap_or_default();
        let expected = Value::object([
            ("id", Value::from("a")),
            ("added", Value::Null),
            ("count", Value::from(3_i64)),
            ("tags", Value::map([("k", Value::from("v"))])),
            (
                "blocks",
                Value::list([Value::object([("x", Value::from("1"))])]),
            ),
        ]);
        assert_eq!(v, expected);
    }

    #[test]
    fn older_state_is_rewritten_before_it_is_decoded() {
        let ty = Type::object([("name", Type::String)]);
        let rename = |m: &mut serde_json::Map<String, Json>| {
            if let Some(v) = m.remove("old_name") {
                m.insert("name".to_owned(), v);
            }
        };
        let v = decode_upgraded(br#"{"old_name":"a"}"#, &ty, rename).ok();
        assert_eq!(v, Some(Value::object([("name", Value::from("a"))])));
        // Without the rewrite the renamed attribute would be lost, not carried over.
        let plain = decode(br#"{"old_name":"a"}"#, &ty).ok();
        assert_eq!(plain, Some(Value::object([("name", Value::Null)])));
        assert!(decode_upgraded(b"{", &ty, rename).is_err());
    }

    #[test]
    fn dynamic_and_errors() {
        let v = decode(
            br#"{"value":["a"],"type":["list","string"]}"#,
            &Type::Dynamic,
        )
        .ok();
        assert_eq!(v, Some(Value::string_list(["a"])));
        assert!(decode(b"{", &Type::String).is_err());
        assert!(decode(br#"{"id":[1]}"#, &Type::object([("id", Type::String)])).is_err());
        assert!(decode(br#""x""#, &Type::Number).is_err());
    }
}
