//! go-plugin's start-up contract: the magic cookie, protocol version
//! negotiation, the listening port range and the handshake line on stdout.

use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;

use super::error::ProtocolError;

/// Environment variable Terraform sets to prove the plugin runs under it.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The value Terraform sets it to.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The only plugin protocol major version spoken here.
pub const PROTOCOL_VERSION: u32 = 6;
/// go-plugin's own protocol version (first field of the handshake line).
const CORE_PROTOCOL_VERSION: u32 = 1;

/// The environment the host passes to the plugin, captured once so tests can
/// supply their own.
#[derive(Clone, Default)]
pub struct HandshakeEnv {
    /// `TF_PLUGIN_MAGIC_COOKIE`.
    pub magic_cookie: Option<String>,
    /// `PLUGIN_PROTOCOL_VERSIONS`: comma-separated versions the host speaks.
    pub protocol_versions: Option<String>,
    /// `PLUGIN_MIN_PORT`.
    pub min_port: Option<String>,
    /// `PLUGIN_MAX_PORT`.
    pub max_port: Option<String>,
    /// `PLUGIN_CLIENT_CERT`: the host's PEM certificate for AutoMTLS.
    pub client_cert: Option<String>,
}

impl std::fmt::Debug for HandshakeEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandshakeEnv")
            .field("magic_cookie_set", &self.magic_cookie.is_some())
            .field("protocol_versions", &self.protocol_versions)
            .field("min_port", &self.min_port)
            .field("max_port", &self.max_port)
            .field("client_cert_set", &self.client_cert.is_some())
            .finish()
    }
}

impl HandshakeEnv {
    /// Reads the variables from the process environment.
    pub fn from_env() -> Self {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        HandshakeEnv {
            magic_cookie: get(MAGIC_COOKIE_KEY),
            protocol_versions: get("PLUGIN_PROTOCOL_VERSIONS"),
            min_port: get("PLUGIN_MIN_PORT"),
            max_port: get("PLUGIN_MAX_PORT"),
            client_cert: get("PLUGIN_CLIENT_CERT"),
        }
    }
}

/// Refuses to serve outside Terraform or to a host that cannot speak protocol 6.
pub(crate) fn check(env: &HandshakeEnv) -> Result<(), ProtocolError> {
    if env.magic_cookie.as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(ProtocolError::Handshake(
            "This binary is a plugin: the Terraform provider terraform-provider-multicloud. \
             It is not meant to be run directly.\n\
             Run terraform instead, with a configuration that uses this provider; \
             Terraform starts the plugin itself."
                .to_owned(),
        ));
    }
    // Hosts that predate version negotiation send nothing; they get version 6.
    let Some(list) = env.protocol_versions.as_deref() else {
        return Ok(());
    };
    let offered: Vec<u32> = list
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    if offered.contains(&PROTOCOL_VERSION) {
        Ok(())
    } else {
        Err(ProtocolError::Handshake(format!(
            "This provider speaks plugin protocol {PROTOCOL_VERSION} only, but the host offered {list:?}. \
             Use Terraform 1.0 or newer (or OpenTofu)."
        )))
    }
}

/// The ports to try, in order; `0..=0` lets the system pick.
pub(crate) fn port_range(env: &HandshakeEnv) -> Result<(u16, u16), ProtocolError> {
    let parse = |name: &str, v: &Option<String>| -> Result<u16, ProtocolError> {
        v.as_deref().map_or(Ok(0), |s| {
            s.trim().parse().map_err(|_| {
                ProtocolError::Handshake(format!(
                    "couldn't get value from {name}: {s:?} is not a port"
                ))
            })
        })
    };
    let min = parse("PLUGIN_MIN_PORT", &env.min_port)?;
    let max = parse("PLUGIN_MAX_PORT", &env.max_port)?;
    if min > max {
        return Err(ProtocolError::Handshake(format!(
            "PLUGIN_MIN_PORT value of {min} is greater than PLUGIN_MAX_PORT value of {max}"
        )));
    }
    Ok((min, max))
}

/// `1|6|tcp|127.0.0.1:PORT|grpc|CERT`, CERT being the server certificate's
/// DER in unpadded standard base64 (empty without TLS), as go-plugin prints it.
pub(crate) fn handshake_line(addr: SocketAddr, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|d| STANDARD_NO_PAD.encode(d))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|tcp|{addr}|grpc|{cert}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(cookie: Option<&str>, versions: Option<&str>) -> HandshakeEnv {
        HandshakeEnv {
            magic_cookie: cookie.map(str::to_owned),
            protocol_versions: versions.map(str::to_owned),
            ..Default::default()
        }
    }

    #[test]
    fn cookie_and_versions() {
        assert!(check(&env(None, None)).is_err());
        assert!(check(&env(Some("wrong"), Some("6"))).is_err());
        assert!(check(&env(Some(MAGIC_COOKIE_VALUE), None)).is_ok());
        assert!(check(&env(Some(MAGIC_COOKIE_VALUE), Some("5,6"))).is_ok());
        assert!(check(&env(Some(MAGIC_COOKIE_VALUE), Some("x,6"))).is_ok());
        let err = check(&env(Some(MAGIC_COOKIE_VALUE), Some("4,5")))
            .err()
            .map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("protocol 6 only"));
    }

    #[test]
    fn ports_and_line() {
        let mut e = env(None, None);
        assert_eq!(port_range(&e).ok(), Some((0, 0)));
        e.min_port = Some("10000".into());
        e.max_port = Some("10005".into());
        assert_eq!(port_range(&e).ok(), Some((10000, 10005)));
        e.max_port = Some("9".into());
        assert!(port_range(&e).is_err());
        let addr: SocketAddr = "127.0.0.1:1234"
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        assert_eq!(handshake_line(addr, None), "1|6|tcp|127.0.0.1:1234|grpc|\n");
        assert_eq!(
            handshake_line(addr, Some(&[0xff, 0xfe])),
            "1|6|tcp|127.0.0.1:1234|grpc|//4\n"
        );
    }
}
