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

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use postgres::config::Host;
use postgres::{Client, NoTls};

use crate::store::StoreError;

/// Connections open at most: enough for the rooms' writes, the readiness probe and the
/// admin API to go on side by side, few enough to leave a shared server room for other
/// nodes.
pub const MAX_CONNECTIONS: usize = 8;

/// How long opening a connection may take when the URL does not say
/// (`connect_timeout`), so an unreachable database fails the start instead of hanging.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A PostgreSQL connection string (`postgres://user:password@host:port/db` or
/// `host=… dbname=…`), checked when it is parsed. It shows (`Display`, `Debug`) without
/// its password, so it can be printed and logged.
#[derive(Clone)]
pub struct DatabaseUrl {
    /// Shared: the parsed configuration is large, and a URL is copied into errors.
    config: Arc<postgres::Config>,
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
        let config: postgres::Config = s
            .parse()
            .map_err(|e| format!("not a PostgreSQL connection string: {e}"))?;
        if config.get_hosts().is_empty() {
            return Err("the connection string names no host".into());
        }
        Ok(DatabaseUrl {
            config: Arc::new(config),
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
    /// Guards the idle connections and the count of open ones; held only to take or give
    /// back a connection, never during a query.
    state: Mutex<State>,
    /// Signalled whenever a connection comes back or closes, for callers waiting at
    /// [`MAX_CONNECTIONS`].
    returned: Condvar,
}

#[derive(Default)]
struct State {
    idle: Vec<Client>,
    /// Connections open: idle plus lent out.
    open: usize,
}

impl Pool {
    pub fn new(url: &DatabaseUrl) -> Pool {
        let mut config = postgres::Config::clone(&url.config);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        Pool {
            config,
            state: Mutex::new(State::default()),
            returned: Condvar::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("pool lock")
    }

    /// A connection for one call: an idle one, a new one, or the next one given back.
    pub fn get(&self) -> Result<Conn<'_>, StoreError> {
        let mut state = self.state();
        loop {
            if let Some(client) = state.idle.pop() {
                if client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(Conn {
                    pool: self,
                    client: Some(client),
                });
            }
            if state.open < MAX_CONNECTIONS {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(client) => Ok(Conn {
                        pool: self,
                        client: Some(client),
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

    fn connect(&self) -> Result<Client, StoreError> {
        let mut client = self.config.connect(NoTls)?;
        client.batch_execute("SET synchronous_commit = on")?;
        Ok(client)
    }

    /// The idle connections, taken out to be closed with the pool.
    pub fn drain(&self) -> Vec<Client> {
        std::mem::take(&mut self.state().idle)
    }
}

/// A connection lent to one call; it goes back to the pool when dropped.
pub struct Conn<'a> {
    pool: &'a Pool,
    /// `Some` until the drop hands it back.
    client: Option<Client>,
}

impl Deref for Conn<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        self.client.as_ref().expect("a lent connection")
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("a lent connection")
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        let client = self.client.take().expect("a lent connection");
        let mut state = self.pool.state();
        if client.is_closed() {
            state.open -= 1;
        } else {
            state.idle.push(client);
        }
        drop(state);
        self.pool.returned.notify_one();
    }
}

#[cfg(test)]
mod tests {
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
}
