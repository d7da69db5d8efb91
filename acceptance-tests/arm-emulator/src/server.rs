//! The HTTPS server: TLS accept loop, request reading, fault injection, routing to the Entra,
//! ARM and admin handlers, response headers and the request log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::config::Config;
use crate::http::{Outcome, Req, Resp};
use crate::jwt::SigningKey;
use crate::state::SharedWorld;

/// Largest request body accepted; ARM's own limit is 4 MiB for most APIs.
const MAX_BODY: usize = 8 * 1024 * 1024;
/// A client that does not finish the TLS handshake in this time is cut off.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// State shared by every connection.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    /// `https://127.0.0.1:PORT`, no trailing slash.
    pub(crate) url: String,
    pub(crate) signing_key: SigningKey,
    pub(crate) world: SharedWorld,
    /// Set with `--state-file`: the world is saved after every request.
    pub(crate) state_file: Option<crate::persist::StateFile>,
}

/// Returned by the service to make hyper close the connection without writing a response.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DropConnection {}

/// Accepts connections until `shutdown` flips to true.
pub(crate) async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => break,
        };
        let (tcp, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                eprintln!("arm-emulator: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    eprintln!("arm-emulator: TLS handshake with {peer} failed: {e}");
                    return;
                }
                Err(_) => return,
            };
            let service = service_fn(move |req| handle_and_save(shared.clone(), req));
            let conn = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(tls), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = shutdown.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
}

fn decode_path(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
}

/// Handles one request, then saves the world when `--state-file` asks for it: whatever a client
/// was told (or not told, on a dropped answer) has happened survives a restart.
async fn handle_and_save(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let result = handle(shared.clone(), req).await;
    if let Some(file) = &shared.state_file {
        file.save(&shared.world.lock());
    }
    result
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let started = Instant::now();
    crate::lro::settle_due(&mut shared.world.lock());
    let (parts, body) = req.into_parts();
    let path = decode_path(parts.uri.path());
    let query = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let r = crate::errors::ArmError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                "The request body is too large or could not be read.",
            )
            .into_resp();
            return Ok(finish(
                &shared,
                (&parts.method, &path, None),
                &parts.headers,
                r,
                false,
                started,
            ));
        }
    };
    let req = Req {
        method: parts.method,
        path,
        query,
        headers: parts.headers,
        body,
    };

    let lower = req.path.to_ascii_lowercase();
    if lower.starts_with(crate::admin::PREFIX) {
        if lower.starts_with(crate::security::health::ADMIN_PREFIX) && req.method == Method::GET {
            crate::security::members::sync(&shared).await;
            let resp = crate::security::health::serve_admin(&shared, &req).await;
            return Ok(render(&req.headers, resp));
        }
        let resp = crate::admin::route(&shared, &req);
        // Admin calls are left out of the request log so tests count only client traffic.
        return Ok(render(&req.headers, resp));
    }

    let fault = {
        let mut world = shared.world.lock();
        crate::faults::check(&mut world.faults, req.method.as_str(), &req.path)
            .or_else(|| world.throttle.check(req.method.as_str(), &req.path))
    };
    let api_version = req.query_param("api-version");
    let line = (&req.method, req.path.as_str(), api_version);
    let outcome: Outcome = match fault {
        Some(action) => {
            if action.delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(action.delay_ms)).await;
            }
            if action.drop {
                Outcome::Drop
            } else if let Some(rule) = action.respond {
                let entra = crate::token::route_matches(&req);
                let resp = crate::faults::response(&rule, entra);
                return Ok(finish(&shared, line, &req.headers, resp, true, started));
            } else if action.drop_after {
                // The request takes effect; only its answer is lost, as when a connection breaks
                // on the way back.
                let resp = dispatch(&shared, &req).await;
                shared.world.lock().log_dropped(
                    req.method.as_str(),
                    &req.path,
                    api_version,
                    resp.status.as_u16(),
                );
                eprintln!("{} {} processed, answer dropped", req.method, req.path);
                return Err(DropConnection);
            } else {
                dispatch(&shared, &req).await.into()
            }
        }
        None => dispatch(&shared, &req).await.into(),
    };
    match outcome {
        Outcome::Respond(resp) => Ok(finish(&shared, line, &req.headers, resp, false, started)),
        Outcome::Drop => {
            shared
                .world
                .lock()
                .log_dropped(req.method.as_str(), &req.path, api_version, 0);
            eprintln!("{} {} dropped", req.method, req.path);
            Err(DropConnection)
        }
    }
}

async fn dispatch(shared: &Shared, req: &Req) -> Resp {
    if let Some(r) = crate::token::route(shared, req) {
        return r;
    }
    crate::arm::route(shared, req).await
}

/// Method, path and api-version of a request, for the log.
type Line<'a> = (&'a hyper::Method, &'a str, Option<&'a str>);

fn finish(
    shared: &Shared,
    (method, path, api_version): Line<'_>,
    headers: &hyper::HeaderMap,
    resp: Resp,
    fault: bool,
    started: Instant,
) -> Response<Full<Bytes>> {
    let status = resp.status.as_u16();
    shared
        .world
        .lock()
        .log_request(method.as_str(), path, api_version, status, fault);
    // Method, path and status only: bodies, headers and query strings may carry secrets.
    eprintln!(
        "{method} {path} {status} {}ms{}",
        started.elapsed().as_millis(),
        if fault { " (injected)" } else { "" }
    );
    render(headers, resp)
}

fn render(request_headers: &hyper::HeaderMap, resp: Resp) -> Response<Full<Bytes>> {
    let correlation = request_headers
        .get("x-ms-correlation-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(crate::ids::random_guid);
    let body = resp
        .body
        .as_ref()
        .map(|b| Bytes::from(b.to_string()))
        .unwrap_or_default();
    let mut builder = Response::builder()
        .status(resp.status)
        .header("x-ms-request-id", crate::ids::random_guid())
        .header("x-ms-correlation-request-id", correlation)
        .header("Cache-Control", "no-cache");
    if let Some(id) = request_headers
        .get("x-ms-client-request-id")
        .and_then(|v| v.to_str().ok())
    {
        builder = builder.header("x-ms-client-request-id", id);
    }
    if resp.body.is_some() {
        builder = builder.header("Content-Type", "application/json; charset=utf-8");
    }
    for (k, v) in &resp.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder.body(Full::new(body)).unwrap_or_else(|_| {
        // Only reachable if a handler produced an invalid header value.
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// The `https://127.0.0.1:PORT` base URL for a bound address.
pub(crate) fn base_url(addr: SocketAddr) -> String {
    format!("https://{addr}")
}
