//! A small client for the AWS emulator's Query APIs (IAM and STS) and JSON APIs
//! (Organizations), which is how the emulated Defender service looks at the AWS side of a
//! connector. Plain HTTP on loopback: the AWS emulator needs no signature, but it picks the
//! service from the credential scope of the `Authorization` header, so one is sent. A client
//! scoped to an account ([`AwsClient::in_account`]) acts in that account, as Defender does in a
//! member account of an organization.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// One call may take this long, connection included.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Access key the emulator presents; the AWS emulator accepts any and maps it to its default
/// account.
const ACCESS_KEY: &str = "AKIAARMEMULATORHEALTH";

/// Why an AWS call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AwsError {
    /// No answer: connection refused, timeout, malformed endpoint.
    Unreachable(String),
    /// An AWS error response.
    Service {
        status: u16,
        code: String,
        message: String,
    },
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AwsError::Unreachable(why) => write!(f, "the AWS endpoint did not answer: {why}"),
            AwsError::Service {
                status,
                code,
                message,
            } => write!(f, "AWS answered {status} {code}: {message}"),
        }
    }
}

/// A role as IAM describes it.
#[derive(Debug, Clone)]
pub(crate) struct Role {
    /// The trust policy, decoded; `Null` when IAM returned something that is not JSON.
    pub(crate) trust_policy: Value,
}

/// Header the AWS emulator (moto) reads to act in another account than the access key's.
const ACCOUNT_HEADER: &str = "x-moto-account-id";

/// Where the AWS emulator listens: `http://127.0.0.1:PORT`, and the account calls act in.
#[derive(Debug, Clone)]
pub(crate) struct AwsClient {
    authority: String,
    /// `None`: the access key's (the AWS emulator's default) account.
    account: Option<String>,
}

/// Checks an `--aws-endpoint` value: `http://host:port` with an optional trailing slash.
pub(crate) fn parse_endpoint(url: &str) -> Result<String, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        format!("'{url}' must start with http:// (the AWS emulator serves plain HTTP on loopback)")
    })?;
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') || !authority.contains(':') {
        return Err(format!("'{url}' must be http://HOST:PORT"));
    }
    Ok(authority.to_string())
}

/// The content type of query-protocol calls (IAM, STS, EC2, Organizations' form API).
const FORM: (&str, Option<&str>) = ("application/x-www-form-urlencoded", None);

impl AwsClient {
    /// A client for `endpoint` (see [`parse_endpoint`]).
    pub(crate) fn new(endpoint: &str) -> Result<Self, String> {
        Ok(Self {
            authority: parse_endpoint(endpoint)?,
            account: None,
        })
    }

    /// The same endpoint, acting in `account`.
    pub(crate) fn in_account(&self, account: &str) -> Self {
        Self {
            authority: self.authority.clone(),
            account: Some(account.to_string()),
        }
    }

    /// Sends one Query-protocol action and returns the XML body of a 2xx answer.
    pub(crate) async fn call(
        &self,
        service: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<String, AwsError> {
        self.call_in(service, "us-east-1", action, params).await
    }

    /// [`Self::call`] in `region` (the AWS emulator keeps regional services apart by the
    /// credential scope's region).
    pub(crate) async fn call_in(
        &self,
        service: &str,
        region: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<String, AwsError> {
        let version = match service {
            "sts" => "2011-06-15",
            "ec2" => "2016-11-15",
            _ => "2010-05-08",
        };
        // The serializer is not Send, so it must be gone before the first await.
        let body = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("Action", action)
                .append_pair("Version", version);
            for (k, v) in params {
                form.append_pair(k, v);
            }
            form.finish()
        };
        let fut = self.send(service, region, hyper::Method::POST, FORM, body);
        Self::answer(fut).await
    }

    /// A REST `GET /` of `service` (S3's ListBuckets), returning the XML body of a 2xx answer.
    pub(crate) async fn rest_get_root(&self, service: &str) -> Result<String, AwsError> {
        Self::answer(self.send(
            service,
            "us-east-1",
            hyper::Method::GET,
            FORM,
            String::new(),
        ))
        .await
    }

    async fn answer(
        fut: impl std::future::Future<Output = Result<(u16, String), AwsError>>,
    ) -> Result<String, AwsError> {
        let (status, text) = tokio::time::timeout(CALL_TIMEOUT, fut)
            .await
            .map_err(|_| AwsError::Unreachable(format!("no answer within {CALL_TIMEOUT:?}")))??;
        if (200..300).contains(&status) {
            return Ok(text);
        }
        Err(AwsError::Service {
            status,
            code: xml_values(&text, "Code")
                .into_iter()
                .next()
                .unwrap_or_default(),
            message: xml_values(&text, "Message")
                .into_iter()
                .next()
                .unwrap_or_default(),
        })
    }

    /// Sends one JSON-protocol action (`X-Amz-Target: {target_prefix}.{action}`) and returns
    /// the parsed body of a 2xx answer.
    pub(crate) async fn call_json(
        &self,
        service: &str,
        target: &str,
        request: &Value,
    ) -> Result<Value, AwsError> {
        let fut = self.send(
            service,
            "us-east-1",
            hyper::Method::POST,
            ("application/x-amz-json-1.1", Some(target)),
            request.to_string(),
        );
        let (status, text) = tokio::time::timeout(CALL_TIMEOUT, fut)
            .await
            .map_err(|_| AwsError::Unreachable(format!("no answer within {CALL_TIMEOUT:?}")))??;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let text_of = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default();
        Err(AwsError::Service {
            status,
            // JSON errors name the type, sometimes prefixed with a namespace and `#`.
            code: text_of("__type")
                .rsplit('#')
                .next()
                .unwrap_or_default()
                .to_string(),
            message: if text_of("message").is_empty() {
                text_of("Message").to_string()
            } else {
                text_of("message").to_string()
            },
        })
    }

    async fn send(
        &self,
        service: &str,
        region: &str,
        method: hyper::Method,
        (content_type, target): (&str, Option<&str>),
        body: String,
    ) -> Result<(u16, String), AwsError> {
        let unreachable = |e: &dyn std::fmt::Display| AwsError::Unreachable(e.to_string());
        let tcp = tokio::net::TcpStream::connect(&self.authority)
            .await
            .map_err(|e| unreachable(&e))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| unreachable(&e))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0"
        );
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri("/")
            .header("Host", &self.authority)
            .header("Authorization", auth)
            .header("Content-Type", content_type);
        if let Some(target) = target {
            builder = builder.header("X-Amz-Target", target);
        }
        if let Some(account) = &self.account {
            builder = builder.header(ACCOUNT_HEADER, account);
        }
        let req = builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| unreachable(&e))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| unreachable(&e))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| unreachable(&e))?
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// `GetRole`; `Ok(None)` when IAM answers `NoSuchEntity`.
    pub(crate) async fn get_role(&self, name: &str) -> Result<Option<Role>, AwsError> {
        match self.call("iam", "GetRole", &[("RoleName", name)]).await {
            Ok(xml) => {
                let raw = xml_values(&xml, "AssumeRolePolicyDocument")
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                // IAM returns policy documents URL-encoded.
                let decoded = percent_encoding::percent_decode_str(&raw)
                    .decode_utf8_lossy()
                    .into_owned();
                Ok(Some(Role {
                    trust_policy: serde_json::from_str(&decoded).unwrap_or(Value::Null),
                }))
            }
            Err(AwsError::Service { code, .. }) if code == "NoSuchEntity" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The client ids (audiences) of an OIDC provider; `Ok(None)` when it does not exist.
    pub(crate) async fn oidc_client_ids(&self, arn: &str) -> Result<Option<Vec<String>>, AwsError> {
        match self
            .call(
                "iam",
                "GetOpenIDConnectProvider",
                &[("OpenIDConnectProviderArn", arn)],
            )
            .await
        {
            Ok(xml) => {
                let list = xml
                    .split_once("<ClientIDList>")
                    .and_then(|(_, rest)| rest.split_once("</ClientIDList>"))
                    .map(|(inner, _)| inner.to_string())
                    .unwrap_or_default();
                Ok(Some(xml_values(&list, "member")))
            }
            Err(AwsError::Service { code, .. }) if code == "NoSuchEntity" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `AssumeRoleWithWebIdentity`, exactly as Defender calls it; `Ok` when STS hands out
    /// credentials (which are discarded).
    pub(crate) async fn assume_role_with_web_identity(
        &self,
        role_arn: &str,
        session_name: &str,
        token: &str,
    ) -> Result<(), AwsError> {
        self.call(
            "sts",
            "AssumeRoleWithWebIdentity",
            &[
                ("RoleArn", role_arn),
                ("RoleSessionName", session_name),
                ("WebIdentityToken", token),
                ("DurationSeconds", "900"),
            ],
        )
        .await
        .map(|_| ())
    }
}

/// The text of every `<tag>...</tag>` element, in document order, XML entities decoded.
pub(crate) fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(unescape(&after[..end]));
        rest = &after[end + close.len()..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_values_are_extracted_in_order() {
        let xml = "<A><Code>NoSuchEntity</Code><Message>a &amp; b</Message><Code>x</Code></A>";
        assert_eq!(xml_values(xml, "Code"), ["NoSuchEntity", "x"]);
        assert_eq!(xml_values(xml, "Message"), ["a & b"]);
        assert!(xml_values("<Code>open", "Code").is_empty());
    }

    #[test]
    fn endpoints_must_be_plain_http_host_and_port() {
        assert_eq!(
            parse_endpoint("http://127.0.0.1:5000/").as_deref(),
            Ok("127.0.0.1:5000")
        );
        assert!(parse_endpoint("https://127.0.0.1:5000").is_err());
        assert!(parse_endpoint("http://127.0.0.1").is_err());
        assert!(parse_endpoint("http://127.0.0.1:5000/x").is_err());
    }
}
