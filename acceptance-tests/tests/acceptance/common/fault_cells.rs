//! The fault matrix's bookkeeping: for each resource type, the remote objects state says exist
//! and the objects the emulators hold, compared into orphaned (in a cloud, not in state) and
//! lost (in state, not in a cloud), plus the rendering of the final table.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use acceptance_tests::{Emulators, Moto};
use serde_json::Value;

use super::cloud_apps::captures;

/// The resources of the matrix, in table order: (cell name, Terraform address).
pub(crate) const CELLS: [(&str, &str); 7] = [
    (
        "defender_plan_set (pricings)",
        "multicloud_defender_plan_set.pricings",
    ),
    ("aws_oidc_trust (iam)", "multicloud_aws_oidc_trust.iam"),
    (
        "aws_oidc_trust (cloudformation)",
        "multicloud_aws_oidc_trust.cfn",
    ),
    ("security_connector", "multicloud_security_connector.prod"),
    ("multicloud_connector (Arc)", "multicloud_connector.prod"),
    (
        "cloud_apps_aws_user",
        "multicloud_cloud_apps_aws_user.cloud_apps",
    ),
    (
        "resource_provider_registration",
        "multicloud_resource_provider_registration.guest",
    ),
];

/// The namespace the registration cell registers: one no other cell needs, so the providers
/// that register what they use cannot make it exist before Terraform creates it.
pub(crate) const NAMESPACE: &str = "Microsoft.GuestConfiguration";
/// The Cloud Apps user's name.
pub(crate) const USER_NAME: &str = "defender-cloud-apps";
/// The CloudFormation trust's stack.
pub(crate) const STACK: &str = "defender-trust";

/// Remote objects of one cell, as `kind:identifier` strings.
pub(crate) type Objects = BTreeSet<String>;

/// What one cell's comparison found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Comparison {
    /// In a cloud but not in state.
    pub(crate) orphaned: Objects,
    /// In state but not in a cloud.
    pub(crate) lost: Objects,
}

impl Comparison {
    pub(crate) fn new(in_state: &Objects, in_cloud: &Objects) -> Self {
        Self {
            orphaned: in_cloud.difference(in_state).cloned().collect(),
            lost: in_state.difference(in_cloud).cloned().collect(),
        }
    }
}

/// Everything both emulators hold that the matrix's resources can create, read through their
/// admin APIs and list calls (faults must be cleared first: list calls are subject to them).
pub(crate) struct CloudInventory {
    arm: Vec<Value>,
    namespace_registered: bool,
    roles: Vec<String>,
    oidc_providers: Vec<String>,
    stacks: Vec<String>,
    users: Vec<String>,
    keys: Vec<String>,
}

impl CloudInventory {
    pub(crate) fn read(emu: &Emulators) -> Self {
        let moto = emu.moto();
        let users = captures(
            &moto.query("iam", "ListUsers", &[]),
            r"<UserName>([^<]+)</UserName>",
        );
        let keys = if users.iter().any(|u| u == USER_NAME) {
            captures(
                &moto.query("iam", "ListAccessKeys", &[("UserName", USER_NAME)]),
                r"<AccessKeyId>([^<]+)</AccessKeyId>",
            )
        } else {
            Vec::new()
        };
        Self {
            arm: emu.arm_resources(),
            namespace_registered: emu.arm().provider_state(NAMESPACE) == "Registered",
            roles: moto.iam_role_names(),
            oidc_providers: moto.iam_oidc_provider_arns(),
            stacks: live_stacks(moto),
            users,
            keys,
        }
    }

    /// The objects of cell `index` (see [`CELLS`]). Roles are told apart by name: the
    /// CloudFormation trust's plan set renames its roles with a `Cfn` prefix.
    pub(crate) fn objects(&self, index: usize) -> Objects {
        let arm_of = |type_part: &str| -> Objects {
            self.arm
                .iter()
                .filter(|r| {
                    r["type"]
                        .as_str()
                        .is_some_and(|t| t.eq_ignore_ascii_case(type_part))
                })
                .filter(|r| !is_free_pricing(r))
                .filter_map(|r| r["id"].as_str().map(|id| id.to_ascii_lowercase()))
                .collect()
        };
        match index {
            0 => arm_of("Microsoft.Security/pricings"),
            1 => self
                .roles
                .iter()
                .filter(|r| !r.starts_with("Cfn"))
                .map(|r| format!("role:{r}"))
                .chain(self.oidc_providers.iter().map(|p| format!("oidc:{p}")))
                .collect(),
            2 => self
                .roles
                .iter()
                .filter(|r| r.starts_with("Cfn"))
                .map(|r| format!("role:{r}"))
                .chain(self.stacks.iter().map(|s| format!("stack:{s}")))
                .collect(),
            3 => arm_of("Microsoft.Security/securityConnectors"),
            4 => arm_of("Microsoft.HybridConnectivity/publicCloudConnectors")
                .into_iter()
                .chain(arm_of(
                    "Microsoft.HybridConnectivity/solutionConfigurations",
                ))
                .collect(),
            5 => self
                .users
                .iter()
                .map(|u| format!("user:{u}"))
                .chain(self.keys.iter().map(|k| format!("key:{k}")))
                .collect(),
            _ => self
                .namespace_registered
                .then(|| format!("namespace:{NAMESPACE}"))
                .into_iter()
                .collect(),
        }
    }
}

/// A pricing the plan set never wrote: every plan exists, `Free`, until switched on.
fn is_free_pricing(r: &Value) -> bool {
    r["type"]
        .as_str()
        .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Security/pricings"))
        && r["body"]["properties"]["pricingTier"] == "Free"
}

/// Names of stacks that are not deleted (moto lists deleted ones with their status).
fn live_stacks(moto: &Moto) -> Vec<String> {
    let xml = moto.query("cloudformation", "DescribeStacks", &[]);
    let names = captures(&xml, r"<StackName>([^<]+)</StackName>");
    let statuses = captures(&xml, r"<StackStatus>([^<]+)</StackStatus>");
    names
        .into_iter()
        .zip(statuses)
        .filter(|(_, s)| s != "DELETE_COMPLETE")
        .map(|(n, _)| n)
        .collect()
}

/// The remote objects state records for cell `index`, from `terraform show -json` (`values`
/// of the resource, or `None` when it is not in state).
pub(crate) fn objects_in_state(
    index: usize,
    values: Option<&Value>,
    subscription: &str,
) -> Objects {
    let Some(v) = values else {
        return Objects::new();
    };
    let text = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let role_names = || -> Vec<String> {
        v["role_arns"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(|a| a.as_str())
            .filter_map(|a| a.rsplit('/').next())
            .map(|n| format!("role:{n}"))
            .collect()
    };
    match index {
        0 => v["subscription_pricings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["tier"] == "Standard")
            .filter_map(|p| p["name"].as_str())
            .map(|n| {
                format!("/subscriptions/{subscription}/providers/Microsoft.Security/pricings/{n}")
                    .to_ascii_lowercase()
            })
            .collect(),
        1 => {
            let mut o: Objects = role_names().into_iter().collect();
            for k in ["customer_oidc_provider_arn", "oidc_provider_arn"] {
                if let Some(a) = v[k].as_str().filter(|a| !a.is_empty()) {
                    o.insert(format!("oidc:{a}"));
                }
            }
            o
        }
        2 => {
            let mut o: Objects = role_names().into_iter().collect();
            o.insert(format!("stack:{}", text("stack_name")));
            o
        }
        3 => [text("id").to_ascii_lowercase()].into_iter().collect(),
        4 => {
            let id = text("id").to_ascii_lowercase();
            let mut o: Objects = [id.clone()].into_iter().collect();
            for (block, solution) in [
                ("inventory", "inventory"),
                ("arc_onboarding", "arc-onboarding"),
            ] {
                if v[block].as_array().is_some_and(|a| !a.is_empty()) || v[block].is_object() {
                    o.insert(solution_id(&id, solution));
                }
            }
            o
        }
        5 => {
            let mut o: Objects = [format!("user:{}", text("user_name"))]
                .into_iter()
                .collect();
            if let Some(k) = v["access_key_id"].as_str().filter(|k| !k.is_empty()) {
                o.insert(format!("key:{k}"));
            }
            o
        }
        _ => (text("registration_state") == "Registered")
            .then(|| format!("namespace:{NAMESPACE}"))
            .into_iter()
            .collect(),
    }
}

/// The id of a connector's solution configuration, lower case.
fn solution_id(connector: &str, solution: &str) -> String {
    format!("{connector}/providers/microsoft.hybridconnectivity/solutionconfigurations/{solution}")
}

/// One cell's outcome.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    pub(crate) scenario: &'static str,
    pub(crate) resource: &'static str,
    /// `None` when the scenario does not apply to the resource (the reason is in `note`).
    pub(crate) converged: Option<bool>,
    pub(crate) orphaned: Objects,
    pub(crate) lost: Objects,
    /// How the faulty apply ended, and anything else worth a column.
    pub(crate) note: String,
}

impl Cell {
    pub(crate) fn verdict(&self) -> String {
        match self.converged {
            None => "n/a".into(),
            Some(true) if self.orphaned.is_empty() && self.lost.is_empty() => "converged".into(),
            Some(c) => {
                let mut parts = Vec::new();
                if !c {
                    parts.push("NOT converged".to_string());
                }
                if !self.orphaned.is_empty() {
                    parts.push(format!("{} orphaned", self.orphaned.len()));
                }
                if !self.lost.is_empty() {
                    parts.push(format!("{} lost", self.lost.len()));
                }
                parts.join(", ")
            }
        }
    }

    pub(crate) fn ok(&self) -> bool {
        self.converged != Some(false) && self.orphaned.is_empty() && self.lost.is_empty()
    }
}

/// The table: scenario × resource → verdict, orphaned and lost counts, and the note.
pub(crate) fn render(cells: &[Cell]) -> String {
    let widths = [
        cells
            .iter()
            .map(|c| c.scenario.len())
            .max()
            .unwrap_or(8)
            .max(8),
        cells
            .iter()
            .map(|c| c.resource.len())
            .max()
            .unwrap_or(8)
            .max(8),
        cells
            .iter()
            .map(|c| c.verdict().len())
            .max()
            .unwrap_or(7)
            .max(7),
    ];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| {:w0$} | {:w1$} | {:w2$} | orphaned | lost | faulty apply / note",
        "scenario",
        "resource",
        "verdict",
        w0 = widths[0],
        w1 = widths[1],
        w2 = widths[2]
    );
    let _ = writeln!(
        out,
        "|{}|{}|{}|----------|------|---------------------",
        "-".repeat(widths[0] + 2),
        "-".repeat(widths[1] + 2),
        "-".repeat(widths[2] + 2)
    );
    for c in cells {
        let _ = writeln!(
            out,
            "| {:w0$} | {:w1$} | {:w2$} | {:>8} | {:>4} | {}",
            c.scenario,
            c.resource,
            c.verdict(),
            c.orphaned.len(),
            c.lost.len(),
            c.note,
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    }
    out
}
