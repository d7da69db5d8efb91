//! Mapping between the layer's own types and the generated protobuf types.

use super::diagnostics::{AttrPath, Diagnostic, Diagnostics, PathStep, Severity};
use super::error::ProtocolError;
use super::pb::tfplugin6 as pb;
use super::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use super::types::Type;
use super::value::Value;
use super::{json, msgpack};

/// Decodes a DynamicValue (msgpack preferred, JSON accepted); absent means null.
pub(crate) fn decode_value(
    dv: Option<&pb::DynamicValue>,
    ty: &Type,
) -> Result<Value, ProtocolError> {
    match dv {
        None => Ok(Value::Null),
        Some(dv) if !dv.msgpack.is_empty() => msgpack::decode(&dv.msgpack, ty),
        Some(dv) if !dv.json.is_empty() => json::decode(&dv.json, ty),
        Some(_) => Ok(Value::Null),
    }
}

/// Encodes a value as a msgpack DynamicValue.
pub(crate) fn encode_value(value: &Value, ty: &Type) -> Result<pb::DynamicValue, ProtocolError> {
    Ok(pb::DynamicValue {
        msgpack: msgpack::encode(value, ty)?,
        json: Vec::new(),
    })
}

/// Diagnostics as protobuf.
pub(crate) fn diagnostics(diags: &Diagnostics) -> Vec<pb::Diagnostic> {
    diags.iter().map(diagnostic).collect()
}

fn diagnostic(d: &Diagnostic) -> pb::Diagnostic {
    let severity = match d.severity {
        Severity::Error => pb::diagnostic::Severity::Error,
        Severity::Warning => pb::diagnostic::Severity::Warning,
    };
    pb::Diagnostic {
        severity: severity.into(),
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.attribute.as_ref().map(attribute_path),
    }
}

/// An attribute path as protobuf.
pub(crate) fn attribute_path(path: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    let steps = path
        .steps()
        .iter()
        .map(|s| pb::attribute_path::Step {
            selector: Some(match s {
                PathStep::Attr(a) => Selector::AttributeName(a.clone()),
                PathStep::Index(i) => Selector::ElementKeyInt(*i),
                PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
            }),
        })
        .collect();
    pb::AttributePath { steps }
}

/// A schema as protobuf; descriptions are Markdown.
pub(crate) fn schema(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block(&s.block, s.version)),
    }
}

fn block(b: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute).collect(),
        block_types: b.blocks.iter().map(nested_block).collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown.into(),
        deprecated: b.deprecated.is_some(),
        deprecation_message: b.deprecated.clone().unwrap_or_default(),
    }
}

fn attribute(a: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: a.ty.to_json_bytes(),
        nested_type: None,
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown.into(),
        deprecated: a.deprecated.is_some(),
        write_only: false,
        deprecation_message: a.deprecated.clone().unwrap_or_default(),
    }
}

fn nested_block(n: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    let nesting = match n.nesting {
        Nesting::Single => NestingMode::Single,
        Nesting::List => NestingMode::List,
        Nesting::Set => NestingMode::Set,
        Nesting::Map => NestingMode::Map,
        Nesting::Group => NestingMode::Group,
    };
    pb::schema::NestedBlock {
        type_name: n.type_name.clone(),
        block: Some(block(&n.block, 0)),
        nesting: nesting.into(),
        min_items: n.min_items,
        max_items: n.max_items,
    }
}

/// What this server offers beyond the basics.
pub(crate) fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: false,
        move_resource_state: false,
        generate_resource_config: false,
    }
}

/// The diagnostics for a type name this provider does not have.
pub(crate) fn unknown_type(kind: &str, name: &str) -> Diagnostics {
    let mut d = Diagnostics::new();
    d.error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} type named {name:?}."),
    );
    d
}

/// The diagnostics for a protocol feature this provider does not offer.
pub(crate) fn unsupported(what: &str) -> Vec<pb::Diagnostic> {
    let mut d = Diagnostics::new();
    d.error(
        format!("{what} not supported"),
        format!("This provider does not offer {what}."),
    );
    diagnostics(&d)
}

/// Decodes, recording a failure as an error diagnostic.
pub(crate) fn decode(
    dv: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<Value> {
    match decode_value(dv, ty) {
        Ok(v) => Some(v),
        // Terraform checks types before it calls the provider, so this is a mismatch between the
        // schema Terraform holds and this provider's: usually a stale plugin cache.
        Err(ProtocolError::WrongType { path, expected, .. }) if !path.steps().is_empty() => {
            diags.attribute_error(
                path.clone(),
                format!("Invalid {what} sent by Terraform"),
                format!(
                    "`{path}`: {expected} required. Give it a value of that type; if the configuration \
                     already does, run `terraform init -upgrade` so that Terraform uses this provider's schema."
                ),
            );
            None
        }
        Err(e) => {
            diags.error(format!("Invalid {what} sent by Terraform"), e.to_string());
            None
        }
    }
}

/// Encodes, recording a failure (a value not matching the schema) as an error diagnostic.
pub(crate) fn encode(
    v: &Value,
    ty: &Type,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<pb::DynamicValue> {
    encode_value(v, ty)
        .map_err(|e| {
            diags.error(
                format!("Provider produced an invalid {what}"),
                format!("{e}; this is a provider bug."),
            )
        })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_and_diagnostics_map_to_protobuf() {
        let s = Schema::new(
            Block::new()
                .description("The **thing**.")
                .attribute(Attribute::string("secret").optional().sensitive())
                .block(NestedBlock::list("rule", Block::new()).max_items(2)),
        );
        let pb_schema = schema(&s);
        let blk = pb_schema.block.unwrap_or_default();
        assert_eq!(blk.description_kind, i32::from(pb::StringKind::Markdown));
        assert!(blk.attributes[0].sensitive && blk.attributes[0].optional);
        assert_eq!(blk.attributes[0].r#type, b"\"string\"".to_vec());
        assert_eq!(blk.block_types[0].max_items, 2);

        let mut d = Diagnostics::new();
        d.attribute_error(AttrPath::root("a").index(1).key("k"), "bad", "detail");
        let out = diagnostics(&d);
        assert_eq!(out[0].severity, i32::from(pb::diagnostic::Severity::Error));
        assert_eq!(out[0].attribute.as_ref().map(|p| p.steps.len()), Some(3));
    }

    #[test]
    fn absent_or_empty_dynamic_value_is_null() {
        assert_eq!(decode_value(None, &Type::String).ok(), Some(Value::Null));
        let json = pb::DynamicValue {
            msgpack: vec![],
            json: br#""x""#.to_vec(),
        };
        assert_eq!(
            decode_value(Some(&json), &Type::String).ok(),
            Some(Value::from("x"))
        );
    }
}
