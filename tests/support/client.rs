//! Test-side host: starts the plugin server in-process with a handshake
//! environment, and connects to it with tonic over pinned mutual TLS, as
//! Terraform does.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    PKCS_ECDSA_P521_SHA512,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use terraform_provider_multicloud::protocol::handshake::MAGIC_COOKIE_VALUE;
use terraform_provider_multicloud::protocol::{HandshakeEnv, ProtocolError, Provider, serve_with};
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint};

/// Generated client code for the protocol, compiled from the same definitions.
#[allow(
    dead_code,
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic
)]
pub mod pb {
    /// tfplugin6.
    pub mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
    /// go-plugin services.
    pub mod plugin {
        tonic::include_proto!("plugin");
    }
}

/// A client certificate like the one Terraform generates (ECDSA P-521, self-signed CA).
pub struct ClientCert {
    /// PEM, as passed in `PLUGIN_CLIENT_CERT`.
    pub pem: String,
    der: CertificateDer<'static>,
    key: Vec<u8>,
}

impl ClientCert {
    /// A fresh certificate.
    pub fn generate() -> Self {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512).expect("test key generation");
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned()]).expect("test cert params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let cert = params.self_signed(&key).expect("test cert signing");
        ClientCert {
            pem: cert.pem(),
            der: cert.der().clone(),
            key: key.serialize_der(),
        }
    }
}

/// Collects what the server writes to "stdout".
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A plugin server running in this process.
pub struct Started {
    /// The handshake line, without the newline.
    pub line: String,
    /// The announced address.
    pub addr: SocketAddr,
    /// The announced server certificate (empty without TLS).
    pub server_cert: Vec<u8>,
    /// The serving task.
    pub task: JoinHandle<Result<(), ProtocolError>>,
}

/// The environment Terraform would set.
pub fn terraform_env(client_cert: Option<&ClientCert>) -> HandshakeEnv {
    HandshakeEnv {
        magic_cookie: Some(MAGIC_COOKIE_VALUE.to_owned()),
        protocol_versions: Some("5,6".to_owned()),
        client_cert: client_cert.map(|c| c.pem.clone()),
        ..Default::default()
    }
}

/// Starts `provider` and waits for the handshake line.
pub async fn start<P: Provider>(provider: P, env: HandshakeEnv) -> Started {
    let out = Captured::default();
    let task = tokio::spawn(serve_with(provider, env, out.clone()));
    let mut line = String::new();
    for _ in 0..500 {
        let text = String::from_utf8(out.0.lock().expect("capture lock").clone())
            .expect("UTF-8 handshake");
        if let Some(l) = text.strip_suffix('\n') {
            line = l.to_owned();
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let parts: Vec<&str> = line.split('|').collect();
    assert_eq!(parts.len(), 6, "handshake line {line:?}");
    assert_eq!(&parts[..3], &["1", "6", "tcp"]);
    assert_eq!(parts[4], "grpc");
    let addr = parts[3].parse().expect("handshake address");
    let server_cert = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(parts[5])
        .expect("base64 RawStd cert");
    Started {
        line,
        addr,
        server_cert,
        task,
    }
}

/// Accepts exactly the server certificate from the handshake line.
#[derive(Debug)]
struct PinnedServer {
    pinned: Vec<u8>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.pinned.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Connects over TLS, presenting `identity` (or no certificate at all).
pub async fn connect_tls(
    started: &Started,
    identity: Option<&ClientCert>,
) -> Result<Channel, tonic::transport::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = PinnedServer {
        pinned: started.server_cert.clone(),
        provider: provider.clone(),
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match identity {
        Some(c) => builder
            .with_client_auth_cert(
                vec![c.der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(c.key.clone())),
            )
            .expect("client identity"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let addr = started.addr;
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_uri| {
            let connector = connector.clone();
            async move {
                let tcp = tokio::net::TcpStream::connect(addr).await?;
                let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
                let tls = connector.connect(name, tcp).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
            }
        }))
        .await
}

/// Connects without TLS.
pub async fn connect_plain(started: &Started) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_shared(format!("http://{}", started.addr))?
        .connect()
        .await
}
