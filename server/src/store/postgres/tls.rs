//! TLS to PostgreSQL: the connection string's `sslmode`, `sslrootcert`, `sslcert` and
//! `sslkey`, read as libpq reads them, and the one place connections are opened with
//! them (the pool's and the listener's).
//!
//! The client's own parser knows only `disable`, `prefer` and `require`, and no files,
//! so [`TlsSettings::take`] takes these parameters out of the string before it is parsed
//! and the mode is handed to the client as the nearest one it knows; what the mode
//! checks is then up to the rustls verifier chosen here. TLS is rustls on ring (pure
//! Rust: no OpenSSL to link, no cmake to build aws-lc). This module reads the files when
//! a store opens, and must not be asked to connect before that.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use postgres::config::{Host, SslMode};
use postgres::{Client, Config, NoTls};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`; the default is `prefer`, as in libpq.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Plain connections only.
    Disable,
    /// TLS if the server offers it, else plain; the certificate is not checked.
    #[default]
    Prefer,
    /// TLS or nothing; encrypted, but the certificate is not checked (so a man in the
    /// middle goes unnoticed), unless a root file is given: then as `VerifyCa`, as libpq.
    Require,
    /// TLS with a certificate signed by a trusted root, whatever host name it names.
    VerifyCa,
    /// As `VerifyCa`, and the certificate must name the host connected to.
    VerifyFull,
}

impl Mode {
    fn parse(s: &str) -> Result<Mode, String> {
        Ok(match s {
            "disable" => Mode::Disable,
            "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            _ => {
                return Err(format!(
                    "sslmode {s:?} is not one of disable, prefer, require, verify-ca, verify-full"
                ))
            }
        })
    }

    /// The mode the client is told: the `verify-*` modes are `require` to it, and the
    /// verifier does the rest.
    fn client(self) -> SslMode {
        match self {
            Mode::Disable => SslMode::Disable,
            Mode::Prefer => SslMode::Prefer,
            Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
        }
    }
}

/// What a connection string says about TLS, before any file is read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: Mode,
    /// `sslrootcert`: the roots the `verify-*` modes trust; the system's when absent.
    pub roots: Roots,
    /// `sslcert` and `sslkey`: the certificate this node shows when the server asks for
    /// one (`cert` authentication in `pg_hba.conf`).
    pub identity: Option<Identity>,
}

/// Where the trusted roots come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Roots {
    /// No `sslrootcert`: the system's roots.
    #[default]
    Unset,
    /// `sslrootcert=system`, as libpq 16 spells the system's roots: it implies
    /// `verify-full`, and allows no weaker mode.
    System,
    /// `sslrootcert=FILE`: the PEM certificates in it, instead of the system's.
    File(PathBuf),
}

/// A client certificate (PEM, the node's own first, then any intermediates) and its
/// private key (PEM, PKCS#8, PKCS#1 or SEC1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsSettings {
    /// Takes `sslmode` and `sslrootcert` out of a connection string (a URL's query or a
    /// `key=value` list), returning the rest for the client's parser.
    pub fn take(s: &str) -> Result<(String, TlsSettings), String> {
        let (rest, taken) = if is_url(s) {
            take_from_url(s)?
        } else {
            take_from_key_values(s)?
        };
        let (mut mode, mut roots, mut cert, mut key) = (None, Roots::Unset, None, None);
        for (name, value) in taken {
            if value.is_empty() && name != Param::Mode {
                return Err(format!("{} names no file", name.name()));
            }
            match name {
                Param::Mode => mode = Some(Mode::parse(&value)?),
                Param::RootCert if value == "system" => roots = Roots::System,
                Param::RootCert => roots = Roots::File(PathBuf::from(value)),
                Param::Cert => cert = Some(PathBuf::from(value)),
                Param::Key => key = Some(PathBuf::from(value)),
            }
        }
        let mode = match (&roots, mode) {
            // The system's roots trust any public CA, so only the host name tells the
            // database apart from any other site with a certificate: libpq refuses the
            // weaker modes with them.
            (Roots::System, None | Some(Mode::VerifyFull)) => Mode::VerifyFull,
            (Roots::System, Some(weak)) => {
                return Err(format!(
                    "sslmode {weak} may not be used with sslrootcert=system (use verify-full)"
                ))
            }
            // libpq, for compatibility with its older versions, checks the certificate
            // in `require` when given a root file; a file given and silently not used
            // would be worse.
            (Roots::File(_), Some(Mode::Require)) => Mode::VerifyCa,
            (_, mode) => mode.unwrap_or_default(),
        };
        // libpq falls back to files in ~/.postgresql for a missing half; a server's
        // home is no place to look for its identity, so both are asked for.
        let identity = match (cert, key) {
            (Some(cert), Some(key)) => Some(Identity { cert, key }),
            (None, None) => None,
            (Some(_), None) => {
                return Err("sslcert needs sslkey, the file of its private key".into())
            }
            (None, Some(_)) => {
                return Err("sslkey needs sslcert, the file of its certificate".into())
            }
        };
        Ok((
            rest,
            TlsSettings {
                mode,
                roots,
                identity,
            },
        ))
    }

    /// Tells the client the mode it knows; checks that TLS is possible on every host.
    pub fn apply(&self, config: &mut Config) -> Result<(), String> {
        let unix = config
            .get_hosts()
            .iter()
            .any(|h| matches!(h, Host::Unix(_)));
        if unix && !matches!(self.mode, Mode::Disable | Mode::Prefer) {
            return Err(format!(
                "sslmode {} needs TCP hosts: a Unix socket has no TLS",
                self.mode
            ));
        }
        config.ssl_mode(self.mode.client());
        Ok(())
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Disable => "disable",
            Mode::Prefer => "prefer",
            Mode::Require => "require",
            Mode::VerifyCa => "verify-ca",
            Mode::VerifyFull => "verify-full",
        })
    }
}

/// The parameters this module reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Param {
    Mode,
    RootCert,
    Cert,
    Key,
}

const PARAMS: [(&str, Param); 4] = [
    ("sslmode", Param::Mode),
    ("sslrootcert", Param::RootCert),
    ("sslcert", Param::Cert),
    ("sslkey", Param::Key),
];

impl Param {
    fn name(self) -> &'static str {
        PARAMS
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("", |(name, _)| name)
    }
}

fn param(name: &str) -> Option<Param> {
    PARAMS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

type Taken = Vec<(Param, String)>;

/// `postgres://…?a=b&sslmode=x`: the query's parameters of ours taken out (their values
/// percent-decoded, as the client decodes the others).
fn take_from_url(s: &str) -> Result<(String, Taken), String> {
    let Some((base, query)) = s.split_once('?') else {
        return Ok((s.to_owned(), Vec::new()));
    };
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match param(name) {
            Some(k) => taken.push((k, percent_decode(value)?)),
            None => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, taken))
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| {
            let digit = |b: u8| (b as char).to_digit(16);
            Some(digit(*bytes.get(at)?)? * 16 + digit(*bytes.get(at + 1)?)?)
        };
        match (bytes[i], hex(i + 1)) {
            (b'%', Some(byte)) => {
                // Two hex digits are at most 255.
                out.push(byte as u8);
                i += 3;
            }
            (b'%', None) => return Err(format!("{s:?}: a % not followed by two hex digits")),
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} is not UTF-8 once decoded"))
}

/// `host=… sslmode=x`: read as the client reads it (values bare or in single quotes,
/// `\` escaping the next character), ours taken out, the rest written back quoted.
fn take_from_key_values(s: &str) -> Result<(String, Taken), String> {
    let mut chars = s.chars().peekable();
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut name = String::new();
        while let Some(c) = chars.next_if(|&c| !c.is_whitespace() && c != '=') {
            name.push(c);
        }
        if name.is_empty() {
            // The end, or a stray `=` the client's parser will name.
            if chars.peek().is_some() {
                return Ok((s.to_owned(), Vec::new()));
            }
            break;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next_if_eq(&'=').is_none() {
            // Malformed: left whole to the client's parser, which says what is wrong.
            return Ok((s.to_owned(), Vec::new()));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let quoted = chars.next_if_eq(&'\'').is_some();
        let mut value = String::new();
        let mut closed = !quoted;
        while let Some(c) = chars.next() {
            match c {
                '\\' => value.extend(chars.next()),
                '\'' if quoted => {
                    closed = true;
                    break;
                }
                c if c.is_whitespace() && !quoted => break,
                c => value.push(c),
            }
        }
        if !closed {
            return Ok((s.to_owned(), Vec::new()));
        }
        match param(&name) {
            Some(k) => taken.push((k, value)),
            None => kept.push(format!(
                "{name}='{}'",
                value.replace('\\', "\\\\").replace('\'', "\\'")
            )),
        }
    }
    Ok((kept.join(" "), taken))
}

/// Why TLS could not be set up from the settings.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("sslrootcert {}: {source}", path.display())]
    ReadRoot {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("sslrootcert {}: {why}", path.display())]
    BadRoot { path: PathBuf, why: String },
    #[error("no trusted root certificates in the system's store (give sslrootcert)")]
    NoSystemRoots,
    #[error("{which} {}: {source}", path.display())]
    ReadIdentity {
        which: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{which} {}: {why}", path.display())]
    BadIdentity {
        which: &'static str,
        path: PathBuf,
        why: String,
    },
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
}

/// How connections are opened: plain, or through rustls with the verifier the mode asks
/// for. Built once per store and cloned into the listener.
#[derive(Clone)]
pub enum Connector {
    Plain,
    Tls(MakeRustlsConnect),
}

impl Connector {
    /// Reads the root file (or the system's roots) if the mode checks certificates.
    pub fn new(settings: &TlsSettings, config: &Config) -> Result<Connector, TlsError> {
        let unix = config
            .get_hosts()
            .iter()
            .any(|h| matches!(h, Host::Unix(_)));
        // The client asks the connector for a host name even on a Unix socket, where
        // rustls has none to give and would fail: `prefer` stays plain there, as libpq
        // never uses TLS on a Unix socket (`apply` refused the stricter modes).
        if settings.mode == Mode::Disable || unix {
            return Ok(Connector::Plain);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match settings.mode {
            Mode::Disable | Mode::Prefer | Mode::Require => Arc::new(AnyCertificate {
                provider: provider.clone(),
            }),
            Mode::VerifyCa | Mode::VerifyFull => {
                let roots = match &settings.roots {
                    Roots::File(path) => roots_from(path)?,
                    Roots::Unset | Roots::System => system_roots()?,
                };
                let webpki =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| rustls::Error::General(e.to_string()))?;
                if settings.mode == Mode::VerifyFull {
                    webpki
                } else {
                    Arc::new(AnyName(webpki))
                }
            }
        };
        let tls = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let tls = match &settings.identity {
            None => tls.with_no_client_auth(),
            Some(identity) => {
                let (chain, key) = identity.read()?;
                // Checks that the key is one rustls can sign with and matches the
                // certificate, so a mismatched pair fails here and not in a handshake.
                tls.with_client_auth_cert(chain, key)
                    .map_err(|e| TlsError::BadIdentity {
                        which: "sslkey",
                        path: identity.key.clone(),
                        why: format!(
                            "cannot be used with sslcert {}: {e}",
                            identity.cert.display()
                        ),
                    })?
            }
        };
        Ok(Connector::Tls(MakeRustlsConnect::new(tls)))
    }

    pub fn connect(&self, config: &Config) -> Result<Client, postgres::Error> {
        match self {
            Connector::Plain => config.connect(NoTls),
            Connector::Tls(tls) => config.connect(tls.clone()),
        }
    }
}

fn roots_from(path: &Path) -> Result<RootCertStore, TlsError> {
    let pem = std::fs::read(path).map_err(|source| TlsError::ReadRoot {
        path: path.to_owned(),
        source,
    })?;
    let bad = |why: String| TlsError::BadRoot {
        path: path.to_owned(),
        why,
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| bad(format!("not PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| bad(format!("not a usable certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(bad("holds no PEM certificate".into()));
    }
    Ok(roots)
}

impl Identity {
    /// The certificate chain and the key, each checked to be there and readable PEM; the
    /// key also to be private to its owner, as libpq checks it.
    fn read(&self) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
        let read = |which, path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::ReadIdentity {
                which,
                path: path.to_owned(),
                source,
            })
        };
        let bad = |which, path: &Path, why: String| TlsError::BadIdentity {
            which,
            path: path.to_owned(),
            why,
        };
        let pem = read("sslcert", &self.cert)?;
        let chain = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad("sslcert", &self.cert, format!("not PEM: {e}")))?;
        if chain.is_empty() {
            return Err(bad(
                "sslcert",
                &self.cert,
                "holds no PEM certificate".into(),
            ));
        }
        key_is_private(&self.key).map_err(|why| bad("sslkey", &self.key, why))?;
        let pem = read("sslkey", &self.key)?;
        let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
            bad(
                "sslkey",
                &self.key,
                format!("holds no usable PEM private key: {e}"),
            )
        })?;
        Ok((chain, key))
    }
}

/// libpq's rule for a client key: a regular file that only its owner may read, or, when
/// root owns it, its group too (so a system-wide key can be shared through a group).
#[cfg(unix)]
fn key_is_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;

    let Ok(meta) = std::fs::metadata(path) else {
        // Missing or unreadable: reading it says which.
        return Ok(());
    };
    if !meta.is_file() {
        return Err("is not a regular file".into());
    }
    let open = if meta.uid() == 0 { 0o037 } else { 0o077 };
    if meta.mode() & open != 0 {
        return Err(format!(
            "has group or world access (mode {:o}); it must be u=rw (0600) or less, or \
             u=rw,g=r (0640) or less if root owns it",
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn key_is_private(_: &Path) -> Result<(), String> {
    Ok(())
}

/// The system's roots; those it cannot parse are skipped, as browsers do, unless none
/// is left.
fn system_roots() -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if roots.is_empty() {
        return Err(TlsError::NoSystemRoots);
    }
    Ok(roots)
}

/// `prefer` and `require`: any certificate is accepted, as libpq does in those modes.
/// The handshake's signatures are still checked, so the connection is encrypted to
/// whoever holds the key of the certificate shown, only not known to be the database.
#[derive(Debug)]
struct AnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
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
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `verify-ca`: the chain checked as in `verify-full`, a name mismatch forgiven. The
/// name is checked after the chain, so a name error means the chain was good.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
