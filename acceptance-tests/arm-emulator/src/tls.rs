//! A throwaway certificate authority and a `localhost`/`127.0.0.1` leaf, generated per run.
//!
//! Azure SDK credentials refuse plain http, so the emulator must speak TLS; clients trust the
//! CA written to `ca.pem` instead of a public root.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::errors::EmulatorError;

/// A generated CA and the leaf it signed.
pub struct GeneratedTls {
    /// PEM of the CA certificate, for clients to trust.
    pub ca_pem: String,
    /// PEM of the CA's private key, kept only so a restarted emulator can sign a new leaf that
    /// clients holding the old `ca.pem` still trust.
    pub(crate) ca_key_pem: String,
    leaf_der: CertificateDer<'static>,
    leaf_key: Vec<u8>,
}

impl std::fmt::Debug for GeneratedTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedTls").finish_non_exhaustive()
    }
}

/// Creates a fresh CA and a server certificate for `localhost` and `127.0.0.1`.
pub fn generate() -> Result<GeneratedTls, EmulatorError> {
    generate_with(None)
}

/// Like [`generate`], reusing the CA key of a previous run when given: the CA certificate is
/// issued again with the same name and key, so certificates it signs verify against the old
/// one.
pub(crate) fn generate_with(ca_key_pem: Option<&str>) -> Result<GeneratedTls, EmulatorError> {
    let ca_key = match ca_key_pem {
        Some(pem) => KeyPair::from_pem(pem)?,
        None => KeyPair::generate()?,
    };
    let ca_key_pem = ca_key.serialize_pem();
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "arm-emulator throwaway CA");
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate()?;
    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "localhost");
    leaf_params.distinguished_name = dn;
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params.signed_by(&leaf_key, &issuer)?;

    Ok(GeneratedTls {
        ca_pem: ca_cert.pem(),
        ca_key_pem,
        leaf_der: leaf.der().clone(),
        leaf_key: leaf_key.serialize_der(),
    })
}

impl GeneratedTls {
    /// A rustls server configuration serving the leaf over HTTP/1.1.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, EmulatorError> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.clone()));
        let mut cfg =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()?
                .with_no_client_auth()
                .with_single_cert(vec![self.leaf_der.clone()], key)?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(cfg))
    }
}
