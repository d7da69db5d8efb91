//! Both emulated clouds for one test: moto and the ARM emulator, started
//! with fresh throwaway identities and credentials, stopped on drop.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::arm::{ArmEmulator, ArmIdentities, ArmRequest};
use crate::moto::Moto;
use crate::paths::Paths;

/// Audience Entra ID expects in federated (OIDC) client assertions.
pub const OIDC_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Extra identities to register with the ARM emulator; the defaults (one
/// client-secret app and one federated app) are always there.
#[derive(Debug, Clone, Default)]
pub struct EmulatorOptions {
    clients: Vec<(String, String)>,
    federated: Vec<(String, String, String)>,
    persistent_arm: bool,
}

impl EmulatorOptions {
    /// Registers another client-credentials app.
    pub fn with_client(mut self, client_id: &str, secret: &str) -> Self {
        self.clients.push((client_id.into(), secret.into()));
        self
    }

    /// Gives the ARM emulator a state file, so [`Emulators::restart_arm`] keeps its resources.
    pub fn with_persistent_arm(mut self) -> Self {
        self.persistent_arm = true;
        self
    }

    /// Registers another federated app trusting `issuer` for `subject`.
    pub fn with_federated(mut self, client_id: &str, issuer: &str, subject: &str) -> Self {
        self.federated
            .push((client_id.into(), issuer.into(), subject.into()));
        self
    }
}

/// moto + the ARM emulator, with the credentials a test configures the
/// provider with. Every instance has its own ports, state and secrets.
pub struct Emulators {
    moto: Moto,
    arm: ArmEmulator,
    client_id: String,
    client_secret: String,
    oidc_client_id: String,
    oidc_issuer: String,
    oidc_subject: String,
    aws_access_key_id: String,
    aws_secret_access_key: String,
    paths: Paths,
    // Last, so the processes are stopped before their directory goes.
    dir: TempDir,
}

impl Emulators {
    /// Starts both emulators with the default identities.
    pub fn start() -> Self {
        Self::start_with(EmulatorOptions::default())
    }

    /// Starts both emulators with extra identities.
    pub fn start_with(options: EmulatorOptions) -> Self {
        let paths = Paths::from_env();
        let dir = tempfile::Builder::new()
            .prefix("multicloud-emulators.")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
        let client_id = uuid();
        let client_secret = format!("acc-secret-{}", random_hex(20));
        let oidc_client_id = uuid();
        // `.invalid` is reserved: nothing can ever resolve this issuer.
        let oidc_issuer = "https://issuer.invalid".to_string();
        let oidc_subject = "organization:acc:project:acc:workspace:acc:run_phase:apply".to_string();
        let mut ids = ArmIdentities {
            tenant_id: uuid(),
            subscription_id: uuid(),
            clients: vec![(client_id.clone(), client_secret.clone())],
            federated: vec![(
                oidc_client_id.clone(),
                oidc_issuer.clone(),
                oidc_subject.clone(),
            )],
            aws_endpoint: None,
            persistent: options.persistent_arm,
        };
        ids.clients.extend(options.clients);
        ids.federated.extend(options.federated);

        let moto = Moto::start(&paths, dir.path());
        // Connector health asks moto about the roles a connector names.
        ids.aws_endpoint = Some(moto.url().to_string());
        let arm = ArmEmulator::start(&paths, &dir.path().join("arm"), ids);
        Self {
            moto,
            arm,
            client_id,
            client_secret,
            oidc_client_id,
            oidc_issuer,
            oidc_subject,
            aws_access_key_id: format!("AKIA{}", random_hex(8).to_ascii_uppercase()),
            aws_secret_access_key: format!("acc-aws-{}", random_hex(16)),
            paths,
            dir,
        }
    }

    /// The AWS emulator.
    pub fn moto(&self) -> &Moto {
        &self.moto
    }

    /// The Azure emulator.
    pub fn arm(&self) -> &ArmEmulator {
        &self.arm
    }

    /// Where the binaries and tools were found.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// Directory holding the emulators' logs and state.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// moto's URL (every AWS service endpoint).
    pub fn moto_url(&self) -> &str {
        self.moto.url()
    }

    /// The ARM emulator's URL (Resource Manager and Entra ID endpoint).
    pub fn arm_url(&self) -> &str {
        self.arm.url()
    }

    /// The ARM emulator's CA certificate file.
    pub fn ca_cert_file(&self) -> &Path {
        self.arm.ca_cert_file()
    }

    /// Emulated tenant id.
    pub fn tenant_id(&self) -> &str {
        self.arm.tenant_id()
    }

    /// Emulated subscription id.
    pub fn subscription_id(&self) -> &str {
        self.arm.subscription_id()
    }

    /// Client id of the client-secret app.
    pub fn arm_client_id(&self) -> &str {
        &self.client_id
    }

    /// Its secret (a canary for [`crate::TerraformWorkspace::assert_no_secrets`]).
    pub fn arm_client_secret(&self) -> &str {
        &self.client_secret
    }

    /// Client id of the federated (OIDC) app.
    pub fn oidc_client_id(&self) -> &str {
        &self.oidc_client_id
    }

    /// Issuer the federated app trusts.
    pub fn oidc_issuer(&self) -> &str {
        &self.oidc_issuer
    }

    /// Subject the federated app trusts.
    pub fn oidc_subject(&self) -> &str {
        &self.oidc_subject
    }

    /// A workload-identity token for the federated app: a JWT with the
    /// issuer, subject and audience Entra ID checks, valid for 10 minutes.
    /// Its signature is random bytes: the emulator cannot fetch an issuer's
    /// keys offline, so it checks claims only.
    pub fn oidc_token(&self) -> String {
        jwt(&self.oidc_issuer, &self.oidc_subject, OIDC_AUDIENCE)
    }

    /// AWS access key id given to the provider (moto accepts any).
    pub fn aws_access_key_id(&self) -> &str {
        &self.aws_access_key_id
    }

    /// AWS secret access key (a canary for secret scans).
    pub fn aws_secret_access_key(&self) -> &str {
        &self.aws_secret_access_key
    }

    /// Every secret the emulators handed out, for secret scans.
    pub fn secrets(&self) -> Vec<String> {
        vec![
            self.client_secret.clone(),
            self.aws_secret_access_key.clone(),
        ]
    }

    /// The ARM request log.
    pub fn arm_requests(&self) -> Vec<ArmRequest> {
        self.arm.requests()
    }

    /// Stored ARM resources.
    pub fn arm_resources(&self) -> Vec<Value> {
        self.arm.resources()
    }

    /// Resets the ARM emulator (resources, faults, request log).
    pub fn arm_reset(&self) {
        self.arm.reset()
    }

    /// Kills and restarts the ARM emulator on its address (see [`ArmEmulator::restart`]).
    pub fn restart_arm(&self, down_for: std::time::Duration) {
        self.arm.restart(down_for)
    }

    /// Adds an ARM fault rule (see [`ArmEmulator::add_fault`]).
    pub fn add_fault(&self, fault: Value) -> Value {
        self.arm.add_fault(fault)
    }

    /// Health of a security connector, evaluated against moto (see
    /// [`ArmEmulator::connector_health`]).
    pub fn connector_health(&self, connector_id: &str) -> Value {
        self.arm.connector_health(connector_id)
    }

    /// ARM write calls per resource (see [`ArmEmulator::write_counts`]).
    pub fn arm_write_counts(&self, path_contains: Option<&str>) -> Value {
        self.arm.write_counts(path_contains)
    }

    /// Environment a Terraform run gets by default: client-secret login to
    /// Azure, static keys for AWS, and the endpoint variables the examples
    /// declare (`TF_VAR_*`; undeclared ones are ignored by Terraform).
    pub fn terraform_env(&self) -> Vec<(String, String)> {
        let ca = self.ca_cert_file().to_string_lossy().into_owned();
        [
            ("ARM_TENANT_ID", self.tenant_id()),
            ("ARM_SUBSCRIPTION_ID", self.subscription_id()),
            ("ARM_CLIENT_ID", self.arm_client_id()),
            ("ARM_CLIENT_SECRET", self.arm_client_secret()),
            ("AWS_ACCESS_KEY_ID", self.aws_access_key_id()),
            ("AWS_SECRET_ACCESS_KEY", self.aws_secret_access_key()),
            ("AWS_REGION", "us-east-1"),
            ("TF_VAR_azure_resource_manager_endpoint", self.arm_url()),
            ("TF_VAR_azure_active_directory_endpoint", self.arm_url()),
            ("TF_VAR_azure_ca_cert_file", &ca),
            ("TF_VAR_aws_endpoint", self.moto_url()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    use std::io::Read;
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .unwrap_or_else(|e| panic!("cannot read /dev/urandom: {e}"));
    buf
}

fn random_hex(bytes: usize) -> String {
    random_bytes(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A random (version 4) UUID.
fn uuid() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn jwt(issuer: &str, subject: &str, audience: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "acceptance"});
    let claims = json!({
        "iss": issuer, "sub": subject, "aud": audience,
        "iat": now, "nbf": now, "exp": now + 600, "jti": uuid(),
    });
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.{}",
        part(&header),
        part(&claims),
        URL_SAFE_NO_PAD.encode(random_bytes(256))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4_and_distinct() {
        let (a, b) = (uuid(), uuid());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn jwt_carries_the_claims_entra_checks() {
        let token = jwt("https://issuer.invalid", "sub-1", OIDC_AUDIENCE);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url claims"))
                .expect("JSON claims");
        assert_eq!(claims["iss"], "https://issuer.invalid");
        assert_eq!(claims["sub"], "sub-1");
        assert_eq!(claims["aud"], OIDC_AUDIENCE);
        assert!(claims["exp"].as_u64() > claims["iat"].as_u64());
    }
}
