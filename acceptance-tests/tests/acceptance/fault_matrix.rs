//! The fault matrix: every resource that writes to a cloud, applied with the real Terraform CLI
//! while the emulated clouds misbehave, then applied again with the faults gone. After the
//! second apply, state must match both clouds exactly (nothing orphaned, nothing lost, an empty
//! plan), and destroy must leave both clouds empty. Scenarios: a 429 storm with `Retry-After`,
//! a 5xx burst, dropped connections (unprocessed, and processed with the answer lost), answers
//! slower than the client's timeout, Terraform killed with SIGKILL mid-apply, and the ARM
//! emulator killed and restarted mid-apply (ARM only: moto keeps its objects in memory, so a
//! restarted moto would forget everything, which no real cloud does).
//!
//! All resources share one configuration per scenario, so one apply exercises them all and the
//! seven cells of a scenario cost one set of Terraform runs. Each scenario is its own test
//! (`acc_fault_matrix_<scenario>`) with its own emulators, so the test harness runs them next to
//! each other and next to the other acceptance tests; each prints its rows of the table when it
//! ends. A cell that does not converge fails its test unless it is listed in [`KNOWN_FAILURES`]
//! with its reason.
//!
//! To chase one cell: run only its test (`cargo test -p acceptance-tests --test acceptance
//! fault_matrix::acc_fault_matrix_dropped_connections`),
//! or set `FAULT_MATRIX_ONLY=dropped` to skip the scenarios whose name does not contain that
//! text; `FAULT_MATRIX_REPEAT=5` runs each of them five times (each with fresh emulators),
//! and `FAULT_MATRIX_KEEP_LOGS=<dir>` copies each run's Terraform log (provider log included),
//! Terraform's output, moto's log and moto's fault hits there.

use crate::common;

use std::cell::Cell as Flag;
use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use acceptance_tests::{EmulatorOptions, Emulators, Install, TerraformWorkspace, skip_unless_acc};
use common::arm_api::ArmApi;
use common::fault_cells::{
    CELLS, Cell, CloudInventory, Comparison, Objects, STACK, USER_NAME, objects_in_state, render,
};
use serde_json::{Value, json};

/// Cells that are known not to converge (or not always), with the reason; they are shown in the
/// table like any other and do not fail the test. Every entry is an open bug.
const KNOWN_FAILURES: &[(&str, &str, &str)] = &[];

/// Names a subset of scenarios to run (to reproduce one cell alone): comma-separated,
/// case-insensitive parts of scenario names, e.g. `dropped,slower`. All run when unset.
const ONLY_VAR: &str = "FAULT_MATRIX_ONLY";

fn selected(scenario: &str) -> bool {
    let Ok(only) = std::env::var(ONLY_VAR) else {
        return true;
    };
    let scenario = scenario.to_ascii_lowercase();
    only.split(',')
        .map(|p| p.trim().to_ascii_lowercase())
        .any(|p| !p.is_empty() && scenario.contains(&p))
}

/// Runs each selected scenario this many times (to measure how reliably a cell converges).
const REPEAT_VAR: &str = "FAULT_MATRIX_REPEAT";

fn repeats() -> usize {
    std::env::var(REPEAT_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1)
}

/// A directory to copy each scenario's Terraform log (TF_LOG=TRACE, provider included) and
/// emulator logs into, for reading the sequence of calls after the run.
const KEEP_LOGS_VAR: &str = "FAULT_MATRIX_KEEP_LOGS";

fn keep_logs(
    fault: Fault,
    emu: &Emulators,
    ws: &TerraformWorkspace,
    moto_faults: Option<&str>,
    outputs: &[String],
) {
    let Some(root) = std::env::var_os(KEEP_LOGS_VAR) else {
        return;
    };
    let slug: String = fault
        .name()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let dir = std::path::Path::new(&root).join(format!("{slug}-{nanos}"));
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::copy(ws.log_path(), dir.join("terraform.log"));
    let _ = std::fs::write(dir.join("terraform-output.txt"), outputs.join("\n----\n"));
    let _ = std::fs::write(
        dir.join("moto-faults.json"),
        moto_faults.unwrap_or_default(),
    );
    if let Ok(entries) = std::fs::read_dir(emu.dir()) {
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "log") {
                let _ = std::fs::copy(e.path(), dir.join(e.file_name()));
            }
        }
    }
}

/// Repeats of one scenario run at once (each one mostly waits on Terraform and the emulators).
const PARALLEL: usize = 3;

const APPLY: [&str; 4] = ["apply", "-auto-approve", "-input=false", "-no-color"];
const DESTROY: [&str; 4] = ["destroy", "-auto-approve", "-input=false", "-no-color"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Throttling,
    ServerErrors,
    DroppedConnections,
    SlowerThanTimeout,
    TerraformKilled,
    ArmRestarted,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Throttling => "429 storm + Retry-After",
            Fault::ServerErrors => "5xx burst",
            Fault::DroppedConnections => "dropped connections",
            Fault::SlowerThanTimeout => "answers slower than timeout",
            Fault::TerraformKilled => "terraform SIGKILLed mid-apply",
            Fault::ArmRestarted => "ARM emulator restarted mid-apply",
        }
    }

    /// The fault rules of both emulators, switched on before the faulty apply. Most of them
    /// are bounded (`count`), so the faulty apply itself may already succeed through retries.
    fn inject(self, emu: &Emulators) {
        let arm = |rule: Value| {
            emu.add_fault(rule);
        };
        let moto = |rule: Value| {
            emu.moto().add_fault(rule);
        };
        let arm_paths = "/subscriptions/";
        match self {
            Fault::Throttling => {
                arm(json!({"path_contains": arm_paths, "every": 2, "count": 10,
                           "status": 429, "retry_after": "1"}));
                for service in ["iam", "cloudformation", "sts"] {
                    moto(json!({"service": service, "every": 2, "count": 6,
                                "status": 400, "code": "Throttling"}));
                }
            }
            Fault::ServerErrors => {
                arm(json!({"path_contains": arm_paths, "count": 3, "status": 503}));
                arm(json!({"path_contains": arm_paths, "skip": 8, "count": 2, "status": 500}));
                moto(json!({"service": "iam", "count": 3, "status": 500,
                            "code": "ServiceFailure"}));
                moto(
                    json!({"service": "cloudformation", "count": 2, "status": 503,
                            "code": "ServiceUnavailable"}),
                );
            }
            Fault::DroppedConnections => {
                arm(json!({"path_contains": arm_paths, "every": 3, "count": 4, "drop": true}));
                arm(json!({"method": "PUT", "count": 3, "drop_after": true}));
                moto(json!({"service": "iam", "every": 4, "count": 3, "drop": true}));
                // Each kind of IAM write once processed with its answer lost: creates (the
                // SDK's resend meets the object the lost attempt made) and idempotent writes.
                for action in [
                    "CreateOpenIDConnectProvider",
                    "CreateRole",
                    "PutRolePolicy",
                    "AttachRolePolicy",
                    "CreateUser",
                    "PutUserPolicy",
                    "CreateAccessKey",
                ] {
                    moto(json!({"service": "iam", "action": action, "count": 1,
                                "drop_after": true}));
                }
                moto(
                    json!({"service": "cloudformation", "action": "CreateStack", "count": 1,
                            "drop_after": true}),
                );
            }
            Fault::SlowerThanTimeout => {
                arm(json!({"method": "PUT", "count": 3, "delay_ms": SLOW_MS}));
                for action in ["CreateRole", "CreateUser", "CreateAccessKey"] {
                    moto(json!({"service": "iam", "action": action, "count": 1,
                                "delay_ms": SLOW_MS}));
                }
                moto(
                    json!({"service": "cloudformation", "action": "CreateStack", "count": 1,
                            "delay_ms": SLOW_MS}),
                );
            }
            Fault::TerraformKilled | Fault::ArmRestarted => {
                // Slow every write a little, so the kill lands while calls are in flight.
                arm(json!({"method": "PUT", "delay_ms": 400}));
                if self == Fault::TerraformKilled {
                    moto(json!({"service": "iam", "count": null, "delay_ms": 150}));
                }
            }
        }
    }

    fn touches_aws(self) -> bool {
        self != Fault::ArmRestarted
    }
}

/// Delay of a slow answer, and the client timeout it must exceed (set through the provider's
/// environment variable for that scenario only).
const SLOW_MS: u64 = 5_000;
const CLIENT_TIMEOUT_SECS: &str = "3";

/// Every resource of the matrix, independent of each other except the CloudFormation trust,
/// which waits for the IAM one: both want the account's OIDC provider for Microsoft's issuer,
/// which the IAM trust creates and the stack then leaves outside itself.
fn config() -> String {
    common::config(&format!(
        r#"
variable "tenant_id" {{
  type = string
}}

variable "subscription_id" {{
  type = string
}}

resource "multicloud_resource_provider_registration" "guest" {{
  namespace = "{namespace}"
}}

resource "multicloud_defender_plan_set" "pricings" {{
  subscription_id = var.subscription_id
  servers {{
    plan = "P1"
  }}
}}

resource "multicloud_defender_plan_set" "std" {{
  servers {{
    plan = "P2"
  }}
}}

resource "multicloud_aws_oidc_trust" "iam" {{
  tenant_id = var.tenant_id
  roles     = multicloud_defender_plan_set.std.aws_roles
}}

resource "multicloud_defender_plan_set" "cfn" {{
  role_names = {{ cspm_monitor = "CfnCspmMonitorAws" }}
}}

resource "multicloud_aws_oidc_trust" "cfn" {{
  tenant_id  = var.tenant_id
  roles      = multicloud_defender_plan_set.cfn.aws_roles
  deployment = "cloudformation"
  stack_name = "{STACK}"
  depends_on = [multicloud_aws_oidc_trust.iam]
}}

resource "multicloud_security_connector" "prod" {{
  name                = "aws-prod"
  resource_group_name = "rg-security"
  location            = "westeurope"
  aws_account_id      = "123456789012"
  regions             = ["us-east-1"]
  offerings           = multicloud_defender_plan_set.std.offerings
  role_arns = {{
    for role in multicloud_defender_plan_set.std.aws_roles :
    role.key => "arn:aws:iam::123456789012:role/${{role.name}}"
  }}
}}

resource "multicloud_connector" "prod" {{
  name                = "aws-prod"
  resource_group_name = "rg-arc"
  location            = "eastus"
  aws_account_id      = "123456789012"

  inventory {{
    services = ["ec2", "s3"]
  }}

  arc_onboarding {{
    regions = ["us-east-1"]
  }}
}}

resource "multicloud_cloud_apps_aws_user" "cloud_apps" {{
  user_name = "{USER_NAME}"
}}
"#,
        namespace = common::fault_cells::NAMESPACE,
    ))
}

// One test per scenario, so the test harness runs them next to each other and next to the
// other acceptance tests instead of holding a thread for the whole matrix.

#[test]
fn acc_fault_matrix_throttling() {
    matrix_rows(Fault::Throttling);
}

#[test]
fn acc_fault_matrix_server_errors() {
    matrix_rows(Fault::ServerErrors);
}

#[test]
fn acc_fault_matrix_dropped_connections() {
    matrix_rows(Fault::DroppedConnections);
}

#[test]
fn acc_fault_matrix_slower_than_timeout() {
    matrix_rows(Fault::SlowerThanTimeout);
}

#[test]
fn acc_fault_matrix_terraform_killed() {
    matrix_rows(Fault::TerraformKilled);
}

#[test]
fn acc_fault_matrix_arm_restarted() {
    matrix_rows(Fault::ArmRestarted);
}

/// The rows of one scenario: runs it ([`REPEAT_VAR`] times, [`PARALLEL`] at a time), prints its
/// part of the table and fails on a cell that did not converge and is not a known failure.
fn matrix_rows(fault: Fault) {
    skip_unless_acc!();
    if !selected(fault.name()) {
        eprintln!("skipped: {ONLY_VAR} does not name \"{}\"", fault.name());
        return;
    }
    let started = Instant::now();
    let runs = repeats();
    let queue = Mutex::new(vec![fault; runs]);
    let cells = Mutex::new(Vec::<Cell>::new());
    std::thread::scope(|s| {
        for _ in 0..runs.min(PARALLEL) {
            s.spawn(|| {
                while let Some(fault) = lock(&queue).pop() {
                    let outcome =
                        std::panic::catch_unwind(AssertUnwindSafe(|| run_scenario(fault, &cells)));
                    if let Err(panic) = outcome {
                        let why = panic_text(&panic);
                        let mut all = lock(&cells);
                        let recorded = all.iter().any(|c| c.scenario == fault.name());
                        if !recorded {
                            all.extend(CELLS.iter().map(|(resource, _)| Cell {
                                scenario: fault.name(),
                                resource,
                                converged: Some(false),
                                orphaned: Objects::new(),
                                lost: Objects::new(),
                                note: format!("harness failure: {why}"),
                            }));
                        } else {
                            all.push(Cell {
                                scenario: fault.name(),
                                resource: "(workspace)",
                                converged: Some(false),
                                orphaned: Objects::new(),
                                lost: Objects::new(),
                                note: format!("after the cells: {why}"),
                            });
                        }
                    }
                }
            });
        }
    });
    let mut cells = cells.into_inner().unwrap_or_else(|p| p.into_inner());
    cells.sort_by_key(|c| CELLS.iter().position(|(r, _)| *r == c.resource));
    let table = render(&cells);
    // Straight to stderr, past the test harness's capture: the table is the point of the run.
    let _ = writeln!(
        std::io::stderr(),
        "\nfault matrix, {} ({} cells, {:.0?}):\n{table}",
        fault.name(),
        cells.len(),
        started.elapsed()
    );

    let unexpected: Vec<String> = cells
        .iter()
        .filter(|c| !c.ok())
        .filter(|c| {
            !KNOWN_FAILURES
                .iter()
                .any(|(s, r, _)| *s == c.scenario && *r == c.resource)
        })
        .map(|c| {
            format!(
                "{} × {}: {} (orphaned {:?}, lost {:?}; {})",
                c.scenario,
                c.resource,
                c.verdict(),
                c.orphaned,
                c.lost,
                c.note
            )
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "cells that did not converge:\n{}\n\n{table}",
        unexpected.join("\n")
    );
}

/// One scenario: fresh emulators, faulty apply, clean apply, comparison, destroy, comparison.
/// Its cells are recorded in `out` before the workspace is dropped (and scanned for secrets).
fn run_scenario(fault: Fault, out: &Mutex<Vec<Cell>>) {
    let options = if fault == Fault::ArmRestarted {
        EmulatorOptions::default().with_persistent_arm()
    } else {
        EmulatorOptions::default()
    };
    let emu = Emulators::start_with(options);
    let arm = ArmApi::new(&emu);
    arm.resource_group("rg-security", "westeurope");
    arm.resource_group("rg-arc", "eastus");
    let ws = TerraformWorkspace::new(&emu, &config(), Install::DevOverrides);
    ws.set_env("TF_VAR_tenant_id", emu.tenant_id());
    ws.set_env("TF_VAR_subscription_id", emu.subscription_id());
    if fault == Fault::SlowerThanTimeout {
        ws.set_env("MULTICLOUD_REQUEST_TIMEOUT_SECONDS", CLIENT_TIMEOUT_SECS);
    }

    fault.inject(&emu);
    let faulty = match fault {
        Fault::TerraformKilled => ws.run_killed_when(&APPLY, &|| {
            emu.arm().write_count(None) >= 2 || emu.moto().call_count("iam", "CreateRole") >= 3
        }),
        Fault::ArmRestarted => {
            let restarted = Flag::new(false);
            ws.run_killed_when(&APPLY, &|| {
                if !restarted.get() && emu.arm().write_count(None) >= 2 {
                    emu.restart_arm(Duration::from_millis(1_500));
                    restarted.set(true);
                }
                false
            })
        }
        _ => ws.run(&APPLY),
    };
    let first = if faulty.timed_out {
        "killed".to_string()
    } else if faulty.success() {
        "apply ok".to_string()
    } else {
        format!("apply failed: {}", first_error(&faulty.combined()))
    };
    let fault_hits = std::env::var_os(KEEP_LOGS_VAR).map(|_| emu.moto().faults().to_string());
    emu.arm().clear_faults();
    emu.moto().clear_faults();

    let again = ws.run(&APPLY);
    let changes = planned_changes(&ws);
    let state = ws.state_json();
    let inventory = CloudInventory::read(&emu);
    let mut cells: Vec<Cell> = CELLS
        .iter()
        .enumerate()
        .map(|(i, (resource, address))| {
            let values = find(&state, address);
            let in_state = objects_in_state(i, values.as_ref(), emu.subscription_id());
            let in_cloud = inventory.objects(i);
            let cmp = Comparison::new(&in_state, &in_cloud);
            let pending = changes
                .as_ref()
                .map(|c| c.iter().any(|a| a == address))
                .unwrap_or(true);
            let mut note = first.clone();
            if !again.success() {
                note.push_str(&format!(
                    "; re-apply failed: {}",
                    first_error(&again.combined())
                ));
            }
            if values.is_none() {
                note.push_str("; not in state");
            }
            Cell {
                scenario: fault.name(),
                resource,
                converged: Some(values.is_some() && !pending),
                orphaned: cmp.orphaned,
                lost: cmp.lost,
                note,
            }
        })
        .collect();

    let destroyed = ws.run(&DESTROY);
    let left = CloudInventory::read(&emu);
    for (i, cell) in cells.iter_mut().enumerate() {
        let remaining = left.objects(i);
        if !remaining.is_empty() {
            cell.orphaned
                .extend(remaining.into_iter().map(|o| format!("after destroy: {o}")));
        }
        // A failed destroy counts against the cells whose objects it left (as orphaned,
        // above), not against every cell of the scenario.
        if !destroyed.success() {
            cell.note.push_str("; destroy failed");
        }
        if !fault.touches_aws() && CELLS[i].1.contains("aws_") && cell.ok() {
            cell.converged = None;
            cell.note = "n/a: moto keeps no state over a restart; only ARM is restarted".into();
        }
    }
    lock(out).extend(cells);
    let outputs = [faulty.combined(), again.combined(), destroyed.combined()];
    keep_logs(fault, &emu, &ws, fault_hits.as_deref(), &outputs);
    let hits = ws.secret_hits(&[]);
    assert!(hits.is_empty(), "secrets leaked under faults: {hits:?}");
}

/// Addresses with a planned change after the clean apply; `None` when planning failed.
fn planned_changes(ws: &TerraformWorkspace) -> Option<Vec<String>> {
    let plan = ws.run(&["plan", "-input=false", "-no-color", "-out=acc.tfplan"]);
    if !plan.success() {
        return None;
    }
    let show = ws.run(&["show", "-json", "acc.tfplan"]);
    let json: Value = serde_json::from_str(&show.stdout).ok()?;
    Some(
        json["resource_changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["change"]["actions"] != json!(["no-op"]))
            .filter_map(|c| c["address"].as_str().map(str::to_owned))
            .collect(),
    )
}

fn find(state: &Value, address: &str) -> Option<Value> {
    state["values"]["root_module"]["resources"]
        .as_array()?
        .iter()
        .find(|r| r["address"] == address)
        .map(|r| r["values"].clone())
}

/// The first `Error:` line of Terraform's output, shortened for the table.
fn first_error(output: &str) -> String {
    let line = output
        .lines()
        .map(|l| l.trim_start_matches(['│', ' ', '╷']).trim())
        .find(|l| l.starts_with("Error:"))
        .unwrap_or("(no error line)");
    line.chars().take(90).collect()
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "panic".into());
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(160)
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
