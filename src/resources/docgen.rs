//! Renders registry-layout Markdown docs (`docs/index.md`, `docs/resources/*.md`,
//! `docs/data-sources/*.md`) from the schema descriptions and the HCL in `examples/`, so the
//! docs cannot drift from the schema: a test regenerates them and fails on any difference.

use std::fmt::Write;

use crate::protocol::{Attribute, Block, NestedBlock, Nesting, Schema, Type};

/// What a page documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// The provider block (`docs/index.md`).
    Provider,
    /// A managed resource.
    Resource,
    /// A data source.
    DataSource,
}

/// One documentation page to render.
#[derive(Debug)]
pub struct Page<'a> {
    /// Provider, resource or data source.
    pub kind: PageKind,
    /// `multicloud` for the provider, else the Terraform type name.
    pub name: &'a str,
    /// The schema whose descriptions are rendered.
    pub schema: &'a Schema,
    /// HCL shown under "Example Usage".
    pub example: Option<&'a str>,
    /// Shell shown under "Import".
    pub import: Option<&'a str>,
}

/// Renders one page.
pub fn render(page: &Page<'_>) -> String {
    let block = &page.schema.block;
    let (title, heading) = match page.kind {
        PageKind::Provider => (
            "multicloud Provider".to_owned(),
            "multicloud Provider".to_owned(),
        ),
        PageKind::Resource => (
            format!("{} Resource - multicloud", page.name),
            format!("{} (Resource)", page.name),
        ),
        PageKind::DataSource => (
            format!("{} Data Source - multicloud", page.name),
            format!("{} (Data Source)", page.name),
        ),
    };
    let mut out = String::new();
    let first_line = block.description.lines().next().unwrap_or_default();
    let _ = writeln!(
        out,
        "---\npage_title: \"{title}\"\ndescription: |-\n  {first_line}\n---\n"
    );
    let _ = writeln!(out, "# {heading}\n\n{}\n", block.description.trim());
    if let Some(example) = page.example {
        let _ = writeln!(
            out,
            "## Example Usage\n\n```terraform\n{}\n```\n",
            example.trim_end()
        );
    }
    let _ = writeln!(out, "## Schema\n");
    let mut nested = Vec::new();
    write_block(&mut out, block, "", &mut nested);
    while !nested.is_empty() {
        let pending = std::mem::take(&mut nested);
        for (anchor, nb) in pending {
            let _ = writeln!(
                out,
                "<a id=\"nestedblock--{anchor}\"></a>\n### Nested Schema for `{}`\n",
                anchor.replace("--", ".")
            );
            write_block(&mut out, &nb.block, &anchor, &mut nested);
        }
    }
    if let Some(import) = page.import {
        let _ = writeln!(
            out,
            "## Import\n\nImport is supported using the following syntax:\n\n```shell\n{}\n```",
            import.trim_end()
        );
    }
    format!("{}\n", out.trim_end())
}

/// A docs heading and the attributes listed under it.
type AttributeGroup = (&'static str, fn(&Attribute) -> bool);

fn write_block<'s>(
    out: &mut String,
    block: &'s Block,
    prefix: &str,
    nested: &mut Vec<(String, &'s NestedBlock)>,
) {
    let groups: [AttributeGroup; 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional && !a.required),
    ];
    for (heading, belongs) in groups {
        let attrs: Vec<&Attribute> = block.attributes.iter().filter(|a| belongs(a)).collect();
        let blocks: Vec<&NestedBlock> = block
            .blocks
            .iter()
            .filter(|b| match heading {
                "Required" => b.min_items > 0,
                "Optional" => b.min_items == 0,
                _ => false,
            })
            .collect();
        if attrs.is_empty() && blocks.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {heading}\n");
        let mut lines: Vec<(String, String)> = attrs
            .iter()
            .map(|a| {
                let mut tags = type_label(&a.ty);
                if a.sensitive {
                    tags.push_str(", Sensitive");
                }
                let mut text = a.description.trim().to_owned();
                if a.force_new {
                    text.push_str(" Changing this forces a new resource.");
                }
                (
                    a.name.clone(),
                    format!("- `{}` ({tags}) {}", a.name, text.trim()),
                )
            })
            .collect();
        for b in blocks {
            let anchor = if prefix.is_empty() {
                b.type_name.clone()
            } else {
                format!("{prefix}--{}", b.type_name)
            };
            let kind = match b.nesting {
                Nesting::Single | Nesting::Group => "Block",
                Nesting::List => "Block List",
                Nesting::Set => "Block Set",
                Nesting::Map => "Block Map",
            };
            let max = if b.max_items > 0 && !matches!(b.nesting, Nesting::Single | Nesting::Group) {
                format!(", Max: {}", b.max_items)
            } else {
                String::new()
            };
            let first = b
                .block
                .description
                .lines()
                .next()
                .unwrap_or_default()
                .trim();
            lines.push((
                b.type_name.clone(),
                format!("- `{}` ({kind}{max}) {first} (see [below for nested schema](#nestedblock--{anchor}))", b.type_name),
            ));
            nested.push((anchor, b));
        }
        lines.sort();
        for (_, line) in lines {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out);
    }
}

fn type_label(ty: &Type) -> String {
    match ty {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(t) => format!("List of {}", type_label(t)),
        Type::Set(t) => format!("Set of {}", type_label(t)),
        Type::Map(t) => format!("Map of {}", type_label(t)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}
