//! The generic plan every resource gets before its own `modify_plan`:
//! computed attributes become unknown when apply may change them, prior
//! values are kept where asked, and `force_new` changes require replacement.

use super::diagnostics::AttrPath;
use super::provider::PlanContext;
use super::schema::{Block, Nesting};
use super::value::Value;

/// Plans a create or update. `prior` is `None` on create; `proposed` is
/// Terraform's proposed new state (configuration merged over prior state).
pub(crate) fn plan(
    block: &Block,
    prior: Option<&Value>,
    config: &Value,
    proposed: &Value,
) -> PlanContext {
    let changed = prior.is_none_or(|p| p != proposed);
    let planned = plan_block(block, config, proposed.clone(), prior, changed);
    let mut requires_replace = Vec::new();
    if let Some(prior) = prior {
        collect_replace(block, config, &planned, prior, None, &mut requires_replace);
    }
    PlanContext {
        prior: prior.cloned(),
        config: config.clone(),
        planned,
        requires_replace,
    }
}

fn non_null(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

/// `mark`: whether computed attributes without configuration become unknown.
fn plan_block(
    block: &Block,
    config: &Value,
    mut planned: Value,
    prior: Option<&Value>,
    mark: bool,
) -> Value {
    if !matches!(planned, Value::Object(_)) {
        return planned;
    }
    let prior = non_null(prior);
    for attr in block.attributes.iter().filter(|a| a.computed) {
        if !mark || !config.get(&attr.name).is_null() {
            continue;
        }
        let kept = prior
            .filter(|_| attr.use_state_for_unknown)
            .map(|p| p.get(&attr.name))
            .filter(|v| !v.is_null());
        planned.set_attr(&attr.name, kept.cloned().unwrap_or(Value::Unknown));
    }
    for nested in &block.blocks {
        let name = nested.type_name.as_str();
        let cfg = config.get(name);
        let prior_nested = prior.map(|p| p.get(name));
        let current = planned.get(name).clone();
        let new = match (nested.nesting, current) {
            // Blocks are never computed, so a single block absent from the configuration is
            // absent from the plan, whatever Terraform proposed from prior state (1.0 proposes
            // the old block, then rejects a plan that keeps it).
            (Nesting::Single, _) if cfg.is_null() => Value::Null,
            (Nesting::Single | Nesting::Group, v) => {
                plan_block(&nested.block, cfg, v, prior_nested, mark)
            }
            (Nesting::List, Value::List(items)) => Value::List(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let cfg_item = cfg.as_list().and_then(|l| l.get(i)).unwrap_or(&Value::Null);
                        let prior_item =
                            prior_nested.and_then(Value::as_list).and_then(|l| l.get(i));
                        plan_block(&nested.block, cfg_item, item, prior_item, mark)
                    })
                    .collect(),
            ),
            (Nesting::Map, Value::Map(entries)) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, item)| {
                        let prior_item =
                            prior_nested.and_then(Value::as_map).and_then(|m| m.get(&k));
                        let planned_item =
                            plan_block(&nested.block, cfg.get(&k), item, prior_item, mark);
                        (k, planned_item)
                    })
                    .collect(),
            ),
            (Nesting::Set, Value::Set(items)) => {
                let prior_items = prior_nested.and_then(Value::as_list).unwrap_or_default();
                Value::Set(
                    items
                        .into_iter()
                        .map(|item| {
                            // Set elements have no identity: an element seen before is
                            // unchanged, any other one is new.
                            if prior_items.contains(&item) {
                                return item;
                            }
                            let cfg_item = matching_config(cfg, &item);
                            plan_block(&nested.block, cfg_item, item, None, true)
                        })
                        .collect(),
                )
            }
            (_, other) => other,
        };
        planned.set_attr(name, new);
    }
    planned
}

/// The configured set element that `item` was proposed from: the one whose
/// non-null configured attributes all agree with it.
fn matching_config<'a>(cfg: &'a Value, item: &Value) -> &'a Value {
    cfg.as_list()
        .unwrap_or_default()
        .iter()
        .find(|c| {
            c.as_map()
                .is_some_and(|m| m.iter().all(|(k, v)| v.is_null() || item.get(k) == v))
        })
        .unwrap_or(&Value::Null)
}

fn extend(path: &Option<AttrPath>, name: &str) -> AttrPath {
    match path {
        Some(p) => p.clone().attr(name),
        None => AttrPath::root(name),
    }
}

fn has_force_new(block: &Block) -> bool {
    block.attributes.iter().any(|a| a.force_new)
        || block.blocks.iter().any(|b| has_force_new(&b.block))
}

fn collect_replace(
    block: &Block,
    config: &Value,
    planned: &Value,
    prior: &Value,
    path: Option<AttrPath>,
    out: &mut Vec<AttrPath>,
) {
    if prior.is_null() || planned.is_null() {
        return;
    }
    for attr in block.attributes.iter().filter(|a| a.force_new) {
        // A computed value the user did not configure cannot force a replacement.
        if attr.computed && config.get(&attr.name).is_null() {
            continue;
        }
        if planned.get(&attr.name) != prior.get(&attr.name) {
            out.push(extend(&path, &attr.name));
        }
    }
    for nested in block.blocks.iter().filter(|b| has_force_new(&b.block)) {
        let name = nested.type_name.as_str();
        let (p, n, c) = (prior.get(name), planned.get(name), config.get(name));
        let here = extend(&path, name);
        match nested.nesting {
            Nesting::Single | Nesting::Group if !p.is_null() && !n.is_null() => {
                collect_replace(&nested.block, c, n, p, Some(here), out);
            }
            Nesting::List => match (p.as_list(), n.as_list()) {
                (Some(pl), Some(nl)) if pl.len() == nl.len() => {
                    for (i, (pi, ni)) in pl.iter().zip(nl).enumerate() {
                        let ci = c.as_list().and_then(|l| l.get(i)).unwrap_or(&Value::Null);
                        collect_replace(
                            &nested.block,
                            ci,
                            ni,
                            pi,
                            Some(here.clone().index(i as i64)),
                            out,
                        );
                    }
                }
                _ if p != n => out.push(here),
                _ => {}
            },
            _ if p != n => out.push(here),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::schema::{Attribute, NestedBlock};

    fn block() -> Block {
        Block::new()
            .attribute(Attribute::string("id").computed().use_state_for_unknown())
            .attribute(Attribute::string("name").required().force_new())
            .attribute(Attribute::string("note").optional())
            .attribute(Attribute::string("etag").computed())
            .attribute(
                Attribute::string("region")
                    .optional()
                    .computed()
                    .force_new(),
            )
            .block(NestedBlock::list(
                "rule",
                Block::new()
                    .attribute(Attribute::int("port").required().force_new())
                    .attribute(Attribute::string("rule_id").computed()),
            ))
    }

    fn state(name: &str, note: Value) -> Value {
        Value::object([
            ("id", Value::from("i-1")),
            ("name", Value::from(name)),
            ("note", note),
            ("etag", Value::from("e1")),
            ("region", Value::from("west")),
            (
                "rule",
                Value::list([Value::object([
                    ("port", Value::from(80_i64)),
                    ("rule_id", Value::from("r1")),
                ])]),
            ),
        ])
    }

    fn config(name: &str, note: Value) -> Value {
        Value::object([
            ("id", Value::Null),
            ("name", Value::from(name)),
            ("note", note),
            ("etag", Value::Null),
            ("region", Value::Null),
            (
                "rule",
                Value::list([Value::object([
                    ("port", Value::from(80_i64)),
                    ("rule_id", Value::Null),
                ])]),
            ),
        ])
    }

    #[test]
    fn create_marks_computed_unknown_and_keeps_config_unknowns() {
        let cfg = config("a", Value::Unknown);
        let plan = plan(&block(), None, &cfg, &cfg);
        assert!(plan.planned.get("id").is_unknown());
        assert!(plan.planned.get("etag").is_unknown());
        assert!(plan.planned.get("region").is_unknown());
        assert!(plan.planned.get("note").is_unknown());
        assert_eq!(plan.planned.get("name").as_str(), Some("a"));
        let rule = plan
            .planned
            .get("rule")
            .as_list()
            .and_then(|l| l.first())
            .cloned()
            .unwrap_or_default();
        assert!(rule.get("rule_id").is_unknown());
        assert!(plan.requires_replace.is_empty());
    }

    #[test]
    fn unchanged_update_keeps_state() {
        let prior = state("a", Value::from("n"));
        let plan = plan(
            &block(),
            Some(&prior),
            &config("a", Value::from("n")),
            &prior,
        );
        assert_eq!(plan.planned, prior);
        assert!(plan.requires_replace.is_empty());
    }

    #[test]
    fn in_place_update_marks_computed_unless_use_state() {
        let prior = state("a", Value::from("n"));
        let proposed = state("a", Value::from("changed"));
        let plan = plan(
            &block(),
            Some(&prior),
            &config("a", Value::from("changed")),
            &proposed,
        );
        assert_eq!(plan.planned.get("id").as_str(), Some("i-1"));
        assert!(plan.planned.get("etag").is_unknown());
        assert!(plan.requires_replace.is_empty());
    }

    #[test]
    fn single_block_removed_from_config_is_planned_absent() {
        let block = Block::new()
            .attribute(Attribute::string("name").required())
            .block(NestedBlock::single(
                "extra",
                Block::new().attribute(Attribute::string("flag").optional()),
            ));
        let prior = Value::object([
            ("name", Value::from("a")),
            ("extra", Value::object([("flag", Value::from("on"))])),
        ]);
        let config = Value::object([("name", Value::from("a")), ("extra", Value::Null)]);
        let planned = plan(&block, Some(&prior), &config, &prior).planned;
        assert_eq!(planned.get("extra"), &Value::Null);
        assert_eq!(planned.get("name"), &Value::from("a"));
    }

    #[test]
    fn force_new_changes_require_replace_with_paths() {
        let prior = state("a", Value::Null);
        let mut proposed = state("b", Value::Null);
        proposed.set_attr(
            "rule",
            Value::list([Value::object([
                ("port", Value::from(443_i64)),
                ("rule_id", Value::from("r1")),
            ])]),
        );
        let mut cfg = config("b", Value::Null);
        cfg.set_attr(
            "rule",
            Value::list([Value::object([
                ("port", Value::from(443_i64)),
                ("rule_id", Value::Null),
            ])]),
        );
        let plan = plan(&block(), Some(&prior), &cfg, &proposed);
        assert_eq!(
            plan.requires_replace,
            vec![
                AttrPath::root("name"),
                AttrPath::root("rule").index(0).attr("port")
            ]
        );
    }
}
