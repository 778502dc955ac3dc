//! Certificates for mutual TLS between nodes and with clients (rustls on
//! ring). Every party presents a certificate signed by the cluster's CA and
//! checks the other's against the same CA; nothing else is trusted.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::crypto::{CryptoProvider, ring};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

use super::options::TlsFiles;
use crate::error::BarnError;

/// The certificates of one party, read and checked.
#[derive(Debug, Clone)]
pub(crate) struct TlsMaterial {
    ca_pem: Vec<u8>,
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
    roots: Arc<RootCertStore>,
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

fn tls_error(file: &Path, reason: impl std::fmt::Display) -> BarnError {
    BarnError::Tls {
        file: file.to_owned(),
        reason: reason.to_string(),
    }
}

/// A file named on the command line that is not there is the user's to
/// fix (a wrong path); another failure to read it is the machine's.
fn read(file: &Path) -> Result<Vec<u8>, BarnError> {
    std::fs::read(file).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            return tls_error(file, "no such file");
        }
        BarnError::Io {
            action: "read the certificate file",
            path: file.to_owned(),
            source,
        }
    })
}

fn certificates(file: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, BarnError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error(file, e))?;
    if certs.is_empty() {
        return Err(tls_error(file, "no PEM certificate in it"));
    }
    Ok(certs)
}

impl TlsMaterial {
    pub(crate) fn load(files: &TlsFiles) -> Result<Self, BarnError> {
        let ca_pem = read(&files.ca)?;
        let cert_pem = read(&files.cert)?;
        let key_pem = read(&files.key)?;
        let mut roots = RootCertStore::empty();
        for ca in certificates(&files.ca, &ca_pem)? {
            roots.add(ca).map_err(|e| tls_error(&files.ca, e))?;
        }
        let chain = certificates(&files.cert, &cert_pem)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| tls_error(&files.key, e))?;
        let material = Self {
            ca_pem,
            cert_pem,
            key_pem,
            roots: Arc::new(roots),
            chain,
            key: Arc::new(key),
        };
        // Builds both configurations once, so a key that does not match its
        // certificate is refused at start, not at the first connection.
        material.server_config(&files.cert)?;
        material.client_config(&files.cert)?;
        Ok(material)
    }

    /// The server side: requires a client certificate signed by the CA.
    pub(crate) fn server_config(&self, cert_file: &Path) -> Result<Arc<ServerConfig>, BarnError> {
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::clone(&self.roots), provider())
                .build()
                .map_err(|e| tls_error(cert_file, e))?;
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error(cert_file, e))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| tls_error(cert_file, e))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// A REST client's side: trusts only the CA, presents its certificate.
    pub(crate) fn client_config(&self, cert_file: &Path) -> Result<Arc<ClientConfig>, BarnError> {
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error(cert_file, e))?
            .with_root_certificates(Arc::clone(&self.roots))
            .with_client_auth_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| tls_error(cert_file, e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// A peer's gRPC side, for tonic.
    pub(crate) fn peer_config(&self) -> ClientTlsConfig {
        ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca_pem))
            .identity(Identity::from_pem(&self.cert_pem, &self.key_pem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::development_certs;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write a test file");
        path
    }

    #[test]
    fn development_certificates_load_and_a_foreign_key_is_refused_by_name() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let hosts = ["localhost".to_owned(), "127.0.0.1".to_owned()];
        let issued = development_certs(2, &hosts).expect("certificates");
        let names: Vec<&str> = issued.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["ca", "node-1", "node-2", "client"]);
        let ca = write(dir.path(), "ca.pem", &issued[0].cert_pem);
        let cert = write(dir.path(), "node-1.pem", &issued[1].cert_pem);
        let key = write(dir.path(), "node-1-key.pem", &issued[1].key_pem);
        let other_key = write(dir.path(), "node-2-key.pem", &issued[2].key_pem);
        let good = TlsFiles {
            ca: ca.clone(),
            cert: cert.clone(),
            key,
        };
        assert!(TlsMaterial::load(&good).is_ok());

        let mismatched = TlsFiles {
            ca: ca.clone(),
            cert: cert.clone(),
            key: other_key,
        };
        match TlsMaterial::load(&mismatched) {
            Err(BarnError::Tls { file, .. }) => assert_eq!(file, cert),
            other => panic!("expected a TLS error naming the certificate, got {other:?}"),
        }
        let not_pem = write(dir.path(), "junk.pem", "not a certificate");
        let junk = TlsFiles {
            ca: not_pem.clone(),
            cert,
            key: ca,
        };
        let error = TlsMaterial::load(&junk).expect_err("junk is refused");
        assert!(error.to_string().contains("junk.pem"), "{error}");
    }
}
