//! Dynamic Terraform values, with the small API resources use to read
//! configuration and build state.
//!
//! ```
//! use terraform_provider_multicloud::protocol::Value;
//!
//! let config = Value::object([("name", Value::from("x")), ("enabled", Value::from(true))]);
//! assert_eq!(config.get("name").as_str(), Some("x"));
//! assert!(config.get("missing").is_null());
//! let state = config.clone().with_attr("id", "abc-123");
//! assert!(state.is_fully_known());
//! ```

use std::collections::BTreeMap;
use std::fmt;

use super::types::Type;

/// A Terraform number. Kept as an `i64` or `f64` when exact, otherwise as
/// decimal text so that large values survive a round trip unchanged.
#[derive(Debug, Clone)]
pub enum Number {
    /// An integer that fits `i64`.
    Int(i64),
    /// A finite or infinite float that is not an exact `i64`.
    Float(f64),
    /// Any other number, as decimal text (for example a large `u64`).
    Big(String),
}

impl Number {
    /// Builds a number from a float, normalising exact integers.
    pub fn from_f64(f: f64) -> Self {
        if f.fract() == 0.0 && f.is_finite() && f >= i64::MIN as f64 && f < i64::MAX as f64 {
            Number::Int(f as i64)
        } else {
            Number::Float(f)
        }
    }

    /// Parses decimal text, keeping it verbatim when it has no exact native form.
    pub fn parse(text: &str) -> Option<Self> {
        let trimmed = text.trim();
        if let Ok(i) = trimmed.parse::<i64>() {
            return Some(Number::Int(i));
        }
        let f = trimmed.parse::<f64>().ok()?;
        if !f.is_finite() {
            return None;
        }
        let exact_int = f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64;
        if exact_int || format_float(f) == trimmed {
            return Some(Number::from_f64(f));
        }
        Some(Number::Big(trimmed.to_owned()))
    }

    /// The value as `i64`, when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            Number::Float(_) => None,
            Number::Big(s) => s.parse().ok(),
        }
    }

    /// The value as `f64` (possibly rounded).
    pub fn as_f64(&self) -> f64 {
        match self {
            Number::Int(i) => *i as f64,
            Number::Float(f) => *f,
            Number::Big(s) => s.parse().unwrap_or(f64::NAN),
        }
    }
}

fn format_float(f: f64) -> String {
    format!("{f}")
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (Number::Big(a), Number::Big(b)) => a == b,
            _ => self.as_f64() == other.as_f64() && self.as_i64() == other.as_i64(),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{}", format_float(*x)),
            Number::Big(s) => f.write_str(s),
        }
    }
}

/// A Terraform value. Null and unknown carry no type: the schema supplies it
/// when the value is encoded.
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// Absent value.
    #[default]
    Null,
    /// Not known until apply.
    Unknown,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// An ordered list.
    List(Vec<Value>),
    /// A set; element order carries no meaning.
    Set(Vec<Value>),
    /// A map with string keys.
    Map(BTreeMap<String, Value>),
    /// An object (attributes of a resource or of a nested block).
    Object(BTreeMap<String, Value>),
    /// A tuple.
    Tuple(Vec<Value>),
}

static NULL: Value = Value::Null;

impl Value {
    /// An object from `(name, value)` pairs.
    pub fn object<K: Into<String>>(attributes: impl IntoIterator<Item = (K, Value)>) -> Self {
        Value::Object(attributes.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A list of values.
    pub fn list(elements: impl IntoIterator<Item = Value>) -> Self {
        Value::List(elements.into_iter().collect())
    }

    /// A set of values; duplicates are dropped as Terraform would.
    pub fn set(elements: impl IntoIterator<Item = Value>) -> Self {
        let mut out: Vec<Value> = Vec::new();
        for e in elements {
            if !out.contains(&e) {
                out.push(e);
            }
        }
        Value::Set(out)
    }

    /// A map from `(key, value)` pairs.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Self {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A list of strings.
    pub fn string_list<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Self {
        Value::List(items.into_iter().map(|s| Value::String(s.into())).collect())
    }

    /// A set of strings.
    pub fn string_set<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Self {
        Value::set(items.into_iter().map(|s| Value::String(s.into())))
    }

    /// The attribute (or map entry) `name`; [`Value::Null`] when absent or not an object.
    pub fn get(&self, name: &str) -> &Value {
        match self {
            Value::Object(m) | Value::Map(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Mutable access to attribute `name`, when `self` is an object or map holding it.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) | Value::Map(m) => m.get_mut(name),
            _ => None,
        }
    }

    /// Sets attribute `name`; turns a null value into an object first.
    /// Does nothing on other kinds of values.
    pub fn set_attr(&mut self, name: &str, value: impl Into<Value>) {
        if matches!(self, Value::Null) {
            *self = Value::Object(BTreeMap::new());
        }
        if let Value::Object(m) | Value::Map(m) = self {
            m.insert(name.to_owned(), value.into());
        }
    }

    /// Builder form of [`Value::set_attr`].
    pub fn with_attr(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.set_attr(name, value);
        self
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, if this is a known number that is an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The number as `f64`, if this is a known number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(n.as_f64()),
            _ => None,
        }
    }

    /// Elements of a list, set or tuple.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// Entries of a map or attributes of an object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The strings of a list or set of strings, skipping nulls and unknowns.
    pub fn as_string_vec(&self) -> Vec<String> {
        self.as_list()
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether the value itself is unknown (nested unknowns do not count).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// Whether neither the value nor anything inside it is unknown.
    pub fn is_fully_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => v.iter().all(Value::is_fully_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_fully_known),
            _ => true,
        }
    }

    /// The type this value would have under a `dynamic` attribute.
    pub fn implied_type(&self) -> Type {
        match self {
            Value::Null | Value::Unknown => Type::Dynamic,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(v) => Type::list(v.first().map_or(Type::Dynamic, Value::implied_type)),
            Value::Set(v) => Type::set(v.first().map_or(Type::Dynamic, Value::implied_type)),
            Value::Map(m) => {
                Type::map(m.values().next().map_or(Type::Dynamic, Value::implied_type))
            }
            Value::Object(m) => Type::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.implied_type()))
                    .collect(),
            ),
            Value::Tuple(v) => Type::Tuple(v.iter().map(Value::implied_type).collect()),
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) | (Value::Unknown, Value::Unknown) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => a == b,
            (Value::Set(a), Value::Set(b)) => {
                a.len() == b.len()
                    && a.iter().all(|x| b.contains(x))
                    && b.iter().all(|x| a.contains(x))
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => a == b,
            _ => false,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::String(s.clone())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Number(Number::Int(i))
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Number(Number::Int(i64::from(i)))
    }
}

impl From<u32> for Value {
    fn from(i: u32) -> Self {
        Value::Number(Number::Int(i64::from(i)))
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Number(Number::from_f64(f))
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors() {
        let v = Value::object([
            ("name", Value::from("x")),
            ("on", Value::from(true)),
            ("n", Value::from(42_i64)),
            ("tags", Value::string_set(["a", "b"])),
        ]);
        assert_eq!(v.get("name").as_str(), Some("x"));
        assert_eq!(v.get("on").as_bool(), Some(true));
        assert_eq!(v.get("n").as_i64(), Some(42));
        assert!(v.get("missing").is_null());
        assert!(v.get("name").get("deeper").is_null());
        assert_eq!(v.get("tags").as_string_vec(), vec!["a", "b"]);
        assert!(v.is_fully_known());
        let with_unknown = v.clone().with_attr("id", Value::Unknown);
        assert!(!with_unknown.is_fully_known());
        assert!(with_unknown.get("id").is_unknown());
        assert_eq!(Value::from(None::<String>), Value::Null);
    }

    #[test]
    fn set_equality_ignores_order() {
        assert_eq!(Value::string_set(["a", "b"]), Value::string_set(["b", "a"]));
        assert_ne!(
            Value::string_list(["a", "b"]),
            Value::string_list(["b", "a"])
        );
        assert_eq!(
            Value::string_set(["a", "a"]).as_list().map(<[Value]>::len),
            Some(1)
        );
        assert_ne!(Value::Null, Value::Unknown);
    }

    #[test]
    fn numbers_normalise() {
        assert_eq!(Value::from(3.0), Value::from(3_i64));
        assert_eq!(Number::parse("1.5").map(|n| n.as_f64()), Some(1.5));
        assert_eq!(
            Number::parse("18446744073709551615").map(|n| n.to_string()),
            Some("18446744073709551615".to_owned())
        );
        assert!(Number::parse("abc").is_none());
        assert!(Number::parse("NaN").is_none());
    }
}
