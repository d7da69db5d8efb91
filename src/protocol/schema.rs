//! Schemas of the provider, resources and data sources, with builders.
//! Fields are public so that documentation can be generated from them.
//!
//! ```
//! use terraform_provider_multicloud::protocol::{Attribute, Block, NestedBlock, Schema, Type};
//!
//! let schema = Schema::new(
//!     Block::new()
//!         .description("An AWS account onboarded into Defender for Cloud.")
//!         .attribute(Attribute::string("id").computed().use_state_for_unknown())
//!         .attribute(Attribute::string("name").required().force_new().description("Connector name."))
//!         .attribute(Attribute::map("tags", Type::String).optional())
//!         .attribute(Attribute::string("client_secret").optional().sensitive())
//!         .block(NestedBlock::list("rule", Block::new().attribute(Attribute::int("port").required())).max_items(5)),
//! );
//! assert_eq!(schema.block.attributes.len(), 4);
//! assert!(matches!(schema.value_type(), Type::Object(attrs) if attrs.contains_key("rule")));
//! ```

use std::collections::BTreeMap;

use super::types::Type;

/// A versioned schema: the top-level block of a provider, resource or data source.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    /// State schema version; bump it when stored state needs upgrading.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

impl Schema {
    /// A version-0 schema.
    pub fn new(block: Block) -> Self {
        Schema { version: 0, block }
    }

    /// Sets the schema version.
    pub fn with_version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    /// The object type of values under this schema.
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

/// A block: attributes plus nested blocks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    /// Attributes, in declaration order.
    pub attributes: Vec<Attribute>,
    /// Nested blocks, in declaration order.
    pub blocks: Vec<NestedBlock>,
    /// Markdown description.
    pub description: String,
    /// Deprecation message, when deprecated.
    pub deprecated: Option<String>,
}

impl Block {
    /// An empty block.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an attribute.
    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// Adds a nested block.
    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    /// Sets the Markdown description.
    pub fn description(mut self, markdown: impl Into<String>) -> Self {
        self.description = markdown.into();
        self
    }

    /// Marks the block deprecated.
    pub fn deprecated(mut self, message: impl Into<String>) -> Self {
        self.deprecated = Some(message.into());
        self
    }

    /// The attribute called `name`.
    pub fn find_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The nested block called `name`.
    pub fn find_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.type_name == name)
    }

    /// The object type of values of this block.
    pub fn value_type(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.ty.clone()))
            .collect();
        for nested in &self.blocks {
            let obj = nested.block.value_type();
            let ty = match nested.nesting {
                Nesting::Single | Nesting::Group => obj,
                Nesting::List => Type::list(obj),
                Nesting::Set => Type::set(obj),
                Nesting::Map => Type::map(obj),
            };
            attrs.insert(nested.type_name.clone(), ty);
        }
        Type::Object(attrs)
    }
}

/// One attribute, built with [`Attribute::string`] and friends.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// Attribute name (snake_case).
    pub name: String,
    /// Value type.
    pub ty: Type,
    /// Markdown description.
    pub description: String,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// Set by the provider (when not configured, if also optional).
    pub computed: bool,
    /// Hidden in plan output and never logged.
    pub sensitive: bool,
    /// Deprecation message, when deprecated.
    pub deprecated: Option<String>,
    /// A change of this attribute replaces the resource.
    pub force_new: bool,
    /// A computed value is kept from state instead of becoming unknown on update.
    pub use_state_for_unknown: bool,
}

impl Attribute {
    /// An attribute of any type; neither required, optional nor computed yet.
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Attribute {
            name: name.into(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            deprecated: None,
            force_new: false,
            use_state_for_unknown: false,
        }
    }

    /// A string attribute.
    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, Type::String)
    }

    /// A bool attribute.
    pub fn bool(name: impl Into<String>) -> Self {
        Self::new(name, Type::Bool)
    }

    /// A number attribute.
    pub fn number(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number)
    }

    /// An integer attribute (a number to Terraform).
    pub fn int(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number)
    }

    /// A list of `element`.
    pub fn list(name: impl Into<String>, element: Type) -> Self {
        Self::new(name, Type::list(element))
    }

    /// A set of `element`.
    pub fn set(name: impl Into<String>, element: Type) -> Self {
        Self::new(name, Type::set(element))
    }

    /// A map of `element`.
    pub fn map(name: impl Into<String>, element: Type) -> Self {
        Self::new(name, Type::map(element))
    }

    /// An object attribute with the given attribute types.
    pub fn object<K: Into<String>>(
        name: impl Into<String>,
        attributes: impl IntoIterator<Item = (K, Type)>,
    ) -> Self {
        Self::new(name, Type::object(attributes))
    }

    /// Must be configured.
    pub fn required(mut self) -> Self {
        self.required = true;
        self.optional = false;
        self
    }

    /// May be configured.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self.required = false;
        self
    }

    /// Set by the provider.
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    /// Hidden from plan output and logs.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Markdown description.
    pub fn description(mut self, markdown: impl Into<String>) -> Self {
        self.description = markdown.into();
        self
    }

    /// Changing the value replaces the resource.
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }

    /// On update, keep the prior state's value instead of planning unknown.
    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }

    /// Marks the attribute deprecated.
    pub fn deprecated(mut self, message: impl Into<String>) -> Self {
        self.deprecated = Some(message.into());
        self
    }
}

/// How a nested block repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one; null when absent.
    Single,
    /// An ordered list of blocks.
    List,
    /// An unordered set of blocks.
    Set,
    /// Blocks keyed by label.
    Map,
    /// Exactly one; never null (attributes are null when absent).
    Group,
}

/// A nested block type.
#[derive(Debug, Clone, PartialEq)]
pub struct NestedBlock {
    /// Block type name as written in HCL.
    pub type_name: String,
    /// The block's contents.
    pub block: Block,
    /// Repetition mode.
    pub nesting: Nesting,
    /// Minimum number of blocks (0 = no minimum).
    pub min_items: i64,
    /// Maximum number of blocks (0 = no maximum).
    pub max_items: i64,
}

impl NestedBlock {
    /// A nested block with the given nesting mode.
    pub fn new(type_name: impl Into<String>, nesting: Nesting, block: Block) -> Self {
        NestedBlock {
            type_name: type_name.into(),
            block,
            nesting,
            min_items: 0,
            max_items: 0,
        }
    }

    /// At most one block (`Nesting::Single`).
    pub fn single(type_name: impl Into<String>, block: Block) -> Self {
        Self::new(type_name, Nesting::Single, block)
    }

    /// A list of blocks.
    pub fn list(type_name: impl Into<String>, block: Block) -> Self {
        Self::new(type_name, Nesting::List, block)
    }

    /// A set of blocks.
    pub fn set(type_name: impl Into<String>, block: Block) -> Self {
        Self::new(type_name, Nesting::Set, block)
    }

    /// Sets the minimum number of blocks.
    pub fn min_items(mut self, n: i64) -> Self {
        self.min_items = n;
        self
    }

    /// Sets the maximum number of blocks.
    pub fn max_items(mut self, n: i64) -> Self {
        self.max_items = n;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_value_type_from_attributes_and_blocks() {
        let schema = Schema::new(
            Block::new()
                .attribute(Attribute::string("id").computed())
                .attribute(Attribute::map("tags", Type::String).optional())
                .block(NestedBlock::single(
                    "azure",
                    Block::new().attribute(Attribute::string("tenant_id").optional()),
                ))
                .block(
                    NestedBlock::list(
                        "rule",
                        Block::new().attribute(Attribute::int("port").required()),
                    )
                    .max_items(3),
                ),
        )
        .with_version(2);
        let expected = Type::object([
            ("id", Type::String),
            ("tags", Type::map(Type::String)),
            ("azure", Type::object([("tenant_id", Type::String)])),
            ("rule", Type::list(Type::object([("port", Type::Number)]))),
        ]);
        assert_eq!(schema.value_type(), expected);
        assert_eq!(schema.version, 2);
        let attr = Attribute::string("secret")
            .required()
            .optional()
            .sensitive();
        assert!(attr.optional && !attr.required && attr.sensitive);
        assert_eq!(
            schema.block.find_block("rule").map(|b| b.max_items),
            Some(3)
        );
    }
}
