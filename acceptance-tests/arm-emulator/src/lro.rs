//! Long-running operations: per-type mode (sync, Azure-AsyncOperation, Location), poll counting,
//! and the effect of completion on the store.
//!
//! Progress is counted in polls of the operation URL, so tests are deterministic: an operation
//! configured with `polls: N` answers "running" N times. Like a real one, an operation also
//! finishes on its own once its modelled run time is over, whether or not anyone polls it: a
//! client whose answer (with the status URL in it) was lost must still see its resource reach a
//! terminal state, and later writes must not meet `AnotherOperationInProgress` for ever.

use std::time::{Duration, Instant};

use hyper::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::errors::ArmError;
use crate::http::Resp;
use crate::state::World;

/// How writes to a resource type complete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LroMode {
    /// The response carries the final result.
    #[default]
    Sync,
    /// 201/202 + `Azure-AsyncOperation` status URL.
    Async,
    /// 202 + `Location` result URL.
    Location,
}

/// Terminal status of an operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum FinalStatus {
    #[default]
    Succeeded,
    Failed,
    Canceled,
}

impl FinalStatus {
    fn as_str(self) -> &'static str {
        match self {
            FinalStatus::Succeeded => "Succeeded",
            FinalStatus::Failed => "Failed",
            FinalStatus::Canceled => "Canceled",
        }
    }
}

/// Error reported by a failed or canceled operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OpError {
    pub(crate) code: String,
    pub(crate) message: String,
}

fn one() -> u32 {
    1
}
fn one_sec() -> u64 {
    1
}

/// LRO behaviour for one resource type, as set through `/_emulator/lro/{Ns}/{type}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LroConfig {
    #[serde(default)]
    pub(crate) mode: LroMode,
    /// Polls answered "running" before the terminal answer.
    #[serde(default = "one")]
    pub(crate) polls: u32,
    #[serde(default)]
    pub(crate) final_status: FinalStatus,
    #[serde(default)]
    pub(crate) error: Option<OpError>,
    /// Seconds sent in `Retry-After`.
    #[serde(default = "one_sec")]
    pub(crate) retry_after: u64,
    /// Modelled run time in milliseconds, after which the operation completes unpolled.
    /// Unset: as long as a client honouring `Retry-After` takes to see it end by polling.
    #[serde(default)]
    pub(crate) duration_ms: Option<u64>,
}

impl LroConfig {
    /// How long an operation runs when nobody polls it. The default leaves a client that polls
    /// at the advertised pace the full `polls` "running" answers (and at least a second, so
    /// `retry_after: 0` still leaves room for them).
    pub(crate) fn run_time(&self) -> Duration {
        match self.duration_ms {
            Some(ms) => Duration::from_millis(ms),
            None => Duration::from_secs(
                (u64::from(self.polls) + 1).saturating_mul(self.retry_after.max(1)),
            ),
        }
    }
}

impl Default for LroConfig {
    fn default() -> Self {
        Self {
            mode: LroMode::Sync,
            polls: 1,
            final_status: FinalStatus::Succeeded,
            error: None,
            retry_after: 1,
            duration_ms: None,
        }
    }
}

/// What an operation does when it completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum OpKind {
    Put,
    Patch,
    Delete,
    DeleteResourceGroup,
}

/// An unfinished or finished long-running operation.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub(crate) id: String,
    pub(crate) kind: OpKind,
    /// Lower-case id of the resource (or resource group) the operation acts on.
    pub(crate) target: String,
    pub(crate) config: LroConfig,
    pub(crate) polls_left: u32,
    /// When the operation completes even if it is never polled.
    pub(crate) due: Instant,
    pub(crate) started: String,
    pub(crate) ended: Option<String>,
    /// Path (without host) of the status/result URL, for the `id` field.
    pub(crate) path: String,
}

/// Where operation URLs are rooted: the emulator URL, subscription and the caller's api-version.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpSite<'a> {
    pub(crate) base_url: &'a str,
    pub(crate) subscription: &'a str,
    pub(crate) api_version: &'a str,
}

/// Starts an operation and returns its id plus the headers announcing it.
pub(crate) fn begin(
    world: &mut World,
    site: OpSite<'_>,
    namespace: &str,
    kind: OpKind,
    target: &str,
    config: &LroConfig,
) -> (String, Vec<(String, String)>) {
    let OpSite {
        base_url,
        subscription,
        api_version,
    } = site;
    let id = crate::ids::random_guid();
    let status_path =
        format!("/subscriptions/{subscription}/providers/{namespace}/operationStatuses/{id}");
    let result_path =
        format!("/subscriptions/{subscription}/providers/{namespace}/operationResults/{id}");
    let q = format!("?api-version={api_version}");
    let mut headers = vec![("Retry-After".to_string(), config.retry_after.to_string())];
    let path = match config.mode {
        LroMode::Async => {
            headers.push((
                "Azure-AsyncOperation".to_string(),
                format!("{base_url}{status_path}{q}"),
            ));
            if kind != OpKind::Put {
                headers.push((
                    "Location".to_string(),
                    format!("{base_url}{result_path}{q}"),
                ));
            }
            status_path
        }
        LroMode::Location | LroMode::Sync => {
            headers.push((
                "Location".to_string(),
                format!("{base_url}{result_path}{q}"),
            ));
            result_path
        }
    };
    world.operations.insert(
        id.clone(),
        Operation {
            id: id.clone(),
            kind,
            target: target.to_string(),
            config: config.clone(),
            polls_left: config.polls,
            due: Instant::now() + config.run_time(),
            started: crate::clock::rfc3339_now(),
            ended: None,
            path,
        },
    );
    (id, headers)
}

/// Counts one poll; completes the operation once its running polls are used up or its run
/// time is over. Returns `None` for an unknown operation, `Some(true)` when it has finished.
fn advance(world: &mut World, op_id: &str) -> Option<bool> {
    let op = world.operations.get_mut(op_id)?;
    if op.ended.is_some() {
        return Some(true);
    }
    if op.polls_left > 0 && op.due > Instant::now() {
        op.polls_left -= 1;
        return Some(false);
    }
    finish(world, op_id);
    Some(true)
}

fn finish(world: &mut World, op_id: &str) {
    let Some(op) = world.operations.get_mut(op_id) else {
        return;
    };
    op.ended = Some(crate::clock::rfc3339_now());
    let op = op.clone();
    apply_completion(world, &op);
}

/// Completes every operation whose run time is over. Called before each request is served,
/// the first moment anyone could see the difference, so completion needs no timer task and
/// whatever a request reads or writes is already past it.
pub(crate) fn settle_due(world: &mut World) {
    let now = Instant::now();
    let mut due: Vec<(Instant, String)> = world
        .operations
        .values()
        .filter(|op| op.ended.is_none() && op.due <= now)
        .map(|op| (op.due, op.id.clone()))
        .collect();
    // In the order they would have ended, so a later operation on the same target wins.
    due.sort();
    for (_, id) in due {
        finish(world, &id);
    }
}

/// Ends `op`, an operation that was running when the emulator stopped, at once and with the
/// outcome it was configured to have: the service went on running it during the outage, so by
/// the time anyone can ask again it is over. Polling it afterwards answers the final status.
pub(crate) fn finish_restored(world: &mut World, op: Operation) {
    let id = op.id.clone();
    world.operations.insert(id.clone(), op);
    finish(world, &id);
}

/// Whether a `provisioningState` is one an operation ends in.
pub(crate) fn is_terminal(state: &str) -> bool {
    ["Succeeded", "Failed", "Canceled"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(state))
}

/// Sets `properties.provisioningState`, adding `properties` when the body has none.
pub(crate) fn set_state(body: &mut Value, state: &str) {
    if !body.get("properties").is_some_and(Value::is_object) {
        body["properties"] = json!({});
    }
    body["properties"]["provisioningState"] = json!(state);
}

fn apply_completion(world: &mut World, op: &Operation) {
    let status = op.config.final_status;
    match op.kind {
        OpKind::Put | OpKind::Patch => {
            if let Some(r) = world.resources.get_mut(&op.target)
                && r.pending.as_deref() == Some(op.id.as_str())
            {
                r.pending = None;
                set_state(&mut r.body, status.as_str());
            }
        }
        OpKind::Delete => {
            if status == FinalStatus::Succeeded {
                world.remove_tree(&op.target);
            } else if let Some(r) = world.resources.get_mut(&op.target) {
                r.pending = None;
                set_state(&mut r.body, "Succeeded");
            }
        }
        OpKind::DeleteResourceGroup => {
            // The target is the group's lower-case id; the group map is keyed by name.
            let name = op.target.rsplit('/').next().unwrap_or_default().to_string();
            if status == FinalStatus::Succeeded {
                world.resource_groups.remove(&name);
                world.remove_tree(&op.target);
            } else if let Some(rg) = world.resource_groups.get_mut(&name) {
                set_state(rg, "Succeeded");
            }
        }
    }
}

fn op_error(op: &Operation) -> Value {
    let (code, message) = match (&op.config.error, op.config.final_status) {
        (Some(e), _) => (e.code.clone(), e.message.clone()),
        (None, FinalStatus::Canceled) => (
            "OperationCanceled".to_string(),
            "The operation was canceled.".to_string(),
        ),
        _ => (
            "OperationFailed".to_string(),
            "The operation failed.".to_string(),
        ),
    };
    json!({"code": code, "message": message})
}

fn not_found(op_id: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "OperationNotFound",
        format!("The operation '{op_id}' could not be found."),
    )
}

/// `GET .../operationStatuses/{id}`: the Azure-AsyncOperation status document.
pub(crate) fn poll_status(world: &mut World, op_id: &str) -> Resp {
    let Some(done) = advance(world, op_id) else {
        return not_found(op_id).into_resp();
    };
    let Some(op) = world.operations.get(op_id) else {
        return not_found(op_id).into_resp();
    };
    let mut body = json!({
        "id": op.path,
        "name": op.id,
        "status": if done { op.config.final_status.as_str() } else { "InProgress" },
        "startTime": op.started,
    });
    if let Some(end) = &op.ended {
        body["endTime"] = json!(end);
    }
    if done && op.config.final_status != FinalStatus::Succeeded {
        body["error"] = op_error(op);
    }
    let mut r = Resp::ok(body);
    if !done {
        r = r.with_header("Retry-After", op.config.retry_after.to_string());
    }
    r
}

/// `GET .../operationResults/{id}`: 202 while running, then the final result.
pub(crate) fn poll_result(world: &mut World, op_id: &str, self_url: &str) -> Resp {
    let Some(done) = advance(world, op_id) else {
        return not_found(op_id).into_resp();
    };
    let Some(op) = world.operations.get(op_id).cloned() else {
        return not_found(op_id).into_resp();
    };
    if !done {
        return Resp::empty(StatusCode::ACCEPTED)
            .with_header("Location", self_url)
            .with_header("Retry-After", op.config.retry_after.to_string());
    }
    if op.config.final_status != FinalStatus::Succeeded {
        return Resp::json(StatusCode::BAD_REQUEST, json!({"error": op_error(&op)}));
    }
    match op.kind {
        OpKind::Delete | OpKind::DeleteResourceGroup => Resp::empty(StatusCode::NO_CONTENT),
        OpKind::Put | OpKind::Patch => match world.resources.get(&op.target) {
            Some(r) => Resp::ok(r.body.clone()),
            None => Resp::empty(StatusCode::NO_CONTENT),
        },
    }
}
