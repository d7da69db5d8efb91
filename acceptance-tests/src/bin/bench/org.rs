//! Organization scale: a management account onboarded with N member accounts, through the
//! real Terraform CLI and the provider, against emulated clouds that enforce a model of the
//! real APIs' rate limits (token buckets answering throttling errors as AWS and ARM do) and
//! StackSet deployment times. The configuration: a plan set, the OIDC trust deployed by
//! CloudFormation with an `organization {}` block (a stack in the management account, a
//! service-managed StackSet to every member), and an organization-mode security connector.
//!
//! Per run it prints the wall time of apply and destroy, the floor the model sets for each
//! (a StackSet's operations run one after the other, each for its modelled time; no bucket
//! can serve its accepted calls faster than burst + rate x time), their ratio, API calls by
//! kind, failed operations and the provider's peak RSS. The numbers behind the model are in
//! `docs/performance.md`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use acceptance_tests::{Emulators, Install, Paths, RunOutput, TerraformWorkspace};
use serde_json::{Value, json};

use super::org_model::{self, Model};
use super::procfs;

/// What one run measured.
#[derive(Debug, Clone)]
pub(crate) struct OrgRun {
    pub(crate) accounts: usize,
    /// Members the trust excludes (each costs the plan one `DescribeAccount`).
    pub(crate) excluded: usize,
    pub(crate) random_throttle: f64,
    pub(crate) apply: Phase,
    pub(crate) destroy: Phase,
    /// Peak `VmHWM` of any provider process during the run, KiB.
    pub(crate) peak_rss_kib: f64,
}

/// One Terraform command of a run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Phase {
    pub(crate) wall_s: f64,
    pub(crate) floor_s: f64,
    /// What set the floor.
    pub(crate) floor_by: String,
    /// Accepted AWS calls per `service:Action`.
    pub(crate) aws_calls: BTreeMap<String, u64>,
    /// AWS calls the model refused (throttled), per `service:Action`.
    pub(crate) aws_throttled: BTreeMap<String, u64>,
    /// Accepted ARM calls per `METHOD resource-type` (or `METHOD path` outside resources).
    pub(crate) arm_calls: BTreeMap<String, u64>,
    /// ARM calls answered 429 by the model.
    pub(crate) arm_throttled: u64,
    /// StackSet operation results that ended FAILED.
    pub(crate) failed_results: u64,
    /// StackSet operations that did not end SUCCEEDED.
    pub(crate) failed_operations: u64,
    /// StackSet operations: (action, instances, modelled seconds, moto's own seconds in the
    /// call that started it).
    pub(crate) operations: Vec<(String, u64, f64, f64)>,
    /// The Terraform command failed (an error the provider did not retry away).
    pub(crate) command_failed: bool,
    /// The command's error output when it failed.
    pub(crate) error: Option<String>,
}

impl Phase {
    pub(crate) fn ratio(&self) -> f64 {
        if self.floor_s > 0.0 {
            self.wall_s / self.floor_s
        } else {
            f64::NAN
        }
    }

    pub(crate) fn failures(&self) -> u64 {
        self.failed_results + self.failed_operations + u64::from(self.command_failed)
    }

    pub(crate) fn aws_total(&self) -> u64 {
        self.aws_calls.values().sum()
    }

    pub(crate) fn arm_total(&self) -> u64 {
        self.arm_calls.values().sum()
    }
}

const CONFIG: &str = r#"
variable "tenant_id" {
  type = string
}

variable "management_account_id" {
  type = string
}

variable "excluded_account_ids" {
  type = list(string)
}

resource "multicloud_defender_plan_set" "std" {}

resource "multicloud_aws_oidc_trust" "org" {
  tenant_id  = var.tenant_id
  roles      = multicloud_defender_plan_set.std.aws_roles
  deployment = "cloudformation"
  stack_name = "defender-trust"

  organization {
    stack_set_name       = "MDCOnboardingStackSet"
    excluded_account_ids = var.excluded_account_ids
  }
}

resource "multicloud_security_connector" "org" {
  name                = "aws-org"
  resource_group_name = "rg-security"
  location            = "westeurope"
  aws_account_id      = var.management_account_id
  offerings           = multicloud_defender_plan_set.std.offerings
  role_arns           = multicloud_aws_oidc_trust.org.role_arns

  organization {
    stackset_name = "MDCOnboardingStackSet"
  }
}
"#;

fn quickstart_providers(paths: &Paths) -> String {
    let path = paths.root.join("examples/quickstart/providers.tf");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| super::fail(&format!("{}: {e}", path.display())))
}

/// Samples the peak RSS of every provider plugin this process's Terraform commands start, in
/// a thread, until stopped.
struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: thread::JoinHandle<f64>,
}

impl RssSampler {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let me = std::process::id();
        let handle = thread::spawn(move || {
            let mut peak = f64::NAN;
            while !flag.load(Ordering::Relaxed) {
                for pid in procfs::descendants_named(me, procfs::PLUGIN_COMM) {
                    peak = peak.max(procfs::vm_hwm_kib(pid));
                }
                thread::sleep(Duration::from_millis(20));
            }
            peak
        });
        Self { stop, handle }
    }

    fn finish(self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or(f64::NAN)
    }
}

/// Members the trust's `organization {}` block excludes, as a real organization keeps a few
/// accounts out (and as a plan checks each one).
pub(crate) const EXCLUDED: usize = 2;

/// Creates the organization (trusted access for StackSets on), seeds `accounts` members over
/// the root and two OUs, and returns the management account id and the first [`EXCLUDED`]
/// members.
fn organization(emu: &Emulators, accounts: usize) -> (String, Vec<String>) {
    let moto = emu.moto();
    moto.organizations("CreateOrganization", json!({"FeatureSet": "ALL"}));
    moto.organizations(
        "EnableAWSServiceAccess",
        json!({"ServicePrincipal": "member.org.stacksets.cloudformation.amazonaws.com"}),
    );
    let roots = moto.organizations("ListRoots", json!({}));
    let root = roots["Roots"][0]["Id"]
        .as_str()
        .unwrap_or_else(|| super::fail(&format!("no root in {roots}")))
        .to_owned();
    let mut parents = vec![root.clone()];
    for name in ["workloads", "sandbox"] {
        let ou = moto.organizations(
            "CreateOrganizationalUnit",
            json!({"ParentId": root, "Name": name}),
        );
        if let Some(id) = ou["OrganizationalUnit"]["Id"].as_str() {
            parents.push(id.to_owned());
        }
    }
    let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
    let seeded = moto.seed_accounts(accounts, &parents);
    let mut excluded = seeded.ids();
    excluded.truncate(EXCLUDED);
    (seeded.management_account_id, excluded)
}

/// `METHOD type` of an ARM request: the resource type for resource paths, else the path with
/// ids left out.
fn arm_kind(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let kind = match segs
        .iter()
        .position(|s| s.eq_ignore_ascii_case("providers"))
    {
        Some(i) if segs.len() > i + 2 => {
            let mut t = vec![segs[i + 1].to_owned()];
            t.extend(segs[i + 2..].iter().step_by(2).map(|s| (*s).to_owned()));
            t.join("/")
        }
        Some(i) => format!(
            "{} ({})",
            segs.get(i + 1).copied().unwrap_or(""),
            "provider"
        ),
        None if segs.len() >= 3 => "resourceGroups".into(),
        None => "subscription".into(),
    };
    format!("{method} {kind}")
}

/// Runs `args` in the workspace with the counters reset, then collects what it cost.
fn phase(emu: &Emulators, ws: &TerraformWorkspace, args: &[&str]) -> (Phase, f64) {
    let moto = emu.moto();
    moto.reset_calls();
    let before_ops = moto.rate_model()["operations"]
        .as_array()
        .map_or(0, Vec::len);
    let before_throttled = moto.rate_model()["throttled"].clone();
    emu.arm().clear_requests();
    let sampler = RssSampler::start();
    let started = Instant::now();
    let out: RunOutput = ws.run(args);
    let wall_s = started.elapsed().as_secs_f64();
    let rss = sampler.finish();

    let mut p = Phase {
        wall_s,
        command_failed: !out.success(),
        error: (!out.success()).then(|| format!("{}\n{}", out.stdout, out.stderr)),
        ..Phase::default()
    };
    let report = moto.rate_model();
    for (key, n) in report["throttled"].as_object().into_iter().flatten() {
        let earlier = before_throttled[key.as_str()].as_u64().unwrap_or(0);
        let n = n.as_u64().unwrap_or(0).saturating_sub(earlier);
        if n > 0 {
            p.aws_throttled.insert(key.clone(), n);
        }
    }
    for (key, n) in moto.calls().as_object().into_iter().flatten() {
        let refused = p.aws_throttled.get(key).copied().unwrap_or(0);
        let accepted = n.as_u64().unwrap_or(0).saturating_sub(refused);
        if accepted > 0 {
            p.aws_calls.insert(key.clone(), accepted);
        }
    }
    let operations: Vec<Value> = report["operations"]
        .as_array()
        .map(|ops| ops[before_ops.min(ops.len())..].to_vec())
        .unwrap_or_default();
    for op in &operations {
        p.operations.push((
            op["action"].as_str().unwrap_or_default().to_owned(),
            op["instances"].as_u64().unwrap_or(0),
            op["modelled_seconds"].as_f64().unwrap_or(0.0),
            op["emulator_seconds"].as_f64().unwrap_or(0.0),
        ));
        p.failed_results += op["failed_results"].as_u64().unwrap_or(0);
        if op["status"] != "SUCCEEDED" {
            p.failed_operations += 1;
        }
    }
    for r in emu.arm_requests() {
        if !r.path.to_ascii_lowercase().starts_with("/subscriptions/") {
            continue; // token requests
        }
        if r.raw["fault"] == true {
            p.arm_throttled += 1;
            continue;
        }
        *p.arm_calls.entry(arm_kind(&r.method, &r.path)).or_default() += 1;
    }
    let (floor, by) = org_model::floor(&p, &operations);
    p.floor_s = floor;
    p.floor_by = by;
    (p, rss)
}

/// One run: emulators with the model, the organization, apply, destroy.
pub(crate) fn run(paths: &Paths, accounts: usize, random_throttle: f64, model: &Model) -> OrgRun {
    eprintln!("organization of {accounts} members, {random_throttle} of calls throttled at random");
    let emu = Emulators::start();
    emu.arm().create_resource_group("rg-security", "westeurope");
    let (management, excluded) = organization(&emu, accounts);
    emu.moto().set_rate_model(model.moto_spec(random_throttle));
    emu.arm().set_throttle(model.arm_spec(random_throttle));

    let hcl = format!("{}\n{CONFIG}", quickstart_providers(paths));
    let ws = TerraformWorkspace::new(&emu, &hcl, Install::DevOverrides);
    ws.set_env("TF_VAR_tenant_id", emu.tenant_id());
    ws.set_env("TF_VAR_management_account_id", &management);
    ws.set_env(
        "TF_VAR_excluded_account_ids",
        &serde_json::to_string(&excluded).unwrap_or_default(),
    );
    // TRACE logging is for the acceptance tests' secret scan; users do not run with it.
    ws.remove_env("TF_LOG");
    ws.remove_env("TF_LOG_PATH");

    let (apply, rss_apply) = phase(
        &emu,
        &ws,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
    if let Some(e) = &apply.error {
        eprintln!("apply failed:\n{e}");
    }
    let (destroy, rss_destroy) = phase(
        &emu,
        &ws,
        &["destroy", "-auto-approve", "-input=false", "-no-color"],
    );
    if let Some(e) = &destroy.error {
        eprintln!("destroy failed:\n{e}");
    }
    OrgRun {
        accounts,
        excluded: excluded.len(),
        random_throttle,
        apply,
        destroy,
        peak_rss_kib: rss_apply.max(rss_destroy),
    }
}
