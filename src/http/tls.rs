//! HTTPS without a reverse proxy: `ledger serve --tls-cert FILE --tls-key FILE` loads a PEM
//! certificate chain and its private key into a rustls acceptor (the aws-lc-rs provider the
//! KurrentDB client already brings, TLS 1.2 and 1.3), and the accept loop (`serve.rs`) wraps every
//! connection in it. Console cookies are then always `Secure`, and the browser has the secure
//! context the in-page checks want.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

/// Loads `cert` (PEM: the server's certificate first, then any intermediates) and `key` (PEM:
/// PKCS#8, PKCS#1 or SEC1) into an acceptor; every problem names the file and what is wrong.
pub fn acceptor(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    use pki_types::pem::PemObject as _;
    let cert_pem = std::fs::read(cert).with_context(|| {
        format!(
            "无法读取证书 (cannot read the TLS certificate) {}",
            cert.display()
        )
    })?;
    let chain = pki_types::CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            anyhow::anyhow!(
                "证书文件有误 (the TLS certificate file {} is not valid PEM): {e}",
                cert.display()
            )
        })?;
    if chain.is_empty() {
        bail!(
            "证书文件中没有证书 (no CERTIFICATE block in {}): --tls-cert takes a PEM certificate chain",
            cert.display()
        );
    }
    let key_pem = std::fs::read(key).with_context(|| {
        format!(
            "无法读取私钥 (cannot read the TLS private key) {}",
            key.display()
        )
    })?;
    let private = pki_types::PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        anyhow::anyhow!(
            "私钥文件有误 (no private key in {}: {e}): --tls-key takes a PEM private key",
            key.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS")?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| {
            anyhow::anyhow!(
                "证书与私钥不匹配或无法使用 (the certificate {} and the key {} cannot be used together): {e}",
                cert.display(),
                key.display()
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
