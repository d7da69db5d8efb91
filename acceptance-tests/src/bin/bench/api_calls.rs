//! What the quickstart costs in cloud API calls, phase by phase (apply from an empty account,
//! a no-op plan, destroy), counted by the emulators themselves: ARM's request log and moto's
//! per-action counters. Prints a table and checks the properties users rely on: a no-op plan
//! writes nothing, and every write changes exactly one object, so apply and destroy write once
//! per object they create or remove (plus, in ARM, a resource provider registration the first
//! time the subscription needs one).

use std::collections::{BTreeMap, BTreeSet};

use acceptance_tests::{Emulators, Install, Paths, TerraformWorkspace};

fn quickstart(paths: &Paths) -> String {
    let read = |name: &str| {
        let path = paths.root.join("examples/quickstart").join(name);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| super::fail(&format!("{}: {e}", path.display())))
    };
    format!("{}\n{}", read("providers.tf"), read("main.tf"))
}

/// Every object the quickstart can create, named so that a set difference shows what a phase
/// changed: ARM resources by id, AWS OIDC providers, roles, and each role's inline policies and
/// managed-policy attachments (each its own IAM call to create or remove).
fn inventory(emu: &Emulators) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for r in emu.arm_resources() {
        if let Some(id) = r["id"].as_str() {
            out.insert(format!("arm {}", id.to_ascii_lowercase()));
        }
    }
    let moto = emu.moto();
    for arn in moto.iam_oidc_provider_arns() {
        out.insert(format!("aws oidc-provider {arn}"));
    }
    for role in moto.iam_role_names() {
        for policy in moto.iam_inline_policy_names(&role) {
            out.insert(format!("aws inline-policy {role}/{policy}"));
        }
        for arn in moto.iam_attached_policy_arns(&role) {
            out.insert(format!("aws attachment {role}/{arn}"));
        }
        out.insert(format!("aws role {role}"));
    }
    out
}

/// The calls one phase made and the objects it changed.
#[derive(Debug, Default)]
struct Phase {
    arm_reads: u64,
    /// Per `METHOD lower-case-path`.
    arm_writes: BTreeMap<String, u64>,
    aws_reads: u64,
    /// Per `service:Action`.
    aws_writes: BTreeMap<String, u64>,
    created: BTreeSet<String>,
    deleted: BTreeSet<String>,
}

impl Phase {
    fn arm_write_total(&self) -> u64 {
        self.arm_writes.values().sum()
    }

    /// Resource provider registrations (`POST .../providers/<namespace>/register`): writes to
    /// the subscription's registration state, which the resource inventory does not hold.
    fn arm_registrations(&self) -> u64 {
        self.arm_writes
            .iter()
            .filter(|(k, _)| k.starts_with("POST ") && k.ends_with("/register"))
            .map(|(_, n)| n)
            .sum()
    }

    fn aws_write_total(&self) -> u64 {
        self.aws_writes.values().sum()
    }

    fn changed(&self, cloud: &str) -> usize {
        self.created
            .iter()
            .chain(&self.deleted)
            .filter(|o| o.starts_with(cloud))
            .count()
    }
}

/// An AWS action that changes nothing. STS calls only hand out credentials.
fn is_aws_read(key: &str) -> bool {
    let action = key.split_once(':').map_or(key, |(_, a)| a);
    key.starts_with("sts:")
        || ["Get", "List", "Describe"]
            .iter()
            .any(|p| action.starts_with(p))
}

/// Runs `step` with both emulators' counters reset, then collects its calls before the
/// inventory queries (which moto would count too) run.
fn measure(emu: &Emulators, step: impl FnOnce()) -> Phase {
    let before = inventory(emu);
    emu.arm().clear_requests();
    emu.moto().reset_calls();
    step();
    let mut phase = Phase::default();
    for (key, n) in emu.moto().calls().as_object().expect("moto calls").iter() {
        let n = n.as_u64().unwrap_or(0);
        if is_aws_read(key) {
            phase.aws_reads += n;
        } else {
            *phase.aws_writes.entry(key.clone()).or_default() += n;
        }
    }
    for r in emu.arm_requests() {
        let path = r
            .path
            .split('?')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !path.starts_with("/subscriptions/") {
            continue; // token requests and other login traffic
        }
        if r.method == "GET" {
            phase.arm_reads += 1;
        } else {
            *phase
                .arm_writes
                .entry(format!("{} {path}", r.method))
                .or_default() += 1;
        }
    }
    let after = inventory(emu);
    phase.created = after.difference(&before).cloned().collect();
    phase.deleted = before.difference(&after).cloned().collect();
    phase
}

fn print_table(phases: &[(&str, &Phase)]) {
    println!("\n## Quickstart API calls (counted by the emulators)\n");
    println!(
        "| phase | ARM reads | ARM writes (of which RP registrations) | ARM objects changed | AWS reads | AWS writes | AWS objects changed |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, p) in phases {
        println!(
            "| {name} | {} | {} ({}) | {} | {} | {} | {} |",
            p.arm_reads,
            p.arm_write_total(),
            p.arm_registrations(),
            p.changed("arm "),
            p.aws_reads,
            p.aws_write_total(),
            p.changed("aws ")
        );
    }
    for (name, p) in phases {
        let aws: Vec<String> = p
            .aws_writes
            .iter()
            .map(|(k, n)| format!("{k} x{n}"))
            .collect();
        let arm: Vec<String> = p
            .arm_writes
            .iter()
            .map(|(k, n)| format!("{k} x{n}"))
            .collect();
        println!(
            "\n{name}: AWS writes [{}]; ARM writes [{}]",
            aws.join(", "),
            arm.join(", ")
        );
    }
}

/// Runs the quickstart against freshly started emulators, prints the table and fails the bench
/// when a property does not hold. Needs the provider and `arm-emulator` binaries in the
/// harness's target directory (`MULTICLOUD_TARGET_DIR`).
pub(crate) fn run(paths: &Paths) {
    let emu = Emulators::start();
    emu.arm()
        .create_resource_group("rg-defender-aws", "westeurope");
    let ws = TerraformWorkspace::new(&emu, &quickstart(paths), Install::DevOverrides);

    let apply = measure(&emu, || {
        ws.apply();
    });
    let plan = measure(&emu, || {
        ws.plan_expect_empty();
    });
    let destroy = measure(&emu, || {
        ws.destroy();
    });
    print_table(&[
        ("apply", &apply),
        ("no-op plan", &plan),
        ("destroy", &destroy),
    ]);

    assert!(
        apply.deleted.is_empty(),
        "apply removed {:?}",
        apply.deleted
    );
    assert!(
        apply.created.iter().any(|o| o.starts_with("arm "))
            && apply.created.iter().any(|o| o.starts_with("aws role ")),
        "apply created {:?}",
        apply.created
    );
    assert_eq!(plan.arm_write_total(), 0, "{plan:?}");
    assert_eq!(plan.aws_write_total(), 0, "{plan:?}");
    assert!(
        plan.created.is_empty() && plan.deleted.is_empty(),
        "{plan:?}"
    );
    assert_eq!(
        destroy.deleted, apply.created,
        "destroy leaves or removes more than apply made"
    );
    for (name, p) in [("apply", &apply), ("destroy", &destroy)] {
        // One write per object changed, in each cloud: no retried or redundant write.
        assert_eq!(
            p.arm_write_total() - p.arm_registrations(),
            p.changed("arm ") as u64,
            "{name}: {p:?}"
        );
        assert_eq!(
            p.aws_write_total(),
            p.changed("aws ") as u64,
            "{name}: {p:?}"
        );
    }
}
