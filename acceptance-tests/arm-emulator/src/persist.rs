//! `--state-file`: what survives a restart of the emulator (a crash, a kill, a redeploy), as
//! it survives one of real ARM. Resources, resource groups, provider registrations, clients
//! and role assignments are written after every request; the CA key and the token signing key
//! are kept too, so clients of the previous run keep trusting the server and their tokens stay
//! valid. Not kept: the request log and fault rules.
//!
//! Long-running operations unfinished at the stop are kept too, and the restart ends them:
//! real ARM's resource providers go on with an operation through an outage of the front end,
//! so a resource is never left `Creating` or `Deleting` for ever. Each ends as it was
//! configured to (a delete removes its resource, a failing put leaves it `Failed`), and its
//! status URL answers that end. A resource caught mid-operation with no record of the
//! operation (a file from before operations were kept) is settled as a failed operation
//! leaves it: `Failed` after a write, as it was after a delete.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::errors::EmulatorError;
use crate::lro::{LroConfig, OpKind, Operation};
use crate::state::{RegState, Stored, World};

/// The file's content.
#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    ca_key_pem: String,
    /// Base64 of the 32-byte HMAC key.
    signing_key: String,
    resource_groups: BTreeMap<String, Value>,
    resources: Vec<StoredResource>,
    /// Registration state by lower-case namespace.
    providers: BTreeMap<String, String>,
    clients: HashMap<String, String>,
    roles: BTreeMap<String, Vec<String>>,
    /// Operations unfinished when the snapshot was taken (absent in older files).
    #[serde(default)]
    operations: Vec<SavedOperation>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredResource {
    id: String,
    resource_type: String,
    body: Value,
    /// The unfinished operation on it, if any.
    #[serde(default)]
    pending: Option<String>,
}

/// An unfinished operation: enough to end it as it would have ended and to answer its polls.
#[derive(Debug, Serialize, Deserialize)]
struct SavedOperation {
    id: String,
    kind: OpKind,
    target: String,
    config: LroConfig,
    started: String,
    path: String,
}

/// Keys and world a previous run left in the state file.
#[derive(Debug)]
pub(crate) struct Restored {
    pub(crate) ca_key_pem: String,
    pub(crate) signing_key: [u8; 32],
    snapshot: Snapshot,
}

/// Where and how to save; one save at a time.
#[derive(Debug)]
pub(crate) struct StateFile {
    path: PathBuf,
    ca_key_pem: String,
    signing_key: [u8; 32],
    lock: Mutex<()>,
}

/// Reads the state file when it exists; `Ok(None)` for a first start.
pub(crate) fn load(path: &Path) -> Result<Option<Restored>, EmulatorError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(EmulatorError::io(format!("reading {}", path.display()))(e)),
    };
    let bad = |why: String| EmulatorError::Usage(format!("--state-file {}: {why}", path.display()));
    let snapshot: Snapshot = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let key = STANDARD
        .decode(&snapshot.signing_key)
        .ok()
        .and_then(|k| <[u8; 32]>::try_from(k).ok())
        .ok_or_else(|| bad("signing_key is not 32 bytes of base64".to_string()))?;
    Ok(Some(Restored {
        ca_key_pem: snapshot.ca_key_pem.clone(),
        signing_key: key,
        snapshot,
    }))
}

impl Restored {
    /// Puts the saved resources, groups, registrations, clients and roles into a new world.
    pub(crate) fn apply(self, world: &mut World) {
        let s = self.snapshot;
        world.resource_groups = s.resource_groups;
        world.resources = s
            .resources
            .into_iter()
            .map(|r| {
                let stored = Stored {
                    id: r.id,
                    resource_type: r.resource_type,
                    body: r.body,
                    pending: r.pending,
                };
                (stored.id.to_ascii_lowercase(), stored)
            })
            .collect();
        for (ns, state) in s.providers {
            if let (Some(p), Some(state)) = (world.providers.get_mut(&ns), RegState::parse(&state))
            {
                p.state = state;
                p.polls_left = 0;
            }
        }
        world.clients.extend(s.clients);
        world.roles = s.roles;
        for op in s.operations {
            crate::lro::finish_restored(
                world,
                Operation {
                    id: op.id,
                    kind: op.kind,
                    target: op.target,
                    config: op.config,
                    polls_left: 0,
                    due: Instant::now(),
                    started: op.started,
                    ended: None,
                    path: op.path,
                },
            );
        }
        settle_unrecorded(world);
    }
}

/// Settles whatever is still mid-operation once the recorded operations have ended: nothing
/// will end it now, so it ends as a failed operation would leave it.
fn settle_unrecorded(world: &mut World) {
    let stuck = |body: &Value| {
        body.pointer("/properties/provisioningState")
            .and_then(Value::as_str)
            .filter(|s| !crate::lro::is_terminal(s))
            .map(str::to_owned)
    };
    for r in world.resources.values_mut() {
        let state = stuck(&r.body);
        if r.pending.take().is_none() && state.is_none() {
            continue;
        }
        let after = match state.as_deref() {
            Some(s) if s.eq_ignore_ascii_case("Deleting") => "Succeeded",
            _ => "Failed",
        };
        crate::lro::set_state(&mut r.body, after);
    }
    for rg in world.resource_groups.values_mut() {
        if stuck(rg).is_some() {
            // Only a delete runs on a group: a failed one leaves it as it was.
            crate::lro::set_state(rg, "Succeeded");
        }
    }
}

impl StateFile {
    /// Saves to `path` with these keys from now on.
    pub(crate) fn new(path: PathBuf, ca_key_pem: String, signing_key: [u8; 32]) -> Self {
        Self {
            path,
            ca_key_pem,
            signing_key,
            lock: Mutex::new(()),
        }
    }

    /// Writes the world's durable part atomically (temp file + rename), so a kill during the
    /// write leaves the previous snapshot intact. Errors are reported on stderr only: a full
    /// disk must not turn into failed API calls.
    pub(crate) fn save(&self, world: &World) {
        let snapshot = Snapshot {
            ca_key_pem: self.ca_key_pem.clone(),
            signing_key: STANDARD.encode(self.signing_key),
            resource_groups: world.resource_groups.clone(),
            resources: world
                .resources
                .values()
                .map(|r| StoredResource {
                    id: r.id.clone(),
                    resource_type: r.resource_type.clone(),
                    body: r.body.clone(),
                    pending: r.pending.clone(),
                })
                .collect(),
            providers: world
                .providers
                .iter()
                .map(|(k, p)| (k.clone(), p.state.as_str().to_string()))
                .collect(),
            clients: world.clients.clone(),
            roles: world.roles.clone(),
            operations: world
                .operations
                .values()
                .filter(|op| op.ended.is_none())
                .map(|op| SavedOperation {
                    id: op.id.clone(),
                    kind: op.kind,
                    target: op.target.clone(),
                    config: op.config.clone(),
                    started: op.started.clone(),
                    path: op.path.clone(),
                })
                .collect(),
        };
        let text = match serde_json::to_vec(&snapshot) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("arm-emulator: cannot render the state file: {e}");
                return;
            }
        };
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let tmp = self.path.with_extension("saving");
        if let Err(e) = std::fs::write(&tmp, &text).and_then(|()| std::fs::rename(&tmp, &self.path))
        {
            eprintln!(
                "arm-emulator: cannot save the state file {}: {e}",
                self.path.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use serde_json::json;

    #[test]
    fn a_saved_world_comes_back_with_its_keys() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.json");
        assert!(load(&path).expect("no file yet").is_none());

        let config = Config::new(dir.path());
        let mut world = World::new(&config);
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.X/things/a";
        world.resources.insert(
            id.to_ascii_lowercase(),
            Stored {
                id: id.into(),
                resource_type: "Microsoft.X/things".into(),
                body: json!({"name": "a"}),
                pending: None,
            },
        );
        world
            .resource_groups
            .insert("rg".into(), json!({"name": "rg"}));
        if let Some(p) = world.providers.get_mut("microsoft.security") {
            p.state = RegState::Registered;
        }
        StateFile::new(path.clone(), "KEY".into(), [7; 32]).save(&world);

        let restored = load(&path).expect("readable").expect("present");
        assert_eq!(restored.ca_key_pem, "KEY");
        assert_eq!(restored.signing_key, [7; 32]);
        let mut again = World::new(&config);
        restored.apply(&mut again);
        let r = &again.resources[&id.to_ascii_lowercase()];
        assert_eq!(r.body, json!({"name": "a"}));
        assert!(r.pending.is_none());
        assert!(again.resource_groups.contains_key("rg"));
        assert_eq!(
            again.providers["microsoft.security"].state,
            RegState::Registered
        );
    }

    #[test]
    fn a_corrupt_file_is_an_error_not_an_empty_world() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{not json").expect("write");
        assert!(load(&path).is_err());
    }

    const SUB: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.X/things";

    /// A resource in `state`, with operation `op` of `kind` running on it (configured to end
    /// with `status`) unless `op` is `None`.
    fn mid_operation(
        world: &mut World,
        name: &str,
        state: &str,
        op: Option<(&str, OpKind, crate::lro::FinalStatus)>,
    ) -> String {
        let id = format!("{SUB}/{name}");
        let key = id.to_ascii_lowercase();
        world.resources.insert(
            key.clone(),
            Stored {
                id,
                resource_type: "Microsoft.X/things".into(),
                body: json!({"name": name, "properties": {"provisioningState": state}}),
                pending: op.map(|(op_id, _, _)| op_id.to_owned()),
            },
        );
        if let Some((op_id, kind, final_status)) = op {
            world.operations.insert(
                op_id.into(),
                Operation {
                    id: op_id.into(),
                    kind,
                    target: key.clone(),
                    config: LroConfig {
                        final_status,
                        polls: 5,
                        duration_ms: Some(3_600_000),
                        ..LroConfig::default()
                    },
                    polls_left: 5,
                    due: Instant::now() + std::time::Duration::from_secs(3600),
                    started: "2026-01-01T00:00:00Z".into(),
                    ended: None,
                    path: format!(
                        "/subscriptions/s/providers/Microsoft.X/operationStatuses/{op_id}"
                    ),
                },
            );
        }
        key
    }

    fn state_of(world: &World, key: &str) -> Option<String> {
        world.resources.get(key).map(|r| {
            r.body["properties"]["provisioningState"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
    }

    /// Saves `world` and restarts into a new one.
    fn restart(world: &World, dir: &Path) -> World {
        let path = dir.join("state.json");
        StateFile::new(path.clone(), "KEY".into(), [7; 32]).save(world);
        let mut again = World::new(&Config::new(dir));
        load(&path)
            .expect("readable")
            .expect("present")
            .apply(&mut again);
        again
    }

    #[test]
    fn a_restart_ends_the_operations_it_interrupted_as_they_would_have_ended() {
        use crate::lro::FinalStatus::{Failed, Succeeded};
        // Resource, its state at the stop, the operation running on it, its state after.
        let cases = [
            (
                "a",
                "Creating",
                Some(("op-a", OpKind::Put, Succeeded)),
                Some("Succeeded"),
            ),
            (
                "b",
                "Updating",
                Some(("op-b", OpKind::Patch, Succeeded)),
                Some("Succeeded"),
            ),
            (
                "c",
                "Creating",
                Some(("op-c", OpKind::Put, Failed)),
                Some("Failed"),
            ),
            // The delete went through: the resource is gone.
            (
                "d",
                "Deleting",
                Some(("op-d", OpKind::Delete, Succeeded)),
                None,
            ),
            (
                "e",
                "Deleting",
                Some(("op-e", OpKind::Delete, Failed)),
                Some("Succeeded"),
            ),
            ("f", "Succeeded", None, Some("Succeeded")),
        ];
        let dir = tempfile::tempdir().expect("temp dir");
        let mut world = World::new(&Config::new(dir.path()));
        let keys: Vec<String> = cases
            .iter()
            .map(|(name, state, op, _)| mid_operation(&mut world, name, state, *op))
            .collect();

        let mut again = restart(&world, dir.path());
        for (key, (name, _, _, after)) in keys.iter().zip(cases) {
            assert_eq!(state_of(&again, key).as_deref(), after, "{name}");
        }
        assert!(
            again.resources.values().all(|r| r.pending.is_none()),
            "nothing is left busy: a write after the restart meets no AnotherOperationInProgress"
        );
        // A client that polls the operation it was following learns how it ended.
        let status = crate::lro::poll_status(&mut again, "op-c");
        assert_eq!(status.status, hyper::StatusCode::OK);
        let body = status.body.expect("status document");
        assert_eq!(body["status"], "Failed", "{body}");
        assert!(body["endTime"].is_string(), "{body}");
        let status = crate::lro::poll_status(&mut again, "op-a");
        assert_eq!(status.body.expect("status document")["status"], "Succeeded");
    }

    #[test]
    fn a_restart_from_a_file_without_operations_still_settles_every_resource() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut world = World::new(&Config::new(dir.path()));
        let created = mid_operation(&mut world, "a", "Creating", None);
        let deleting = mid_operation(&mut world, "b", "Deleting", None);
        let rg = json!({"name": "rg", "properties": {"provisioningState": "Deleting"}});
        world.resource_groups.insert("rg".into(), rg);
        let path = dir.path().join("state.json");
        StateFile::new(path.clone(), "KEY".into(), [7; 32]).save(&world);
        // As a file written before operations were kept: no `operations`, no `pending`.
        let mut old: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        old.as_object_mut().expect("object").remove("operations");
        std::fs::write(&path, old.to_string()).expect("write");

        let mut again = World::new(&Config::new(dir.path()));
        load(&path)
            .expect("readable")
            .expect("present")
            .apply(&mut again);
        assert_eq!(state_of(&again, &created).as_deref(), Some("Failed"));
        assert_eq!(state_of(&again, &deleting).as_deref(), Some("Succeeded"));
        assert_eq!(
            again.resource_groups["rg"]["properties"]["provisioningState"],
            "Succeeded"
        );
    }
}
