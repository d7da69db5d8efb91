//! cty types and their JSON encoding, as used in schema `type` bytes and in
//! dynamically typed msgpack values.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::error::ProtocolError;

/// A cty type: the shape Terraform expects for an attribute's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// `bool`.
    Bool,
    /// `number` (arbitrary precision in Terraform).
    Number,
    /// `string`.
    String,
    /// Any type, decided by the value (`dynamic`).
    Dynamic,
    /// Ordered list of one element type.
    List(Box<Type>),
    /// Unordered set of one element type.
    Set(Box<Type>),
    /// String-keyed map of one element type.
    Map(Box<Type>),
    /// Object with named, individually typed attributes.
    Object(BTreeMap<String, Type>),
    /// Fixed-length sequence of individually typed elements.
    Tuple(Vec<Type>),
}

impl Type {
    /// `list(element)`.
    pub fn list(element: Type) -> Self {
        Type::List(Box::new(element))
    }

    /// `set(element)`.
    pub fn set(element: Type) -> Self {
        Type::Set(Box::new(element))
    }

    /// `map(element)`.
    pub fn map(element: Type) -> Self {
        Type::Map(Box::new(element))
    }

    /// `object({...})` from `(name, type)` pairs.
    pub fn object<K: Into<String>>(attributes: impl IntoIterator<Item = (K, Type)>) -> Self {
        Type::Object(attributes.into_iter().map(|(k, t)| (k.into(), t)).collect())
    }

    /// A human-readable name for documentation: `String`, `List of String`,
    /// `Map of Number`, `Object`, ...
    pub fn friendly_name(&self) -> String {
        match self {
            Type::Bool => "Boolean".to_owned(),
            Type::Number => "Number".to_owned(),
            Type::String => "String".to_owned(),
            Type::Dynamic => "Dynamic".to_owned(),
            Type::List(e) => format!("List of {}", e.friendly_name()),
            Type::Set(e) => format!("Set of {}", e.friendly_name()),
            Type::Map(e) => format!("Map of {}", e.friendly_name()),
            Type::Object(_) => "Object".to_owned(),
            Type::Tuple(_) => "Tuple".to_owned(),
        }
    }

    /// The JSON form Terraform uses for types (`"string"`, `["list","string"]`, ...).
    pub fn to_json(&self) -> Json {
        match self {
            Type::Bool => Json::from("bool"),
            Type::Number => Json::from("number"),
            Type::String => Json::from("string"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(e) => Json::Array(vec![Json::from("list"), e.to_json()]),
            Type::Set(e) => Json::Array(vec![Json::from("set"), e.to_json()]),
            Type::Map(e) => Json::Array(vec![Json::from("map"), e.to_json()]),
            Type::Object(attrs) => {
                let map = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                Json::Array(vec![Json::from("object"), Json::Object(map)])
            }
            Type::Tuple(elems) => Json::Array(vec![
                Json::from("tuple"),
                Json::Array(elems.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    /// The JSON form as bytes, ready for a schema attribute's `type` field.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    /// Parses Terraform's JSON type encoding.
    pub fn from_json(json: &Json) -> Result<Self, ProtocolError> {
        let bad = || ProtocolError::Type(format!("unsupported type {json}"));
        match json {
            Json::String(s) => match s.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                _ => Err(bad()),
            },
            Json::Array(items) => {
                let kind = items.first().and_then(Json::as_str).ok_or_else(bad)?;
                let arg = items.get(1).ok_or_else(bad)?;
                match kind {
                    "list" => Ok(Type::list(Type::from_json(arg)?)),
                    "set" => Ok(Type::set(Type::from_json(arg)?)),
                    "map" => Ok(Type::map(Type::from_json(arg)?)),
                    // A third element (optional attribute names) only matters for
                    // type constraints in configuration, never for values.
                    "object" => {
                        let attrs = arg.as_object().ok_or_else(bad)?;
                        let mut out = BTreeMap::new();
                        for (k, v) in attrs {
                            out.insert(k.clone(), Type::from_json(v)?);
                        }
                        Ok(Type::Object(out))
                    }
                    "tuple" => {
                        let elems = arg.as_array().ok_or_else(bad)?;
                        Ok(Type::Tuple(
                            elems
                                .iter()
                                .map(Type::from_json)
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }

    /// Parses the JSON type encoding from bytes.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let json: Json = serde_json::from_slice(bytes)
            .map_err(|e| ProtocolError::Type(format!("invalid type JSON: {e}")))?;
        Type::from_json(&json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let ty = Type::object([
            ("a", Type::String),
            ("b", Type::list(Type::map(Type::Number))),
            ("c", Type::set(Type::Bool)),
            ("d", Type::Tuple(vec![Type::Dynamic, Type::String])),
        ]);
        let bytes = ty.to_json_bytes();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap_or_default(),
            r#"["object",{"a":"string","b":["list",["map","number"]],"c":["set","bool"],"d":["tuple",["dynamic","string"]]}]"#
        );
        assert_eq!(Type::from_json_bytes(&bytes).ok(), Some(ty));
    }

    #[test]
    fn friendly_names_for_docs() {
        assert_eq!(
            Type::list(Type::map(Type::String)).friendly_name(),
            "List of Map of String"
        );
        assert_eq!(Type::Bool.friendly_name(), "Boolean");
    }

    #[test]
    fn optional_attribute_marker_is_ignored() {
        let ty = Type::from_json_bytes(br#"["object",{"a":"string"},["a"]]"#).ok();
        assert_eq!(ty, Some(Type::object([("a", Type::String)])));
    }

    #[test]
    fn malformed_types_are_errors() {
        for bad in [
            &b"\"strin\""[..],
            b"[\"list\"]",
            b"[1,2]",
            b"{}",
            b"nope",
            b"[\"object\",[]]",
        ] {
            assert!(
                Type::from_json_bytes(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
