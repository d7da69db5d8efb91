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
use rustls_pki_types::{
    AlgorithmIdentifier, CertificateDer, InvalidSignature, PrivateKeyDer, PrivatePkcs8KeyDer,
    SignatureVerificationAlgorithm, UnixTime, alg_id,
};
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

/// The crypto provider of the plugin's TLS server. ring, not aws-lc-rs: aws-lc seeds its
/// random generator with CPU jitter entropy, about 40 ms of computation at the first key
/// generation, which would triple the plugin's start-up time. ring lacks only P-521
/// verification, which [`P521_ALGORITHMS`] adds.
pub(crate) fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// ECDSA P-521 with SHA-512, the signature go-plugin's client certificates make.
#[derive(Debug)]
struct EcdsaP521Sha512;

impl SignatureVerificationAlgorithm for EcdsaP521Sha512 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use p521::ecdsa::signature::Verifier as _;
        let key =
            p521::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
        let signature =
            p521::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
        key.verify(message, &signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P521
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA512
    }
}

static P521: &dyn SignatureVerificationAlgorithm = &EcdsaP521Sha512;

/// The P-521 scheme the ring provider does not verify.
static P521_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[P521],
    mapping: &[(SignatureScheme::ECDSA_NISTP521_SHA512, &[P521])],
};

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
        rustls::crypto::verify_tls12_signature(message, cert, dss, self.algorithms_for(dss))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, self.algorithms_for(dss))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        let mut schemes = self.algorithms.supported_schemes();
        schemes.extend(P521_ALGORITHMS.supported_schemes());
        schemes
    }
}

impl PinnedClientCert {
    fn algorithms_for(&self, dss: &DigitallySignedStruct) -> &WebPkiSupportedAlgorithms {
        if dss.scheme == SignatureScheme::ECDSA_NISTP521_SHA512 {
            &P521_ALGORITHMS
        } else {
            &self.algorithms
        }
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
    fn verifies_p521_signatures_and_rejects_forgeries() {
        use p521::ecdsa::signature::Signer as _;
        let signing =
            p521::ecdsa::SigningKey::from_slice(&[1u8; 66]).unwrap_or_else(|e| panic!("{e}"));
        let public = p521::ecdsa::VerifyingKey::from(&signing)
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        let signature: p521::ecdsa::Signature = signing.sign(b"handshake transcript");
        let der = signature.to_der();
        let alg = EcdsaP521Sha512;
        assert!(
            alg.verify_signature(&public, b"handshake transcript", der.as_bytes())
                .is_ok()
        );
        assert!(
            alg.verify_signature(&public, b"another transcript", der.as_bytes())
                .is_err()
        );
        assert!(
            alg.verify_signature(&public, b"handshake transcript", b"not der")
                .is_err()
        );
        assert!(
            alg.verify_signature(b"not a point", b"handshake transcript", der.as_bytes())
                .is_err()
        );
    }

    #[test]
    fn rejects_a_malformed_client_certificate() {
        assert!(server_tls("not a certificate").is_err());
    }
}
