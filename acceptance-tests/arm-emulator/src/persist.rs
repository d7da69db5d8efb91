//! `--state-file`: what survives a restart of the emulator (a crash, a kill, a redeploy), as
//! it survives one of real ARM. Resources, resource groups, provider registrations, clients
//! and role assignments are written after every request; the CA key and the token signing key
//! are kept too, so clients of the previous run keep trusting the server and their tokens stay
//! valid. Not kept: the request log, fault rules, and unfinished long-running operations (their
//! resources are restored as they stood, and polling the operation answers 404, as an operation
//! lost in a real outage does).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::errors::EmulatorError;
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
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredResource {
    id: String,
    resource_type: String,
    body: Value,
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
                    pending: None,
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
                })
                .collect(),
            providers: world
                .providers
                .iter()
                .map(|(k, p)| (k.clone(), p.state.as_str().to_string()))
                .collect(),
            clients: world.clients.clone(),
            roles: world.roles.clone(),
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
                pending: Some("op-1".into()),
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
        assert!(
            r.pending.is_none(),
            "an unfinished operation is not resumed"
        );
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
}
