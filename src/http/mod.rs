//! HTTP plumbing shared by both clouds: one retry policy, backoff, `Retry-After` parsing,
//! transport-failure classification and our own `reqwest` client (custom CA support).

pub mod backoff;
pub mod retry;
pub mod retry_after;
pub mod transport;

#[cfg(test)]
pub(crate) mod mock_server;

pub use retry::{Clock, RetryPolicy, TokioClock, Verdict, is_retryable_status};
pub use transport::{HttpError, TransportFailure, build_client, classify_transport};

/// `User-Agent` sent on every request we make ourselves.
pub const USER_AGENT: &str = concat!("terraform-provider-multicloud/", env!("CARGO_PKG_VERSION"));

/// Renders an error and all its sources as `outer: inner: root`, skipping a source whose
/// text the previous level already repeats (libraries often embed their source's message).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut current = err.source();
    while let Some(e) = current {
        let text = e.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        current = e.source();
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer failed")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn chain_includes_root_cause() {
        let e = Outer(std::io::Error::other(
            "invalid peer certificate: UnknownIssuer",
        ));
        assert_eq!(
            error_chain(&e),
            "outer failed: invalid peer certificate: UnknownIssuer"
        );
    }

    #[test]
    fn user_agent_names_the_provider() {
        assert!(USER_AGENT.starts_with("terraform-provider-multicloud/"));
    }
}
