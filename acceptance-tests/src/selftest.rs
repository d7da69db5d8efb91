//! Self-tests of the harness against the real tools (moto, Terraform, the Go
//! `null` provider); they need no provider build but do need `.tools/`, so
//! they are gated by `TF_ACC` like acceptance tests.

use std::process::Command;
use std::time::Duration;

use crate::cli_config::{CliConfig, Install};
use crate::emulators::Emulators;
use crate::moto::Moto;
use crate::paths::Paths;
use crate::process::run_with_limit;
use crate::skip_unless_acc;

#[test]
fn moto_starts_answers_iam_and_resets() {
    skip_unless_acc!();
    let tmp = tempfile::tempdir().expect("temp dir");
    let moto = Moto::start(&Paths::from_env(), tmp.path());
    assert_eq!(moto.account_id(), "123456789012");
    assert!(moto.iam_role_names().is_empty());
    moto.query(
        "iam",
        "CreateRole",
        &[
            ("RoleName", "harness-probe"),
            (
                "AssumeRolePolicyDocument",
                "{\"Version\":\"2012-10-17\",\"Statement\":[]}",
            ),
        ],
    );
    assert_eq!(moto.iam_role_names(), ["harness-probe"]);
    moto.reset();
    assert!(moto.iam_role_names().is_empty());
}

#[test]
fn two_motos_run_side_by_side_and_stop_on_drop() {
    skip_unless_acc!();
    let tmp = tempfile::tempdir().expect("temp dir");
    let paths = Paths::from_env();
    let a = Moto::start(&paths, &tmp.path().join("a").tap_mkdir());
    let b = Moto::start(&paths, &tmp.path().join("b").tap_mkdir());
    assert_ne!(a.url(), b.url());
    let url = a.url().to_string();
    drop(a);
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    assert!(
        client.get(format!("{url}/moto-api/")).send().is_err(),
        "moto still answers after drop"
    );
    assert!(b.iam_role_names().is_empty());
}

/// Both emulators start with fresh identities, the ARM admin API answers
/// through the emulator's own CA, the token endpoint accepts exactly the
/// generated client secret, and the processes stop on drop.
#[test]
fn emulators_start_serve_tokens_and_stop() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    assert!(emulators.arm().healthy());
    assert_ne!(emulators.tenant_id(), emulators.subscription_id());
    let token_url = format!(
        "{}/{}/oauth2/v2.0/token",
        emulators.arm_url(),
        emulators.tenant_id()
    );
    let pem = std::fs::read(emulators.ca_cert_file()).expect("CA file");
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("PEM")])
        .build()
        .expect("client");
    let token = |secret: &str| {
        client
            .post(&token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", emulators.arm_client_id()),
                ("client_secret", secret),
                ("scope", "https://management.azure.com/.default"),
            ])
            .send()
            .expect("token request")
            .status()
    };
    assert!(token(emulators.arm_client_secret()).is_success());
    assert_eq!(token("wrong-secret-value").as_u16(), 401);
    let federated = |assertion: &str| {
        client
            .post(&token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", emulators.oidc_client_id()),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion),
                ("scope", "https://management.azure.com/.default"),
            ])
            .send()
            .expect("token request")
            .status()
    };
    assert!(federated(&emulators.oidc_token()).is_success());
    assert!(federated("not.a-jwt.at-all").is_client_error());
    let logged = emulators.arm_requests();
    assert!(
        logged
            .iter()
            .any(|r| r.method == "POST" && r.path.contains("/oauth2/v2.0/token")),
        "token calls missing from the request log: {logged:?}"
    );
    emulators.arm().clear_requests();
    assert!(emulators.arm_requests().is_empty());
    emulators.arm_reset();
    assert!(emulators.arm_resources().is_empty());
    let env = emulators.terraform_env();
    assert!(
        env.iter()
            .any(|(k, v)| k == "TF_VAR_aws_endpoint" && v == emulators.moto_url())
    );

    let (arm_url, moto_url) = (
        emulators.arm_url().to_string(),
        emulators.moto_url().to_string(),
    );
    drop(emulators);
    let probe = reqwest::blocking::Client::builder()
        .no_proxy()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    assert!(
        probe
            .get(format!("{arm_url}/_emulator/health"))
            .send()
            .is_err()
    );
    assert!(probe.get(format!("{moto_url}/moto-api/")).send().is_err());
}

/// The rendered filesystem-mirror CLI config drives the real CLI: init
/// installs from the mirror and writes a lock file, and apply works offline.
#[test]
fn terraform_installs_from_the_rendered_mirror_config() {
    skip_unless_acc!();
    let paths = Paths::from_env();
    paths.require_tools();
    let tmp = tempfile::tempdir().expect("temp dir");
    let config = CliConfig {
        install: Install::FilesystemMirror,
        build_dir: paths.target_dir.clone(),
        mirror_dir: tmp.path().join("empty-mirror"),
        null_mirror: Some(paths.null_mirror()),
    };
    std::fs::write(tmp.path().join("terraform.rc"), config.render()).expect("write rc");
    let work = tmp.path().join("work").tap_mkdir();
    let home = tmp.path().join("home").tap_mkdir();
    std::fs::write(
        work.join("main.tf"),
        "terraform {\n  required_providers {\n    null = { source = \"hashicorp/null\" }\n  }\n}\nresource \"null_resource\" \"probe\" {}\n",
    )
    .expect("write main.tf");
    let tf = |args: &[&str]| {
        let out = run_with_limit(
            Command::new(paths.terraform())
                .args(args)
                .current_dir(&work)
                .env_clear()
                .env("HOME", &home)
                .env("TF_CLI_CONFIG_FILE", tmp.path().join("terraform.rc"))
                .env("CHECKPOINT_DISABLE", "1")
                .env("TF_IN_AUTOMATION", "1"),
            Duration::from_secs(120),
        );
        assert!(out.success(), "{out}");
        out
    };
    tf(&["init", "-input=false", "-no-color"]);
    let lock = std::fs::read_to_string(work.join(".terraform.lock.hcl")).expect("lock file");
    assert!(
        lock.contains("registry.terraform.io/hashicorp/null"),
        "{lock}"
    );
    tf(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    tf(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}

impl TapMkdir for std::path::PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).expect("mkdir");
        self
    }
}
