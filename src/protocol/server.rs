//! Serving: bind, announce the handshake line, accept (TLS) connections and
//! run the gRPC services until the host calls the controller's Shutdown.

use std::io::Write;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt as _;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_rustls::server::TlsStream;
use tonic::transport::Server;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use super::error::ProtocolError;
use super::handshake::{self, HandshakeEnv};
use super::logging;
use super::pb::plugin as gp;
use super::pb::tfplugin6::provider_server::ProviderServer;
use super::provider::Provider;
use super::registry::Registry;
use super::service::ProviderService;
use super::tls::{self, ServerTls};

/// Terraform sends whole states and configurations in one message.
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;
/// Bound on how long in-flight calls may delay exit after Shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Runs the provider as a Terraform plugin: reads the environment, performs
/// the go-plugin handshake on stdout and serves until Terraform shuts it
/// down. Installs the JSON logger. Returns the process exit code.
pub async fn serve<P: Provider>(provider: P) -> ExitCode {
    logging::init(&format!("provider.{}", binary_name()));
    ignore_interrupts();
    match serve_with(provider, HandshakeEnv::from_env(), std::io::stdout()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Name of the running binary without the `_vX.Y.Z` suffix registries add.
fn binary_name() -> String {
    let arg0 = std::env::args().next().unwrap_or_default();
    let file = std::path::Path::new(&arg0)
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or("provider");
    file.split("_v").next().unwrap_or(file).to_owned()
}

/// Terraform forwards Ctrl-C through StopProvider and shuts plugins down
/// itself; like go-plugin plugins, ignore SIGINT so the terminal's signal to
/// the whole process group does not kill us mid-apply.
fn ignore_interrupts() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut sigint) = signal(SignalKind::interrupt()) {
            tokio::spawn(async move {
                let mut count = 0_u64;
                while sigint.recv().await.is_some() {
                    count += 1;
                    tracing::trace!(count, "plugin received interrupt signal, ignoring");
                }
            });
        }
    }
}

/// [`serve`] with the environment and the handshake output supplied by the
/// caller (tests run it in-process). Returns after Shutdown.
pub async fn serve_with<P: Provider>(
    provider: P,
    env: HandshakeEnv,
    mut out: impl Write + Send,
) -> Result<(), ProtocolError> {
    handshake::check(&env)?;
    let (min_port, max_port) = handshake::port_range(&env)?;
    let listener = bind(min_port, max_port).await?;
    let addr = listener.local_addr()?;
    let tls = env
        .client_cert
        .as_deref()
        .map(tls::server_tls)
        .transpose()?;
    let cert_der = tls.as_ref().map(|t| t.cert_der.clone());

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (health, health_service) = tonic_health::server::health_reporter();
    // go-plugin hosts probe the health service under the name "plugin".
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let registry = Arc::new(Registry::new(provider));
    let provider_service = ProviderServer::new(ProviderService::new(registry))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let router = Server::builder()
        .add_service(health_service)
        .add_service(provider_service)
        .add_service(gp::grpc_controller_server::GrpcControllerServer::new(
            Controller {
                shutdown: shutdown_tx,
            },
        ))
        .add_service(gp::grpc_stdio_server::GrpcStdioServer::new(Stdio {
            shutdown: shutdown_rx.clone(),
        }));

    let incoming = accept_loop(listener, tls, shutdown_rx.clone());
    out.write_all(handshake::handshake_line(addr, cert_der.as_deref()).as_bytes())?;
    out.flush()?;
    tracing::debug!(%addr, tls = cert_der.is_some(), "plugin listening");

    let signal = wait_for_shutdown(shutdown_rx.clone());
    let server = router.serve_with_incoming_shutdown(incoming, signal);
    let grace = async {
        wait_for_shutdown(shutdown_rx).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result?,
        () = grace => tracing::warn!("calls still running after shutdown grace period; exiting anyway"),
    }
    tracing::debug!("plugin server stopped");
    Ok(())
}

async fn bind(min_port: u16, max_port: u16) -> Result<TcpListener, ProtocolError> {
    for port in min_port..=max_port {
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
            return Ok(listener);
        }
    }
    Err(ProtocolError::Handshake(format!(
        "couldn't bind a plugin TCP listener on 127.0.0.1 ports {min_port}-{max_port}"
    )))
}

async fn wait_for_shutdown(mut rx: watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens at shutdown too.
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Accepts connections until shutdown; TLS handshakes run in their own tasks
/// so that one slow or hostile client cannot hold up the others.
fn accept_loop(
    listener: TcpListener,
    tls: Option<ServerTls>,
    shutdown: watch::Receiver<bool>,
) -> impl futures::Stream<Item = Result<Conn, std::io::Error>> {
    let (tx, rx) = mpsc::channel::<Conn>(16);
    let acceptor = tls.map(|t| t.acceptor);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = wait_for_shutdown(shutdown.clone()) => break,
            };
            let (tcp, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            // Without it, small gRPC frames wait for delayed ACKs (Nagle): a plan of
            // many resources becomes several times slower.
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::warn!(error = %e, "could not set TCP_NODELAY");
            }
            let tx = tx.clone();
            match acceptor.clone() {
                None => {
                    let _ = tx.send(Conn::Plain(tcp)).await;
                }
                Some(acceptor) => {
                    tokio::spawn(async move {
                        match acceptor.accept(tcp).await {
                            Ok(stream) => {
                                let _ = tx.send(Conn::Tls(Box::new(stream))).await;
                            }
                            // A host closing a spare connection is routine; anything else
                            // (such as a certificate mismatch) deserves attention.
                            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                                tracing::debug!(%peer, "connection closed before TLS handshake");
                            }
                            Err(e) => {
                                tracing::warn!(%peer, error = %e, "TLS handshake with host failed")
                            }
                        }
                    });
                }
            }
        }
    });
    futures::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|c| (Ok(c), rx)) },
    )
}

/// An accepted connection, plain or TLS.
enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// go-plugin's controller: Shutdown stops the server gracefully.
struct Controller {
    shutdown: watch::Sender<bool>,
}

#[tonic::async_trait]
impl gp::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _request: Request<gp::Empty>) -> Result<Response<gp::Empty>, Status> {
        tracing::debug!("host requested shutdown");
        self.shutdown.send_replace(true);
        Ok(Response::new(gp::Empty {}))
    }
}

/// go-plugin's stdio service. Nothing is forwarded: logs go to stderr
/// directly. The stream stays open until shutdown so the host does not
/// reconnect.
struct Stdio {
    shutdown: watch::Receiver<bool>,
}

type StdioStream =
    Pin<Box<dyn futures::Stream<Item = Result<gp::StdioData, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl gp::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        let shutdown = self.shutdown.clone();
        let stream = futures::stream::once(wait_for_shutdown(shutdown))
            .filter_map(|()| async { None::<Result<gp::StdioData, Status>> });
        Ok(Response::new(Box::pin(stream)))
    }
}
