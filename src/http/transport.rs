//! Our own `reqwest` client and the classification of transport failures.
//!
//! A certificate, DNS or configuration problem never heals by waiting, so it is never retried
//! and its real cause stays in the message. A connection refused before anything was sent is
//! safe to retry for any method; a connection dropped after the request went out is retried
//! only for idempotent methods, because a POST may already have taken effect.

use super::retry::Verdict;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Time allowed to establish a TCP + TLS connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for one whole request/response exchange.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Environment variable that shortens (or lengthens) the per-request time limit of both
/// clouds' clients, in whole seconds: for networks known to be slow, and for tests that must
/// see a stalled answer time out quickly.
pub const REQUEST_TIMEOUT_ENV: &str = "MULTICLOUD_REQUEST_TIMEOUT_SECONDS";

/// The per-request limit set through [`REQUEST_TIMEOUT_ENV`], when it holds a positive number
/// of seconds; anything else is ignored so a typo cannot disable timeouts.
pub fn request_timeout_override() -> Option<Duration> {
    parse_timeout(std::env::var(REQUEST_TIMEOUT_ENV).ok().as_deref())
}

fn parse_timeout(text: Option<&str>) -> Option<Duration> {
    text?
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|s| *s > 0)
        .map(Duration::from_secs)
}

/// Failure to build the HTTP client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The CA bundle file could not be read.
    #[error("cannot read CA certificate file {path}: {source}")]
    CaCertRead {
        /// The configured path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The CA bundle file holds no usable PEM certificate.
    #[error("CA certificate file {path} contains no valid PEM certificate: {message}")]
    CaCertParse {
        /// The configured path.
        path: PathBuf,
        /// What the parser reported.
        message: String,
    },
    /// The client could not be built (TLS backend initialisation).
    #[error("cannot build HTTP client: {0}")]
    Build(String),
}

/// Builds the HTTP client every request of ours goes through, trusting `ca_cert_file`
/// (PEM, one or more certificates) in addition to the platform's roots.
pub fn build_client(ca_cert_file: Option<&Path>) -> Result<reqwest::Client, HttpError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(super::USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(request_timeout_override().unwrap_or(REQUEST_TIMEOUT));
    if let Some(path) = ca_cert_file {
        let pem = std::fs::read(path).map_err(|source| HttpError::CaCertRead {
            path: path.to_owned(),
            source,
        })?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| HttpError::CaCertParse {
                path: path.to_owned(),
                message: super::error_chain(&e),
            })?;
        if certs.is_empty() {
            return Err(HttpError::CaCertParse {
                path: path.to_owned(),
                message: "no BEGIN CERTIFICATE block found".to_owned(),
            });
        }
        builder = builder.tls_certs_merge(certs);
    }
    builder
        .build()
        .map_err(|e| HttpError::Build(super::error_chain(&e)))
}

/// What kind of transport failure happened, judged from the whole error chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// TLS handshake or certificate verification failed (untrusted CA, wrong host name, ...).
    Tls,
    /// The host name could not be resolved.
    Dns,
    /// The connection could not be established (refused, unreachable); nothing was sent.
    Connect,
    /// The request or response timed out; the request may have been processed.
    Timeout,
    /// The connection broke after the request was sent; it may have been processed.
    Interrupted,
    /// A request that could not be built or sent for a local reason (bad URL, ...).
    Config,
}

impl TransportFailure {
    /// Retry verdict: TLS, DNS and configuration never; refused connections always;
    /// timeouts and broken connections only for idempotent methods.
    pub fn verdict(self, idempotent: bool) -> Verdict {
        let retry = Verdict::Retry { retry_after: None };
        match self {
            Self::Tls | Self::Dns | Self::Config => Verdict::Fail,
            Self::Connect => retry,
            Self::Timeout | Self::Interrupted if idempotent => retry,
            Self::Timeout | Self::Interrupted => Verdict::Fail,
        }
    }

    /// Whether the request may have been processed although no answer came back.
    pub fn effect_unknown(self) -> bool {
        matches!(self, Self::Timeout | Self::Interrupted)
    }
}

/// Classifies a `reqwest` error by walking its source chain.
pub fn classify_transport(err: &reqwest::Error) -> TransportFailure {
    let chain = super::error_chain(err).to_ascii_lowercase();
    if closed_after_handshake(&chain) {
        return TransportFailure::Interrupted;
    }
    if chain.contains("certificate")
        || chain.contains("tls")
        || chain.contains("handshake")
        || chain.contains("unknownissuer")
    {
        return TransportFailure::Tls;
    }
    if chain.contains("dns error") || chain.contains("failed to lookup address") {
        return TransportFailure::Dns;
    }
    if err.is_builder() || err.is_redirect() {
        return TransportFailure::Config;
    }
    if err.is_timeout() {
        return TransportFailure::Timeout;
    }
    if err.is_connect() {
        return TransportFailure::Connect;
    }
    TransportFailure::Interrupted
}

/// A server that closes an established TLS connection without its goodbye (`close_notify`),
/// as one does when it breaks off after reading the request: the request may have been
/// processed, as with any broken connection. The message names TLS, so it is told apart here
/// from a handshake that failed, which never reached the server's application.
fn closed_after_handshake(chain: &str) -> bool {
    chain.contains("close_notify") && !chain.contains("handshake")
}

/// Whether a method may be re-sent after an ambiguous failure (RFC 9110 idempotent methods).
pub fn is_idempotent(method: &http::Method) -> bool {
    matches!(
        *method,
        http::Method::GET
            | http::Method::HEAD
            | http::Method::OPTIONS
            | http::Method::PUT
            | http::Method::DELETE
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn request_timeout_override_takes_positive_seconds_only() {
        assert_eq!(parse_timeout(Some("3")), Some(Duration::from_secs(3)));
        assert_eq!(parse_timeout(Some(" 45 ")), Some(Duration::from_secs(45)));
        for ignored in [
            None,
            Some(""),
            Some("0"),
            Some("-1"),
            Some("2s"),
            Some("1.5"),
        ] {
            assert_eq!(parse_timeout(ignored), None, "{ignored:?}");
        }
    }

    #[test]
    fn verdicts() {
        let retry = Verdict::Retry { retry_after: None };
        assert_eq!(TransportFailure::Tls.verdict(true), Verdict::Fail);
        assert_eq!(TransportFailure::Dns.verdict(true), Verdict::Fail);
        assert_eq!(TransportFailure::Config.verdict(true), Verdict::Fail);
        assert_eq!(TransportFailure::Connect.verdict(false), retry);
        assert_eq!(TransportFailure::Interrupted.verdict(true), retry);
        assert_eq!(TransportFailure::Interrupted.verdict(false), Verdict::Fail);
        assert_eq!(TransportFailure::Timeout.verdict(false), Verdict::Fail);
    }

    #[test]
    fn a_tls_connection_closed_after_the_request_is_not_a_tls_failure() {
        assert!(closed_after_handshake(
            "error sending request: connection error: peer closed connection without sending tls close_notify"
        ));
        assert!(!closed_after_handshake(
            "error sending request: invalid peer certificate: unknownissuer"
        ));
        assert!(!closed_after_handshake(
            "client error (connect): tls handshake eof: peer closed connection without sending tls close_notify"
        ));
        assert!(TransportFailure::Interrupted.effect_unknown());
        assert!(TransportFailure::Timeout.effect_unknown());
        assert!(!TransportFailure::Connect.effect_unknown());
    }

    #[test]
    fn idempotent_methods() {
        assert!(is_idempotent(&http::Method::PUT));
        assert!(is_idempotent(&http::Method::DELETE));
        assert!(is_idempotent(&http::Method::GET));
        assert!(!is_idempotent(&http::Method::POST));
        assert!(!is_idempotent(&http::Method::PATCH));
    }

    #[test]
    fn missing_ca_file_is_named() {
        let err = build_client(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn garbage_ca_file_is_rejected() {
        let dir = std::env::temp_dir().join(format!("mc-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let err = build_client(Some(&path)).unwrap_err();
        assert!(matches!(err, HttpError::CaCertParse { .. }), "{err}");
    }

    #[tokio::test]
    async fn refused_connection_is_connect() {
        // Bind then drop to get a port that is very likely closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = build_client(None).unwrap();
        let err = client
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(classify_transport(&err), TransportFailure::Connect);
    }
}
