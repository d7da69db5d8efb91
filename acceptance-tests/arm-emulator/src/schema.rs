//! A compact schema language for ARM request bodies, and its validator.
//!
//! Each API the emulator validates encodes the facts of its official OpenAPI definition (field
//! names, types, enums, required and read-only fields, discriminated unions) with the builders
//! below; the validator then reports every violation with the JSON path ARM would name.
//!
//! Semantics, chosen to match ARM's OpenAPI payload validation rather than a lenient
//! deserializer:
//! * Objects are closed: a property the definition does not declare is an error
//!   (`ObjectAdditionalProperties`), so a misspelt field fails instead of being dropped. Maps
//!   (`additionalProperties: {schema}`) and free-form objects are the explicit exceptions.
//! * `null` counts as absent, as it does for the services' JSON deserializers.
//! * Enum values and discriminators are case-sensitive; a value differing only in case is
//!   reported separately (`EnumCaseMismatch`) because services echo the canonical spelling,
//!   which would show up as a perpetual diff in a client that sent another one.
//! * Read-only properties are accepted and not validated: a GET body must be valid as a PUT body
//!   (ARM's resource provider contract), so clients may echo them. [`strip_read_only`] removes
//!   them before the server fills its own values.

use serde_json::{Map, Value};

/// The shape a JSON value must have.
#[derive(Debug, Clone)]
pub(crate) enum Schema {
    /// Any string.
    String,
    /// An RFC 3339 date-time string.
    DateTime,
    /// An integer (JSON number without fraction), optionally bounded (inclusive).
    Int { min: Option<i64>, max: Option<i64> },
    /// `true` or `false`.
    Bool,
    /// A string from a fixed set.
    Enum(&'static [&'static str]),
    /// An array of items of one shape.
    Array(Box<Schema>),
    /// An object whose values all have one shape (`additionalProperties: {schema}`).
    Map(Box<Schema>),
    /// Any object.
    FreeForm,
    /// An object with declared properties only.
    Object(Vec<Field>),
    /// An object whose shape is chosen by a discriminator property.
    Union(Box<Union>),
}

/// One declared property of an object.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) schema: Schema,
    pub(crate) required: bool,
    pub(crate) read_only: bool,
}

impl Field {
    /// Marks the property required.
    pub(crate) fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Marks the property read-only (set by the service).
    pub(crate) fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }
}

/// A discriminated union: the `discriminator` property names the variant.
#[derive(Debug, Clone)]
pub(crate) struct Union {
    pub(crate) discriminator: &'static str,
    /// Properties every variant has besides the discriminator.
    pub(crate) base: Vec<Field>,
    pub(crate) variants: Vec<Variant>,
}

/// One variant of a [`Union`].
#[derive(Debug, Clone)]
pub(crate) struct Variant {
    pub(crate) value: &'static str,
    pub(crate) fields: Vec<Field>,
}

/// A property named `name` of shape `schema`, optional and writable.
pub(crate) fn field(name: &'static str, schema: Schema) -> Field {
    Field {
        name,
        schema,
        required: false,
        read_only: false,
    }
}

/// An object with exactly these properties.
pub(crate) fn object(fields: impl IntoIterator<Item = Field>) -> Schema {
    Schema::Object(fields.into_iter().collect())
}

/// An unbounded integer.
pub(crate) fn int() -> Schema {
    Schema::Int {
        min: None,
        max: None,
    }
}

/// An array of `items`.
pub(crate) fn array(items: Schema) -> Schema {
    Schema::Array(Box::new(items))
}

/// A map of string keys to `values`.
pub(crate) fn map(values: Schema) -> Schema {
    Schema::Map(Box::new(values))
}

/// A union discriminated by `discriminator`.
pub(crate) fn union(
    discriminator: &'static str,
    base: Vec<Field>,
    variants: impl IntoIterator<Item = Variant>,
) -> Schema {
    Schema::Union(Box::new(Union {
        discriminator,
        base,
        variants: variants.into_iter().collect(),
    }))
}

/// The variant selected by discriminator value `value`.
pub(crate) fn variant(value: &'static str, fields: impl IntoIterator<Item = Field>) -> Variant {
    Variant {
        value,
        fields: fields.into_iter().collect(),
    }
}

/// One violation: a code in the style of ARM's payload validation, the JSON path
/// (`properties.offerings[0].offeringType`, empty for the root) and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) code: &'static str,
    pub(crate) path: String,
    pub(crate) message: String,
}

/// Stop collecting after this many problems; a body that wrong needs no complete list.
const MAX_PROBLEMS: usize = 25;

/// Every violation of `schema` by `value`, in document order.
pub(crate) fn validate(schema: &Schema, value: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    check(schema, value, "", &mut problems);
    problems.truncate(MAX_PROBLEMS);
    problems
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn push(out: &mut Vec<Problem>, code: &'static str, path: &str, message: String) {
    if out.len() < MAX_PROBLEMS {
        out.push(Problem {
            code,
            path: path.to_string(),
            message,
        });
    }
}

fn wrong_type(out: &mut Vec<Problem>, path: &str, expected: &str, value: &Value) {
    push(
        out,
        "InvalidType",
        path,
        format!("expected {expected} but found {}", kind(value)),
    );
}

fn check(schema: &Schema, value: &Value, path: &str, out: &mut Vec<Problem>) {
    match schema {
        Schema::String => {
            if !value.is_string() {
                wrong_type(out, path, "string", value);
            }
        }
        Schema::DateTime => match value.as_str() {
            Some(s) if looks_like_date_time(s) => {}
            Some(s) => push(
                out,
                "InvalidFormat",
                path,
                format!("'{s}' is not an RFC 3339 date-time"),
            ),
            None => wrong_type(out, path, "string", value),
        },
        Schema::Int { min, max } => check_int(*min, *max, value, path, out),
        Schema::Bool => {
            if !value.is_boolean() {
                wrong_type(out, path, "boolean", value);
            }
        }
        Schema::Enum(allowed) => match value.as_str() {
            Some(s) => check_enum(allowed, s, path, out),
            None => wrong_type(out, path, "string", value),
        },
        Schema::Array(items) => match value.as_array() {
            Some(a) => {
                for (i, item) in a.iter().enumerate() {
                    if !item.is_null() {
                        check(items, item, &format!("{path}[{i}]"), out);
                    }
                }
            }
            None => wrong_type(out, path, "array", value),
        },
        Schema::Map(values) => match value.as_object() {
            Some(m) => {
                for (k, v) in m {
                    if !v.is_null() {
                        check(values, v, &child(path, k), out);
                    }
                }
            }
            None => wrong_type(out, path, "object", value),
        },
        Schema::FreeForm => {
            if !value.is_object() {
                wrong_type(out, path, "object", value);
            }
        }
        Schema::Object(fields) => match value.as_object() {
            Some(m) => check_fields(&[fields], m, path, out),
            None => wrong_type(out, path, "object", value),
        },
        Schema::Union(u) => match value.as_object() {
            Some(m) => check_union(u, m, path, out),
            None => wrong_type(out, path, "object", value),
        },
    }
}

fn check_int(
    min: Option<i64>,
    max: Option<i64>,
    value: &Value,
    path: &str,
    out: &mut Vec<Problem>,
) {
    let n = match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_u64().map(|_| i64::MAX)),
        _ => None,
    };
    let Some(n) = n else {
        wrong_type(out, path, "integer", value);
        return;
    };
    if let Some(m) = min
        && n < m
    {
        push(
            out,
            "Minimum",
            path,
            format!("{n} is less than the minimum {m}"),
        );
    }
    if let Some(m) = max
        && n > m
    {
        push(
            out,
            "Maximum",
            path,
            format!("{n} is greater than the maximum {m}"),
        );
    }
}

fn check_enum(allowed: &[&str], s: &str, path: &str, out: &mut Vec<Problem>) {
    if allowed.contains(&s) {
        return;
    }
    let list = allowed.join(", ");
    match allowed.iter().find(|a| a.eq_ignore_ascii_case(s)) {
        Some(canonical) => push(
            out,
            "EnumCaseMismatch",
            path,
            format!("'{s}' differs in case from the allowed value '{canonical}'"),
        ),
        None => push(
            out,
            "EnumMismatch",
            path,
            format!("'{s}' is not one of the allowed values: {list}"),
        ),
    }
}

fn check_fields(groups: &[&[Field]], m: &Map<String, Value>, path: &str, out: &mut Vec<Problem>) {
    let find = |name: &str| {
        groups
            .iter()
            .flat_map(|g| g.iter())
            .find(|f| f.name == name)
    };
    for (key, v) in m {
        match find(key) {
            None => push(
                out,
                "ObjectAdditionalProperties",
                &child(path, key),
                format!(
                    "'{key}' is not a property of this object{}",
                    suggestion(key, groups)
                ),
            ),
            Some(f) if f.read_only || v.is_null() => {}
            Some(f) => check(&f.schema, v, &child(path, key), out),
        }
    }
    for f in groups.iter().flat_map(|g| g.iter()) {
        if f.required && m.get(f.name).is_none_or(Value::is_null) {
            push(
                out,
                "ObjectMissingRequiredProperty",
                &child(path, f.name),
                format!("missing required property '{}'", f.name),
            );
        }
    }
}

/// "; did you mean 'x'?" when a declared name differs only in case or by one edit.
fn suggestion(key: &str, groups: &[&[Field]]) -> String {
    groups
        .iter()
        .flat_map(|g| g.iter())
        .map(|f| f.name)
        .find(|name| name.eq_ignore_ascii_case(key) || edit_distance(name, key) <= 2)
        .map(|name| format!("; did you mean '{name}'?"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

impl Union {
    /// The variant named by `value`'s discriminator, exactly as spelt.
    fn variant_of(&self, value: &Map<String, Value>) -> Option<&Variant> {
        let d = value.get(self.discriminator)?.as_str()?;
        self.variants.iter().find(|v| v.value == d)
    }

    fn values(&self) -> Vec<&'static str> {
        self.variants.iter().map(|v| v.value).collect()
    }
}

fn check_union(u: &Union, m: &Map<String, Value>, path: &str, out: &mut Vec<Problem>) {
    let dpath = child(path, u.discriminator);
    let allowed = u.values();
    match m.get(u.discriminator) {
        None | Some(Value::Null) => {
            push(
                out,
                "ObjectMissingRequiredProperty",
                &dpath,
                format!(
                    "missing required discriminator '{}' (one of: {})",
                    u.discriminator,
                    allowed.join(", ")
                ),
            );
            return;
        }
        Some(Value::String(_)) => {}
        Some(other) => {
            wrong_type(out, &dpath, "string", other);
            return;
        }
    }
    let Some(variant) = u.variant_of(m) else {
        let given = m[u.discriminator].as_str().unwrap_or_default();
        match allowed.iter().find(|a| a.eq_ignore_ascii_case(given)) {
            Some(canonical) => push(
                out,
                "EnumCaseMismatch",
                &dpath,
                format!("'{given}' differs in case from the discriminator value '{canonical}'"),
            ),
            None => push(
                out,
                "DiscriminatorValueNotFound",
                &dpath,
                format!(
                    "'{given}' is not a known value of '{}': {}",
                    u.discriminator,
                    allowed.join(", ")
                ),
            ),
        }
        return;
    };
    let disc = [field(u.discriminator, Schema::String)];
    check_fields(&[&disc, &u.base, &variant.fields], m, path, out);
}

/// Removes every read-only property `schema` declares from `value`, recursively.
pub(crate) fn strip_read_only(schema: &Schema, value: &mut Value) {
    match (schema, value) {
        (Schema::Array(items), Value::Array(a)) => {
            a.iter_mut().for_each(|v| strip_read_only(items, v));
        }
        (Schema::Map(values), Value::Object(m)) => {
            m.values_mut().for_each(|v| strip_read_only(values, v));
        }
        (Schema::Object(fields), Value::Object(m)) => strip_fields(&[fields], m),
        (Schema::Union(u), Value::Object(m)) => {
            if let Some(variant) = u.variant_of(m) {
                let fields = variant.fields.clone();
                strip_fields(&[&u.base, &fields], m);
            } else {
                strip_fields(&[&u.base], m);
            }
        }
        _ => {}
    }
}

fn strip_fields(groups: &[&[Field]], m: &mut Map<String, Value>) {
    for f in groups.iter().flat_map(|g| g.iter()) {
        if f.read_only {
            m.remove(f.name);
        } else if let Some(v) = m.get_mut(f.name) {
            strip_read_only(&f.schema, v);
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS` followed by optional fraction and a zone; enough for a test server.
fn looks_like_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && (s.ends_with('Z') || s.ends_with('z') || s[19..].contains(['+', '-']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Schema {
        object([
            field("name", Schema::String).required(),
            field("id", Schema::String).read_only(),
            field(
                "count",
                Schema::Int {
                    min: Some(1),
                    max: Some(24),
                },
            ),
            field("tags", map(Schema::String)),
            field(
                "pets",
                array(union(
                    "kind",
                    vec![field("description", Schema::String).read_only()],
                    [
                        variant("Cat", [field("lives", int())]),
                        variant("Dog", [field("good", Schema::Bool)]),
                    ],
                )),
            ),
            field("mode", Schema::Enum(&["Default"])),
        ])
    }

    fn codes(v: Value) -> Vec<(&'static str, String)> {
        validate(&sample(), &v)
            .into_iter()
            .map(|p| (p.code, p.path))
            .collect()
    }

    #[test]
    fn a_valid_body_passes_and_read_only_values_are_not_checked() {
        let body = json!({"name": "n", "id": 5, "count": 24, "tags": {"a": "b"},
            "pets": [{"kind": "Cat", "lives": 9, "description": 1}, {"kind": "Dog", "good": true}],
            "mode": "Default", "tagz": null});
        assert_eq!(
            codes(body)[..],
            [("ObjectAdditionalProperties", "tagz".to_string())]
        );
        let body = json!({"name": "n", "id": 5, "pets": [{"kind": "Dog", "good": null}]});
        assert!(codes(body).is_empty());
    }

    #[test]
    fn each_kind_of_violation_names_its_path() {
        let body = json!({"count": 25, "tags": {"a": 1}, "mode": "default",
            "pets": [{"kind": "Cat", "lifes": 9}, {"kind": "Bird"}, {"good": true}, {"kind": "cat"}, "x"]});
        assert_eq!(
            codes(body),
            [
                ("Maximum", "count".to_string()),
                ("EnumCaseMismatch", "mode".to_string()),
                ("ObjectAdditionalProperties", "pets[0].lifes".to_string()),
                ("DiscriminatorValueNotFound", "pets[1].kind".to_string()),
                ("ObjectMissingRequiredProperty", "pets[2].kind".to_string()),
                ("EnumCaseMismatch", "pets[3].kind".to_string()),
                ("InvalidType", "pets[4]".to_string()),
                ("InvalidType", "tags.a".to_string()),
                ("ObjectMissingRequiredProperty", "name".to_string()),
            ]
        );
    }

    #[test]
    fn misspelt_names_get_a_suggestion_and_numbers_are_not_integers() {
        let p = validate(&sample(), &json!({"name": "n", "nmae": 1, "count": 1.5}));
        assert_eq!(p[0].path, "count");
        assert_eq!(p[0].code, "InvalidType");
        assert!(
            p[1].message.contains("did you mean 'name'"),
            "{}",
            p[1].message
        );
    }

    #[test]
    fn read_only_properties_are_stripped_recursively() {
        let mut v = json!({"name": "n", "id": "x", "pets": [{"kind": "Cat", "description": "d", "lives": 1}]});
        strip_read_only(&sample(), &mut v);
        assert_eq!(
            v,
            json!({"name": "n", "pets": [{"kind": "Cat", "lives": 1}]})
        );
    }

    #[test]
    fn date_times_are_checked_for_shape() {
        assert!(looks_like_date_time("2024-05-01T12:00:00.123Z"));
        assert!(looks_like_date_time("2024-05-01T12:00:00+02:00"));
        assert!(!looks_like_date_time("2024-05-01"));
        assert!(!looks_like_date_time("yesterday at noon, roughly"));
    }
}
