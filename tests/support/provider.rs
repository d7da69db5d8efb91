//! A small provider used to exercise the protocol layer: one resource whose
//! objects live in a store (in memory, or in a JSON file when
//! `TEST_PROVIDER_STORE` names one, so separate plugin processes share it),
//! and one data source.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use terraform_provider_multicloud::protocol::{
    AttrPath, Attribute, Block, DataSource, Diagnostics, PlanContext, Provider, Resource, Schema,
    Type, Value,
};

/// Objects by id: (name, note, tags, etag).
type Objects = BTreeMap<String, serde_json::Value>;

/// The remote side the test resource manages.
#[derive(Default)]
pub struct Store {
    objects: Mutex<Objects>,
    file: Option<PathBuf>,
}

impl Store {
    fn load(&self) -> Objects {
        if let Some(file) = &self.file {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            return serde_json::from_str(&text).unwrap_or_default();
        }
        self.objects.lock().map(|o| o.clone()).unwrap_or_default()
    }

    fn save(&self, objects: Objects) {
        if let Some(file) = &self.file {
            let _ = std::fs::write(file, serde_json::to_string(&objects).unwrap_or_default());
        } else if let Ok(mut o) = self.objects.lock() {
            *o = objects;
        }
    }

    /// Ids of the stored objects.
    pub fn ids(&self) -> Vec<String> {
        self.load().keys().cloned().collect()
    }

    /// Removes an object behind Terraform's back.
    pub fn remove(&self, id: &str) {
        let mut objects = self.load();
        objects.remove(id);
        self.save(objects);
    }
}

/// What `configure` builds.
pub struct Client {
    store: Arc<Store>,
}

/// The test provider.
pub struct TestProvider {
    /// Shared with the test so it can inspect the remote side.
    pub store: Arc<Store>,
}

impl TestProvider {
    /// A provider with an in-memory store, or a file store if `TEST_PROVIDER_STORE` is set.
    pub fn new() -> Self {
        let file = std::env::var_os("TEST_PROVIDER_STORE").map(PathBuf::from);
        TestProvider {
            store: Arc::new(Store {
                objects: Mutex::new(Objects::new()),
                file,
            }),
        }
    }
}

#[async_trait]
impl Provider for TestProvider {
    type Client = Client;

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .attribute(
                    Attribute::string("endpoint")
                        .optional()
                        .description("Where the things live."),
                )
                .attribute(Attribute::string("token").optional().sensitive()),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if config.get("endpoint").as_str() == Some("") {
            diags.attribute_error(
                AttrPath::root("endpoint"),
                "Empty endpoint",
                "Set `endpoint` to a URL or omit it.",
            );
        }
    }

    async fn configure(&self, config: &Value, diags: &mut Diagnostics) -> Option<Client> {
        if let Some(token) = config.get("token").as_str() {
            terraform_provider_multicloud::protocol::logging::register_secret(token);
            // Deliberately logs the secret: checking TF_LOG output shows it masked.
            tracing::debug!(token, "configured with a token");
        }
        if config.get("endpoint").as_str() == Some("fail") {
            diags.attribute_error(
                AttrPath::root("endpoint"),
                "Cannot reach endpoint",
                "The endpoint `fail` always fails.",
            );
            return None;
        }
        Some(Client {
            store: self.store.clone(),
        })
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<Client>>> {
        vec![Arc::new(Thing)]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Client>>> {
        vec![Arc::new(Echo)]
    }
}

/// `multicloud_thing`: a named object with a server-side etag.
pub struct Thing;

fn thing_state(id: &str, obj: &serde_json::Value) -> Value {
    let tags = obj["tags"].as_object().map(|m| {
        Value::map(
            m.iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str().unwrap_or_default()))),
        )
    });
    Value::object([
        ("id", Value::from(id)),
        (
            "name",
            Value::from(obj["name"].as_str().unwrap_or_default()),
        ),
        ("note", Value::from(obj["note"].as_str().map(str::to_owned))),
        ("tags", Value::from(tags)),
        (
            "etag",
            Value::from(obj["etag"].as_i64().unwrap_or_default().to_string()),
        ),
        (
            "secret",
            Value::from(obj["secret"].as_str().map(str::to_owned)),
        ),
    ])
}

fn thing_object(v: &Value, etag: i64) -> serde_json::Value {
    let tags: serde_json::Map<String, serde_json::Value> = v
        .get("tags")
        .as_map()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().into()))
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({
        "name": v.get("name").as_str(),
        "note": v.get("note").as_str(),
        "tags": if v.get("tags").is_null() { serde_json::Value::Null } else { tags.into() },
        "secret": v.get("secret").as_str(),
        "etag": etag,
    })
}

#[async_trait]
impl Resource<Client> for Thing {
    fn type_name(&self) -> &'static str {
        "multicloud_thing"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .description("A thing.")
                .attribute(Attribute::string("id").computed().use_state_for_unknown())
                .attribute(Attribute::string("name").required().force_new())
                .attribute(Attribute::string("note").optional())
                .attribute(Attribute::map("tags", Type::String).optional())
                .attribute(Attribute::string("etag").computed())
                .attribute(Attribute::string("secret").optional().sensitive()),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if config.get("name").as_str().is_some_and(|n| n.contains(' ')) {
            diags.attribute_error(
                AttrPath::root("name"),
                "Invalid name",
                "Names cannot contain spaces.",
            );
        }
    }

    async fn modify_plan(
        &self,
        _client: Option<&Client>,
        plan: &mut PlanContext,
        _diags: &mut Diagnostics,
    ) {
        if plan.config.get("note").as_str() == Some("replace-me") {
            plan.requires_replace.push(AttrPath::root("note"));
        }
    }

    async fn create(
        &self,
        client: &Client,
        planned: &Value,
        _diags: &mut Diagnostics,
    ) -> Option<Value> {
        let mut objects = client.store.load();
        let id = format!("thing-{}", objects.len() + 1);
        let obj = thing_object(planned, 1);
        let state = thing_state(&id, &obj);
        objects.insert(id, obj);
        client.store.save(objects);
        Some(state)
    }

    async fn read(
        &self,
        client: &Client,
        state: &Value,
        _diags: &mut Diagnostics,
    ) -> Option<Value> {
        let id = state.get("id").as_str()?;
        client.store.load().get(id).map(|obj| thing_state(id, obj))
    }

    async fn update(
        &self,
        client: &Client,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let Some(id) = prior.get("id").as_str() else {
            diags.error("Missing id", "The prior state has no id.");
            return None;
        };
        let mut objects = client.store.load();
        let etag = objects
            .get(id)
            .and_then(|o| o["etag"].as_i64())
            .unwrap_or_default()
            + 1;
        let obj = thing_object(planned, etag);
        let state = thing_state(id, &obj);
        if planned.get("note").as_str() == Some("leave-unknown") {
            return Some(state.with_attr("etag", Value::Unknown));
        }
        objects.insert(id.to_owned(), obj);
        client.store.save(objects);
        Some(state)
    }

    async fn delete(&self, client: &Client, state: &Value, _diags: &mut Diagnostics) {
        if let Some(id) = state.get("id").as_str() {
            client.store.remove(id);
        }
    }
}

/// `multicloud_echo`: returns its input upper-cased.
pub struct Echo;

#[async_trait]
impl DataSource<Client> for Echo {
    fn type_name(&self) -> &'static str {
        "multicloud_echo"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .attribute(Attribute::string("input").required())
                .attribute(Attribute::string("output").computed()),
        )
    }

    async fn read(
        &self,
        _client: &Client,
        config: &Value,
        _diags: &mut Diagnostics,
    ) -> Option<Value> {
        let input = config
            .get("input")
            .as_str()
            .unwrap_or_default()
            .to_uppercase();
        Some(config.clone().with_attr("output", input))
    }
}
