//! Command-line parsing for the `arm-emulator` binary (hand-written: a handful of flags).

use std::net::SocketAddr;

use crate::config::{ClientCredential, Config, FederatedCredential};
use crate::errors::EmulatorError;

/// Usage text printed on `--help` and on argument errors.
pub const USAGE: &str = "\
usage: arm-emulator --state-dir DIR [--listen 127.0.0.1:0] [--tenant-id GUID]
                    [--subscription-id GUID] [--client ID=SECRET]...
                    [--federated ID=ISSUER|SUBJECT]... [--register-delay-polls N]
                    [--aws-endpoint http://127.0.0.1:PORT] [--resource-group NAME=LOCATION]...
                    [--state-file FILE]

Serves an emulated Entra ID token endpoint and Azure Resource Manager over HTTPS.
Writes DIR/ca.pem and DIR/emulator.json, and prints the latter as one JSON line.
--client replaces the built-in client when given. --aws-endpoint is the AWS emulator that
security connector health asks about the connector's IAM roles. --resource-group creates a
resource group at start. --state-file keeps resources, resource groups, registrations and the
TLS and token keys across restarts: saved after every request, read back at start (restart on the
same --listen address). Operations a stop interrupted end at the restart, as they would have.";

/// Parses arguments (without the program name). `Ok(None)` means `--help` was asked for.
pub fn parse_args<I: IntoIterator<Item = String>>(
    args: I,
) -> Result<Option<Config>, EmulatorError> {
    let mut it = args.into_iter();
    let mut listen: Option<SocketAddr> = None;
    let mut state_dir = None;
    let mut tenant = None;
    let mut subscription = None;
    let mut clients = Vec::new();
    let mut federated = Vec::new();
    let mut delay = None;
    let mut aws_endpoint = None;
    let mut resource_groups = Vec::new();
    let mut state_file = None;
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let mut value = |name: &str| -> Result<String, EmulatorError> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| EmulatorError::Usage(format!("{name} needs a value")))
        };
        match flag.as_str() {
            "--listen" => {
                let v = value("--listen")?;
                listen = Some(v.parse().map_err(|_| {
                    EmulatorError::Usage(format!("--listen: '{v}' is not an IP:PORT address"))
                })?);
            }
            "--state-dir" => state_dir = Some(value("--state-dir")?),
            "--state-file" => state_file = Some(std::path::PathBuf::from(value("--state-file")?)),
            "--tenant-id" => tenant = Some(value("--tenant-id")?),
            "--subscription-id" => subscription = Some(value("--subscription-id")?),
            "--client" => {
                let v = value("--client")?;
                let (id, secret) = v
                    .split_once('=')
                    .filter(|(id, s)| !id.is_empty() && !s.is_empty())
                    .ok_or_else(|| {
                        EmulatorError::Usage("--client expects ID=SECRET".to_string())
                    })?;
                clients.push(ClientCredential {
                    client_id: id.to_string(),
                    client_secret: secret.to_string(),
                });
            }
            "--federated" => {
                let v = value("--federated")?;
                federated.push(parse_federated(&v)?);
            }
            "--register-delay-polls" => {
                let v = value("--register-delay-polls")?;
                delay = Some(v.parse::<u32>().map_err(|_| {
                    EmulatorError::Usage(format!("--register-delay-polls: '{v}' is not a count"))
                })?);
            }
            "--aws-endpoint" => {
                let v = value("--aws-endpoint")?;
                crate::security::aws::parse_endpoint(&v)
                    .map_err(|e| EmulatorError::Usage(format!("--aws-endpoint: {e}")))?;
                aws_endpoint = Some(v.trim_end_matches('/').to_string());
            }
            "--resource-group" => {
                let v = value("--resource-group")?;
                let (name, location) = v
                    .split_once('=')
                    .filter(|(n, l)| !n.is_empty() && !l.is_empty())
                    .ok_or_else(|| {
                        EmulatorError::Usage("--resource-group expects NAME=LOCATION".to_string())
                    })?;
                resource_groups.push((name.to_string(), location.to_string()));
            }
            other => return Err(EmulatorError::Usage(format!("unknown argument '{other}'"))),
        }
    }
    let state_dir =
        state_dir.ok_or_else(|| EmulatorError::Usage("--state-dir is required".to_string()))?;
    let mut config = Config::new(state_dir);
    if let Some(l) = listen {
        config.listen = l;
    }
    if let Some(t) = tenant {
        config.tenant_id = t;
    }
    if let Some(s) = subscription {
        config.subscription_id = s;
    }
    if !clients.is_empty() {
        config.clients = clients;
    }
    config.federated = federated;
    if let Some(d) = delay {
        config.register_delay_polls = d;
    }
    config.aws_endpoint = aws_endpoint;
    config.resource_groups = resource_groups;
    config.state_file = state_file;
    Ok(Some(config))
}

/// `ID=ISSUER|SUBJECT`; the issuer is a URL and may itself contain `=`, so split on the first `=`
/// and the last `|`.
fn parse_federated(v: &str) -> Result<FederatedCredential, EmulatorError> {
    let bad = || EmulatorError::Usage("--federated expects ID=ISSUER|SUBJECT".to_string());
    let (id, rest) = v.split_once('=').ok_or_else(bad)?;
    let (issuer, subject) = rest.rsplit_once('|').ok_or_else(bad)?;
    if id.is_empty() || issuer.is_empty() || subject.is_empty() {
        return Err(bad());
    }
    Ok(FederatedCredential {
        client_id: id.to_string(),
        issuer: issuer.to_string(),
        subject: subject.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_all_flags() {
        let c = parse_args(args(&[
            "--listen",
            "127.0.0.1:8443",
            "--state-dir=/x",
            "--tenant-id",
            "t",
            "--subscription-id",
            "s",
            "--client",
            "a=b=c",
            "--federated",
            "a=https://issuer.example/x?y=1|repo:o/r:ref:refs/heads/main",
            "--register-delay-polls",
            "3",
            "--aws-endpoint",
            "http://127.0.0.1:5000/",
            "--resource-group",
            "rg-a=westeurope",
            "--state-file",
            "/x/state.json",
        ]))
        .ok()
        .flatten();
        let Some(c) = c else {
            panic!("expected a config")
        };
        assert_eq!(c.listen.port(), 8443);
        assert_eq!(c.tenant_id, "t");
        assert_eq!(c.clients[0].client_id, "a");
        assert_eq!(c.clients[0].client_secret, "b=c");
        assert_eq!(c.federated[0].issuer, "https://issuer.example/x?y=1");
        assert_eq!(c.federated[0].subject, "repo:o/r:ref:refs/heads/main");
        assert_eq!(c.register_delay_polls, 3);
        assert_eq!(c.aws_endpoint.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(
            c.resource_groups,
            [("rg-a".to_string(), "westeurope".to_string())]
        );
        assert_eq!(
            c.state_file.as_deref(),
            Some(std::path::Path::new("/x/state.json"))
        );
        assert!(parse_args(args(&["--state-dir=/x", "--resource-group", "rg-a"])).is_err());
    }

    #[test]
    fn rejects_missing_state_dir_and_unknown_flags() {
        assert!(parse_args(args(&["--listen", "127.0.0.1:0"])).is_err());
        assert!(parse_args(args(&["--state-dir", "x", "--bogus"])).is_err());
        assert!(parse_args(args(&["--state-dir", "x", "--client", "nosecret"])).is_err());
        assert!(parse_args(args(&["--state-dir", "x", "--aws-endpoint", "https://h:1"])).is_err());
        assert!(matches!(parse_args(args(&["--help"])), Ok(None)));
    }

    #[test]
    fn client_secret_is_not_in_debug_output() {
        let c = ClientCredential {
            client_id: "id".into(),
            client_secret: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
