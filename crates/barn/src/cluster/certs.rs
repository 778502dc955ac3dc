//! `runi barn certs`: a development CA and certificates signed by it for
//! each node and for a client (rcgen). A node's certificate may serve and
//! connect, since a node is both a server and a client of its peers; the
//! client's may only connect, which is what keeps it off the peer service
//! (`caller.rs`). For development and tests: a production cluster uses its
//! own CA.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::error::BarnError;

/// One certificate and its private key, in PEM.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    /// A file stem: `ca`, `node-1`, `client`.
    pub name: String,
    pub cert_pem: String,
    pub key_pem: String,
}

fn cert_error(e: rcgen::Error) -> BarnError {
    BarnError::Internal(format!("cannot make a certificate: {e}"))
}

/// A CA, then `node-1` … `node-{nodes}` and `client`, each valid for
/// `hosts` (names or IP addresses).
pub fn development_certs(nodes: u64, hosts: &[String]) -> Result<Vec<IssuedCert>, BarnError> {
    let ca_key = KeyPair::generate().map_err(cert_error)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(cert_error)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "runink barn development CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(cert_error)?;
    let mut issued = vec![IssuedCert {
        name: "ca".into(),
        cert_pem: ca_cert.pem(),
        key_pem: ca_key.serialize_pem(),
    }];
    let issuer = Issuer::new(ca_params, ca_key);
    let names = (1..=nodes)
        .map(|n| format!("node-{n}"))
        .chain(std::iter::once("client".to_owned()));
    for name in names {
        let key = KeyPair::generate().map_err(cert_error)?;
        let mut params = CertificateParams::new(hosts.to_vec()).map_err(cert_error)?;
        params
            .distinguished_name
            .push(DnType::CommonName, format!("runink barn {name}"));
        params.extended_key_usages = if name == "client" {
            vec![ExtendedKeyUsagePurpose::ClientAuth]
        } else {
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ]
        };
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = params.signed_by(&key, &issuer).map_err(cert_error)?;
        issued.push(IssuedCert {
            name,
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        });
    }
    Ok(issued)
}
