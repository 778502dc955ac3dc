//! Who is calling a node, from the certificate it presented: a **node**
//! (its certificate may serve as well as connect: the TLS server usage in
//! its extended key usages, as every node certificate must have) or a
//! **client** (it may only connect). Only nodes may call the peer service
//! (Raft's RPCs and the calls nodes forward), so that a client's
//! certificate cannot send log entries or votes. Without TLS
//! (`--insecure`) every caller is taken as a node.

use x509_parser::prelude::{FromDer, X509Certificate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    Node,
    Client,
}

impl Caller {
    /// The caller that presented `cert` (DER), already verified against
    /// the CA by the TLS handshake; no certificate, or one that does not
    /// parse, is a client.
    pub(crate) fn of(cert: Option<&[u8]>) -> Self {
        let Some(der) = cert else {
            return Self::Client;
        };
        let Ok((_, parsed)) = X509Certificate::from_der(der) else {
            return Self::Client;
        };
        match parsed.extended_key_usage() {
            Ok(Some(usage)) if usage.value.server_auth => Self::Node,
            _ => Self::Client,
        }
    }
}

#[cfg(test)]
mod tests {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    use super::Caller;
    use crate::cluster::development_certs;

    #[test]
    fn node_certificates_are_nodes_and_the_client_certificate_is_a_client() {
        let certs = development_certs(2, &["localhost".to_owned()]).unwrap();
        let caller = |name: &str| {
            let cert = certs.iter().find(|c| c.name == name).unwrap();
            let der = CertificateDer::from_pem_slice(cert.cert_pem.as_bytes()).unwrap();
            Caller::of(Some(der.as_ref()))
        };
        assert_eq!(caller("node-1"), Caller::Node);
        assert_eq!(caller("node-2"), Caller::Node);
        assert_eq!(caller("client"), Caller::Client);
        assert_eq!(Caller::of(None), Caller::Client);
        assert_eq!(Caller::of(Some(b"not a certificate")), Caller::Client);
    }
}
