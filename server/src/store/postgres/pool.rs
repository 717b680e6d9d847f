//! A few PostgreSQL connections shared by the threads that call the store.
//!
//! The `postgres` client is blocking, like the `Store` trait, and each connection serves
//! one caller at a time, so a call takes a connection from the pool for its duration and
//! gives it back on drop. At most [`MAX_CONNECTIONS`] are open; a caller beyond that
//! waits for one to come back. A connection that broke (the server restarted, the
//! network failed) is dropped when it comes back, and the next caller opens a new one.
//!
//! Every connection runs with `synchronous_commit = on`, whatever the server's default:
//! a commit returns only once it is flushed to the server's disk, which is what makes
//! every `Store` write durable on return.
//!
//! Connections are opened through `tls.rs`, with the connection string's `sslmode`.
//!
//! Each connection keeps the statements the hot paths run prepared ([`Conn::prepared`]):
//! the client would otherwise prepare a statement again on every call, one more round
//! trip and one more parse and plan in PostgreSQL for every write.

use std::collections::HashMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use postgres::config::Host;
use postgres::error::SqlState;
use postgres::{Client, Statement};

use super::tls::{Connector, TlsSettings};
use crate::store::StoreError;

/// Connections open at most: enough for the rooms' writes, the readiness probe and the
/// admin API to go on side by side, few enough to leave a shared server room for other
/// nodes.
pub const MAX_CONNECTIONS: usize = 8;

/// How long opening a connection may take when the URL does not say
/// (`connect_timeout`), so an unreachable database fails the start instead of hanging.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A PostgreSQL connection string (`postgres://user:password@host:port/db` or
/// `host=… dbname=…`), checked when it is parsed, with libpq's `sslmode` and
/// `sslrootcert` (`tls.rs`). It shows (`Display`, `Debug`) without its password, so it
/// can be printed and logged.
#[derive(Clone)]
pub struct DatabaseUrl {
    /// Shared: the parsed configuration is large, and a URL is copied into errors.
    config: Arc<postgres::Config>,
    /// The root file is read when a store opens, not here.
    tls: TlsSettings,
}

impl DatabaseUrl {
    /// For clap's `value_parser`.
    pub fn parse(s: &str) -> Result<DatabaseUrl, String> {
        s.parse()
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<DatabaseUrl, String> {
        let (rest, tls) = TlsSettings::take(s)?;
        let mut config: postgres::Config = rest
            .parse()
            .map_err(|e| format!("not a PostgreSQL connection string: {e}"))?;
        if config.get_hosts().is_empty() {
            return Err("the connection string names no host".into());
        }
        tls.apply(&mut config)?;
        Ok(DatabaseUrl {
            config: Arc::new(config),
            tls,
        })
    }
}

impl fmt::Display for DatabaseUrl {
    /// `postgres://user@host:port/db`: the password left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        write!(f, "postgres://")?;
        if let Some(user) = c.get_user() {
            write!(f, "{user}@")?;
        }
        for (i, host) in c.get_hosts().iter().enumerate() {
            if i > 0 {
                write!(f, ",")?;
            }
            match host {
                Host::Tcp(name) => write!(f, "{name}")?,
                Host::Unix(dir) => write!(f, "{}", dir.display())?,
            }
            // One port for every host, or one per host.
            let port = match c.get_ports() {
                [port] => Some(port),
                ports => ports.get(i),
            };
            if let Some(port) = port {
                write!(f, ":{port}")?;
            }
        }
        write!(f, "/{}", c.get_dbname().unwrap_or_default())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// The connections; shared by reference, so it lives as long as its store.
pub struct Pool {
    config: postgres::Config,
    connector: Connector,
    /// Guards the idle connections and the count of open ones; held only to take or give
    /// back a connection, never during a query.
    state: Mutex<State>,
    /// Signalled whenever a connection comes back or closes, for callers waiting at
    /// [`MAX_CONNECTIONS`].
    returned: Condvar,
}

#[derive(Default)]
struct State {
    idle: Vec<Pooled>,
    /// Connections open: idle plus lent out.
    open: usize,
}

impl Pool {
    /// No connection is opened yet; a root file that cannot be read or used is an
    /// error here.
    pub fn new(url: &DatabaseUrl) -> Result<Pool, StoreError> {
        let mut config = postgres::Config::clone(&url.config);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let connector = Connector::new(&url.tls, &config).map_err(StoreError::backend)?;
        Ok(Pool {
            config,
            connector,
            state: Mutex::new(State::default()),
            returned: Condvar::new(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("pool lock")
    }

    /// A connection for one call: an idle one, a new one, or the next one given back.
    pub fn get(&self) -> Result<Conn<'_>, StoreError> {
        let mut state = self.state();
        loop {
            if let Some(pooled) = state.idle.pop() {
                if pooled.client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(Conn {
                    pool: self,
                    pooled: Some(pooled),
                });
            }
            if state.open < MAX_CONNECTIONS {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(client) => Ok(Conn {
                        pool: self,
                        pooled: Some(Pooled {
                            client,
                            prepared: HashMap::new(),
                        }),
                    }),
                    Err(e) => {
                        self.state().open -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            state = self.returned.wait(state).expect("pool lock");
        }
    }

    /// What connections are opened with (the listener opens its own).
    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// How connections are opened, TLS or not (the listener opens its own).
    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    fn connect(&self) -> Result<Client, StoreError> {
        let mut client = self.connector.connect(&self.config)?;
        client.batch_execute("SET synchronous_commit = on")?;
        Ok(client)
    }

    /// The idle connections, taken out to be closed with the pool.
    pub fn drain(&self) -> Vec<Client> {
        std::mem::take(&mut self.state().idle)
            .into_iter()
            .map(|pooled| pooled.client)
            .collect()
    }
}

/// An open connection and what it has prepared.
struct Pooled {
    client: Client,
    /// By their text; a statement lives as long as its connection.
    prepared: HashMap<&'static str, Statement>,
}

/// A connection lent to one call; it goes back to the pool when dropped.
pub struct Conn<'a> {
    pool: &'a Pool,
    /// `Some` until the drop hands it back.
    pooled: Option<Pooled>,
}

impl Conn<'_> {
    fn pooled(&mut self) -> &mut Pooled {
        self.pooled.as_mut().expect("a lent connection")
    }

    /// `sql` prepared on this connection, the first time it is asked for here.
    pub fn prepared(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        let pooled = self.pooled();
        if let Some(statement) = pooled.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = pooled.client.prepare(sql)?;
        pooled.prepared.insert(sql, statement.clone());
        Ok(statement)
    }

    /// Passes an error of a prepared statement's through, first forgetting what this
    /// connection prepared unless the error is a duplicate key (a conflict between
    /// nodes, which leaves the statement as good as it was): a statement prepared
    /// before the schema changed under it (a newer node migrating) fails until it is
    /// prepared again.
    pub fn failed(&mut self, e: postgres::Error) -> postgres::Error {
        if e.code() != Some(&SqlState::UNIQUE_VIOLATION) {
            self.forget_prepared();
        }
        e
    }

    /// Forgets what this connection prepared, so the next call prepares it again.
    pub fn forget_prepared(&mut self) {
        self.pooled().prepared.clear();
    }
}

impl Deref for Conn<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.pooled.as_ref().expect("a lent connection").client
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.pooled().client
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        let pooled = self.pooled.take().expect("a lent connection");
        let mut state = self.pool.state();
        if pooled.client.is_closed() {
            state.open -= 1;
        } else {
            state.idle.push(pooled);
        }
        drop(state);
        self.pool.returned.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    #[test]
    fn a_database_url_shows_without_its_password() {
        let check = |url: &str, shown: &str| {
            let parsed: DatabaseUrl = url.parse().unwrap();
            assert_eq!(parsed.to_string(), shown, "{url}");
            assert!(!format!("{parsed:?}").contains("s3cret"), "{url}");
        };
        check(
            "postgres://hs:s3cret@db.example:5433/boards",
            "postgres://hs@db.example:5433/boards",
        );
        check("postgresql://db/boards", "postgres://db:5432/boards");
        check(
            "host=/run/pg port=5432 user=hs password=s3cret dbname=b",
            "postgres://hs@/run/pg:5432/b",
        );
    }

    #[test]
    fn a_wrong_database_url_is_refused_while_parsing() {
        for wrong in ["postgres://db:notaport/x", "mysql://db/x", "dbname=b"] {
            assert!(DatabaseUrl::parse(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn the_tls_parameters_are_read_as_libpq_reads_them() {
        use super::super::tls::{Identity, Mode, Roots};
        use postgres::config::SslMode;

        #[track_caller]
        fn check(url: &str, mode: Mode, roots: Roots, client: SslMode) {
            let parsed = DatabaseUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(parsed.tls.mode, mode, "{url}");
            assert_eq!(parsed.tls.roots, roots, "{url}");
            assert_eq!(parsed.config.get_ssl_mode(), client, "{url}");
        }
        let file = |path: &str| Roots::File(PathBuf::from(path));
        check(
            "postgres://db/b",
            Mode::Prefer,
            Roots::Unset,
            SslMode::Prefer,
        );
        check(
            "postgres://db/b?sslmode=disable",
            Mode::Disable,
            Roots::Unset,
            SslMode::Disable,
        );
        check(
            "postgres://db/b?sslmode=require",
            Mode::Require,
            Roots::Unset,
            SslMode::Require,
        );
        check(
            "postgres://db/b?sslmode=verify-ca",
            Mode::VerifyCa,
            Roots::Unset,
            SslMode::Require,
        );
        check(
            "postgres://db/b?sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20root.pem",
            Mode::VerifyFull,
            file("/etc/ca root.pem"),
            SslMode::Require,
        );
        // As libpq: `require` with a root file checks the certificate against it.
        check(
            "postgres://db/b?sslrootcert=ca.pem&sslmode=require",
            Mode::VerifyCa,
            file("ca.pem"),
            SslMode::Require,
        );
        // As libpq 16: the system's roots by name, and then the name is checked too.
        check(
            "postgres://db/b?sslrootcert=system",
            Mode::VerifyFull,
            Roots::System,
            SslMode::Require,
        );
        check(
            "host=db sslmode = verify-full sslrootcert='/a b/c\\'d.pem' dbname=b",
            Mode::VerifyFull,
            file("/a b/c'd.pem"),
            SslMode::Require,
        );
        check(
            "host=/run/pg dbname=b",
            Mode::Prefer,
            Roots::Unset,
            SslMode::Prefer,
        );
        check(
            "host=/run/pg sslmode=disable dbname=b",
            Mode::Disable,
            Roots::Unset,
            SslMode::Disable,
        );

        let parsed = DatabaseUrl::parse(
            "postgres://db/b?sslmode=verify-full&sslcert=%2Fkeys%2Fnode.crt&sslkey=node.key",
        )
        .unwrap();
        assert_eq!(
            parsed.tls.identity,
            Some(Identity {
                cert: PathBuf::from("/keys/node.crt"),
                key: PathBuf::from("node.key"),
            })
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://db/b").unwrap().tls.identity,
            None
        );
    }

    #[test]
    fn the_other_parameters_survive_taking_out_the_tls_ones() {
        let url = DatabaseUrl::parse(
            "postgres://hs@db:5433/b?application_name=a%20b&sslmode=verify-full&connect_timeout=3",
        )
        .unwrap();
        assert_eq!(url.config.get_application_name(), Some("a b"));
        assert_eq!(
            url.config.get_connect_timeout(),
            Some(&Duration::from_secs(3))
        );
        assert_eq!(url.to_string(), "postgres://hs@db:5433/b");
        let url = DatabaseUrl::parse("host=db user='h s' sslmode=require password=it\\'s dbname=b")
            .unwrap();
        assert_eq!(url.config.get_user(), Some("h s"));
        assert_eq!(url.config.get_password(), Some(&b"it's"[..]));
        assert_eq!(url.config.get_dbname(), Some("b"));
    }

    #[test]
    fn a_wrong_sslmode_or_sslrootcert_is_refused_while_parsing() {
        #[track_caller]
        fn check(url: &str, says: &str) {
            match DatabaseUrl::parse(url) {
                Ok(_) => panic!("{url} was taken"),
                Err(e) => assert!(e.contains(says), "{url}: {e}"),
            }
        }
        check(
            "postgres://db/b?sslmode=verify",
            "sslmode \"verify\" is not one of",
        );
        check(
            "host=db sslmode=allowed dbname=b",
            "sslmode \"allowed\" is not one of",
        );
        check("postgres://db/b?sslrootcert=", "sslrootcert names no file");
        check("postgres://db/b?sslmode=", "sslmode \"\" is not one of");
        check(
            "postgres://db/b?sslmode=require&sslrootcert=system",
            "sslmode require may not be used with sslrootcert=system (use verify-full)",
        );
        check(
            "host=db sslmode=verify-ca sslrootcert=system",
            "sslmode verify-ca may not be used with sslrootcert=system",
        );
        check(
            "postgres://db/b?sslcert=node.crt",
            "sslcert needs sslkey, the file of its private key",
        );
        check(
            "postgres://db/b?sslkey=node.key",
            "sslkey needs sslcert, the file of its certificate",
        );
        check("postgres://db/b?sslcert=&sslkey=k", "sslcert names no file");
        check(
            "postgres://db/b?sslrootcert=%zz",
            "a % not followed by two hex digits",
        );
        check(
            "host=/run/pg sslmode=verify-full dbname=b",
            "sslmode verify-full needs TCP hosts",
        );
    }

    #[test]
    fn a_root_file_that_cannot_be_used_is_refused_when_the_store_opens() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let garbled = dir.path().join("garbled.pem");
        std::fs::write(
            &garbled,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let check = |path: &Path, says: &str| {
            let url = format!(
                "postgres://127.0.0.1:1/b?sslmode=verify-full&sslrootcert={}",
                path.display()
            );
            let url = DatabaseUrl::parse(&url).unwrap();
            match Pool::new(&url) {
                Ok(_) => panic!("{} was taken", path.display()),
                Err(e) => {
                    let shown = e.to_string();
                    assert!(shown.contains(&path.display().to_string()), "{shown}");
                    assert!(shown.contains(says), "{shown}");
                }
            }
        };
        check(&missing, "No such file");
        check(&empty, "holds no PEM certificate");
        check(&garbled, "not a usable certificate");
    }

    #[test]
    fn a_client_identity_that_cannot_be_used_is_refused_when_the_store_opens() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str, mode: u32| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            path
        };
        // PEM enough for the reading; the handshake never comes.
        let cert = write(
            "node.crt",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            0o644,
        );
        let key_text = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let open_key = write("open.key", key_text, 0o644);
        let not_a_key = write("not.key", "a key, honestly\n", 0o600);
        let not_a_cert = write("not.crt", "a certificate, honestly\n", 0o644);
        let missing = dir.path().join("missing.crt");
        let check = |cert: &Path, key: &Path, names: &Path, says: &str| {
            let url = format!(
                "postgres://127.0.0.1:1/b?sslmode=require&sslcert={}&sslkey={}",
                cert.display(),
                key.display()
            );
            let url = DatabaseUrl::parse(&url).unwrap();
            match Pool::new(&url) {
                Ok(_) => panic!("{} and {} were taken", cert.display(), key.display()),
                Err(e) => {
                    let shown = e.to_string();
                    assert!(shown.contains(&names.display().to_string()), "{shown}");
                    assert!(shown.contains(says), "{shown}");
                }
            }
        };
        check(&missing, &not_a_key, &missing, "sslcert");
        check(&missing, &not_a_key, &missing, "No such file");
        check(
            &not_a_cert,
            &not_a_key,
            &not_a_cert,
            "holds no PEM certificate",
        );
        check(
            &cert,
            &open_key,
            &open_key,
            "has group or world access (mode 644)",
        );
        check(
            &cert,
            &not_a_key,
            &not_a_key,
            "holds no usable PEM private key",
        );
        // A key in the right shape that is no key at all is refused by rustls.
        let garbled = write("garbled.key", key_text, 0o600);
        check(&cert, &garbled, &garbled, "sslkey");
    }
}
