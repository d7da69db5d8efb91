//! The registry docs under `docs/` are generated from the schema descriptions and `examples/`:
//! this test fails when they disagree. Regenerate with `UPDATE_DOCS=1 cargo test --test docs`.

use std::path::{Path, PathBuf};

use terraform_provider_multicloud::protocol::Provider;
use terraform_provider_multicloud::resources::MulticloudProvider;
use terraform_provider_multicloud::resources::docgen::{Page, PageKind, render};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_opt(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn pages() -> Vec<(PathBuf, String)> {
    let provider = MulticloudProvider;
    let examples = root().join("examples");
    let mut out = Vec::new();
    let schema = provider.schema();
    let example = read_opt(&examples.join("provider/provider.tf"));
    out.push((
        root().join("docs/index.md"),
        render(&Page {
            kind: PageKind::Provider,
            name: "multicloud",
            schema: &schema,
            example: example.as_deref(),
            import: None,
        }),
    ));
    for r in provider.resources() {
        let name = r.type_name();
        let schema = r.schema();
        let dir = examples.join("resources").join(name);
        let example = read_opt(&dir.join("resource.tf"));
        let import = read_opt(&dir.join("import.sh"));
        assert!(
            example.is_some(),
            "resource {name} has no examples/resources/{name}/resource.tf"
        );
        assert!(
            import.is_some(),
            "resource {name} has no examples/resources/{name}/import.sh"
        );
        let short = name.trim_start_matches("multicloud_");
        out.push((
            root().join(format!("docs/resources/{short}.md")),
            render(&Page {
                kind: PageKind::Resource,
                name,
                schema: &schema,
                example: example.as_deref(),
                import: import.as_deref(),
            }),
        ));
    }
    for d in provider.data_sources() {
        let name = d.type_name();
        let schema = d.schema();
        let example = read_opt(
            &examples
                .join("data-sources")
                .join(name)
                .join("data-source.tf"),
        );
        assert!(
            example.is_some(),
            "data source {name} has no examples/data-sources/{name}/data-source.tf"
        );
        let short = name.trim_start_matches("multicloud_");
        out.push((
            root().join(format!("docs/data-sources/{short}.md")),
            render(&Page {
                kind: PageKind::DataSource,
                name,
                schema: &schema,
                example: example.as_deref(),
                import: None,
            }),
        ));
    }
    out
}

#[test]
fn docs_match_schema() {
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    let mut stale = Vec::new();
    for (path, rendered) in pages() {
        if update {
            std::fs::create_dir_all(path.parent().expect("docs pages live in a folder"))
                .expect("create docs folder");
            std::fs::write(&path, &rendered).expect("write docs page");
        } else if read_opt(&path).as_deref() != Some(rendered.as_str()) {
            stale.push(
                path.strip_prefix(root())
                    .unwrap_or(&path)
                    .display()
                    .to_string(),
            );
        }
    }
    assert!(
        stale.is_empty(),
        "docs out of date with the schema: {stale:?}; run UPDATE_DOCS=1 cargo test --test docs"
    );
}

#[test]
fn every_attribute_has_a_description() {
    fn walk(
        block: &terraform_provider_multicloud::protocol::Block,
        at: &str,
        missing: &mut Vec<String>,
    ) {
        if block.description.trim().is_empty() {
            missing.push(format!("{at} (block)"));
        }
        for a in &block.attributes {
            if a.description.trim().is_empty() {
                missing.push(format!("{at}.{}", a.name));
            }
        }
        for b in &block.blocks {
            walk(&b.block, &format!("{at}.{}", b.type_name), missing);
        }
    }
    let provider = MulticloudProvider;
    let mut missing = Vec::new();
    walk(&provider.schema().block, "provider", &mut missing);
    for r in provider.resources() {
        walk(&r.schema().block, r.type_name(), &mut missing);
    }
    for d in provider.data_sources() {
        walk(&d.schema().block, d.type_name(), &mut missing);
    }
    assert!(
        missing.is_empty(),
        "attributes without a description: {missing:?}"
    );
}
