//! The `arm-emulator` binary: flags, state files, stdout line and clean exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use arm_emulator::EmulatorInfo;

#[tokio::test]
async fn binary_writes_state_files_prints_info_and_exits_on_sigterm() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_arm-emulator"))
        .args(["--listen", "127.0.0.1:0", "--state-dir"])
        .arg(dir.path())
        .args([
            "--tenant-id",
            "aaaaaaaa-0000-4000-8000-000000000001",
            "--client",
            "me=pw",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("stdout"));
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("{e}"));
    let info: EmulatorInfo =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
    let file = std::fs::read_to_string(dir.path().join("emulator.json")).unwrap_or_default();
    let from_file: EmulatorInfo = serde_json::from_str(&file).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(info, from_file);
    assert_eq!(info.tenant_id, "aaaaaaaa-0000-4000-8000-000000000001");
    assert!(info.url.starts_with("https://127.0.0.1:"));
    let ca = std::fs::read_to_string(&info.ca_cert_file).unwrap_or_default();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));

    let http = crate::client_trusting(&ca);
    let resp = http
        .post(format!("{}/{}/oauth2/v2.0/token", info.url, info.tenant_id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "me"),
            ("client_secret", "pw"),
            ("scope", "https://management.azure.com/.default"),
        ])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 200);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(killed.is_ok_and(|s| s.success()));
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    assert!(
        stderr.contains("POST /aaaaaaaa-0000-4000-8000-000000000001/oauth2/v2.0/token 200"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("pw") && !stderr.contains("access_token"),
        "no secrets in logs: {stderr}"
    );
    assert!(
        !dir.path().join("emulator.json").exists(),
        "info file removed on clean exit"
    );
}
