//! The emulator's own request/response values, decoupled from hyper so handlers stay plain functions.

use bytes::Bytes;
use hyper::{HeaderMap, Method, StatusCode};
use serde_json::Value;

/// A fully read request.
#[derive(Debug)]
pub(crate) struct Req {
    pub(crate) method: Method,
    /// Percent-decoded path without the query string.
    pub(crate) path: String,
    /// Decoded query pairs in arrival order.
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Req {
    /// First value of a query parameter, matched case-insensitively as ARM does.
    pub(crate) fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Non-empty path segments.
    pub(crate) fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }

    /// The body as JSON; an empty body reads as `null`.
    pub(crate) fn json(&self) -> Result<Value, serde_json::Error> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body)
    }
}

/// A response before it is turned into a hyper response.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<Value>,
}

impl Resp {
    pub(crate) fn json(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub(crate) fn ok(body: Value) -> Self {
        Self::json(StatusCode::OK, body)
    }

    pub(crate) fn empty(status: StatusCode) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    pub(crate) fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// What the server does with a request: answer it, or close the connection without a word.
#[derive(Debug)]
pub(crate) enum Outcome {
    Respond(Resp),
    Drop,
}

impl From<Resp> for Outcome {
    fn from(r: Resp) -> Self {
        Outcome::Respond(r)
    }
}
