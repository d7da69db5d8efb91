//! Pure request building and response interpretation for ARM: no I/O, unit-testable.

use super::error::{ArmErrorDetails, AzureError};
use http::{HeaderMap, Method, header};
use serde::Deserialize;
use url::Url;

/// A complete HTTP answer from ARM.
#[derive(Debug, Clone)]
pub struct ArmResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Raw body (may be empty).
    pub body: Vec<u8>,
}

impl ArmResponse {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON; an empty body is `null`.
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&self.body)
    }

    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Resolves `path` (an ARM path such as `/subscriptions/…`, or an absolute URL returned by
/// ARM for polling) against the ARM base URL, adding `api-version` unless already present.
pub fn build_url(base: &Url, path: &str, api_version: Option<&str>) -> Result<Url, AzureError> {
    let mut url = if path.starts_with("https://") || path.starts_with("http://") {
        Url::parse(path)
    } else {
        base.join(path.trim_start_matches('/'))
    }
    .map_err(|e| AzureError::Decode {
        context: format!("ARM path {path}"),
        message: e.to_string(),
    })?;
    if let Some(version) = api_version
        && !url.query_pairs().any(|(k, _)| k == "api-version")
    {
        url.query_pairs_mut().append_pair("api-version", version);
    }
    Ok(url)
}

/// Builds an unauthenticated ARM request; the executor adds the bearer token.
pub fn build_request(
    method: Method,
    url: &Url,
    body: Option<&serde_json::Value>,
) -> Result<http::Request<Vec<u8>>, AzureError> {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(url.as_str())
        .header(header::ACCEPT, "application/json")
        .header(header::USER_AGENT, crate::http::USER_AGENT);
    let bytes = match body {
        Some(v) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            serde_json::to_vec(v).map_err(|e| AzureError::Decode {
                context: format!("request body for {url}"),
                message: e.to_string(),
            })?
        }
        None => Vec::new(),
    };
    builder.body(bytes).map_err(|e| AzureError::Decode {
        context: format!("request to {url}"),
        message: e.to_string(),
    })
}

#[derive(Deserialize, Default)]
struct ErrorEnvelope {
    #[serde(default)]
    error: Option<ErrorBody>,
    // Some endpoints answer with the inner shape at top level.
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    target: Option<String>,
}

/// Longest raw body quoted in an error when ARM did not send its JSON error shape.
const RAW_BODY_LIMIT: usize = 512;

/// Turns a non-success response into a classified [`AzureError`], keeping ARM's code,
/// message, target and the request/correlation ids.
pub fn error_from_response(method: &Method, url: &Url, resp: &ArmResponse) -> AzureError {
    let envelope: ErrorEnvelope = serde_json::from_slice(&resp.body).unwrap_or_default();
    let (code, message, target) = match envelope.error {
        Some(e) => (e.code, e.message, e.target),
        None => (
            envelope.code.unwrap_or_default(),
            envelope.message.unwrap_or_else(|| {
                let text = String::from_utf8_lossy(&resp.body);
                text.chars().take(RAW_BODY_LIMIT).collect()
            }),
            None,
        ),
    };
    AzureError::from_arm(ArmErrorDetails {
        method: method.to_string(),
        url: url.to_string(),
        status: resp.status,
        code,
        message,
        target,
        request_id: resp.header("x-ms-request-id").map(str::to_owned),
        correlation_id: resp
            .header("x-ms-correlation-request-id")
            .map(str::to_owned),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://management.azure.com/").unwrap()
    }

    #[test]
    fn url_from_path_adds_api_version() {
        let u = build_url(
            &base(),
            "/subscriptions/s/providers/Microsoft.Security",
            Some("2021-04-01"),
        )
        .unwrap();
        assert_eq!(
            u.as_str(),
            "https://management.azure.com/subscriptions/s/providers/Microsoft.Security?api-version=2021-04-01"
        );
    }

    #[test]
    fn url_keeps_base_path_prefix() {
        let b = Url::parse("https://127.0.0.1:8443/arm/").unwrap();
        let u = build_url(&b, "/subscriptions/s", Some("v")).unwrap();
        assert_eq!(
            u.as_str(),
            "https://127.0.0.1:8443/arm/subscriptions/s?api-version=v"
        );
    }

    #[test]
    fn absolute_polling_url_is_kept() {
        let u = build_url(&base(), "https://other/op/1?api-version=x", Some("y")).unwrap();
        assert_eq!(u.as_str(), "https://other/op/1?api-version=x");
    }

    #[test]
    fn request_has_json_headers_and_user_agent() {
        let url = build_url(&base(), "/x", Some("v")).unwrap();
        let body = serde_json::json!({"location": "westeurope"});
        let req = build_request(Method::PUT, &url, Some(&body)).unwrap();
        assert_eq!(req.method(), Method::PUT);
        assert_eq!(req.headers()[header::CONTENT_TYPE], "application/json");
        assert!(
            req.headers()[header::USER_AGENT]
                .to_str()
                .unwrap()
                .starts_with("terraform-provider-multicloud/")
        );
        assert_eq!(req.body(), br#"{"location":"westeurope"}"#);
        let get = build_request(Method::GET, &url, None).unwrap();
        assert!(get.headers().get(header::CONTENT_TYPE).is_none());
        assert!(get.body().is_empty());
    }

    #[test]
    fn error_body_is_mapped() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ms-request-id", "rid".parse().unwrap());
        headers.insert("x-ms-correlation-request-id", "cid".parse().unwrap());
        let resp = ArmResponse {
            status: 400,
            headers,
            body: br#"{"error":{"code":"InvalidParameter","message":"bad scanInterval","target":"properties.environmentData"}}"#.to_vec(),
        };
        let url = build_url(&base(), "/x", None).unwrap();
        let err = error_from_response(&Method::PUT, &url, &resp);
        let d = err.details().unwrap();
        assert!(matches!(err, AzureError::Invalid(_)));
        assert_eq!(d.code, "InvalidParameter");
        assert_eq!(d.message, "bad scanInterval");
        assert_eq!(d.target.as_deref(), Some("properties.environmentData"));
        assert_eq!(d.request_id.as_deref(), Some("rid"));
        assert_eq!(d.correlation_id.as_deref(), Some("cid"));
    }

    #[test]
    fn non_json_error_body_is_quoted() {
        let resp = ArmResponse {
            status: 502,
            headers: HeaderMap::new(),
            body: b"<html>Bad Gateway</html>".to_vec(),
        };
        let url = build_url(&base(), "/x", None).unwrap();
        let err = error_from_response(&Method::GET, &url, &resp);
        assert!(matches!(err, AzureError::Transient(_)));
        assert!(err.to_string().contains("Bad Gateway"));
    }
}
