//! go-plugin AutoMTLS: a throwaway self-signed server certificate, and a
//! server that accepts exactly the host's certificate and nothing else.
//!
//! The host's certificate is pinned by its DER bytes instead of being
//! path-validated: go-plugin's certificates are self-signed CAs used as leaf
//! certificates, which webpki rightly refuses as end entities. Possession of
//! the matching private key is still proven by the handshake signature,
//! which is checked with the crypto provider.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use tokio_rustls::TlsAcceptor;

use super::error::ProtocolError;

/// The TLS side of the server: the acceptor and the certificate to announce.
pub(crate) struct ServerTls {
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) cert_der: Vec<u8>,
}

fn tls_err(e: impl std::fmt::Display) -> ProtocolError {
    ProtocolError::Tls(e.to_string())
}

/// The crypto provider used on both sides; aws-lc-rs also verifies the P-521
/// signatures go-plugin's client certificates make.
pub(crate) fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A self-signed ECDSA P-256 certificate for `localhost`, shaped like
/// go-plugin's (CA flag, server and client auth), with its PKCS#8 key.
pub(crate) fn self_signed_cert(
    organization: &str,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), ProtocolError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(tls_err)?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).map_err(tls_err)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(DnType::OrganizationName, organization);
    // Go's verifier accepts a self-signed root as leaf only when it may sign.
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let cert = params.self_signed(&key).map_err(tls_err)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((cert.der().clone(), key_der))
}

/// Builds the AutoMTLS server for the host certificate `client_cert_pem`.
pub(crate) fn server_tls(client_cert_pem: &str) -> Result<ServerTls, ProtocolError> {
    let client_cert = CertificateDer::from_pem_slice(client_cert_pem.as_bytes())
        .map_err(|e| tls_err(format!("PLUGIN_CLIENT_CERT is not a PEM certificate: {e}")))?;
    let (cert, key) = self_signed_cert("terraform-provider")?;
    let provider = crypto_provider();
    let verifier = PinnedClientCert {
        pinned: client_cert.to_vec(),
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(vec![cert.clone()], key)
        .map_err(tls_err)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(ServerTls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        cert_der: cert.to_vec(),
    })
}

/// Accepts only the one client certificate Terraform announced.
#[derive(Debug)]
struct PinnedClientCert {
    pinned: Vec<u8>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.pinned.as_slice() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_exactly_the_announced_certificate() {
        let (cert, _) = self_signed_cert("test").unwrap_or_else(|e| panic!("{e}"));
        let (other, _) = self_signed_cert("test").unwrap_or_else(|e| panic!("{e}"));
        let verifier = PinnedClientCert {
            pinned: cert.to_vec(),
            algorithms: crypto_provider().signature_verification_algorithms,
        };
        assert!(
            verifier
                .verify_client_cert(&cert, &[], UnixTime::now())
                .is_ok()
        );
        assert!(
            verifier
                .verify_client_cert(&other, &[], UnixTime::now())
                .is_err()
        );
        assert!(verifier.client_auth_mandatory());
        assert!(
            verifier
                .supported_verify_schemes()
                .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
        );
    }

    #[test]
    fn rejects_a_malformed_client_certificate() {
        assert!(server_tls("not a certificate").is_err());
    }
}
