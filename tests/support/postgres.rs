//! A real PostgreSQL for the tests of the PostgreSQL store: started once per test process
//! (`initdb` and `pg_ctl start` into a fresh temporary directory, on 127.0.0.1 and a free
//! port, its socket inside that directory, `fsync` on as in production), and stopped when
//! the process exits. Each test takes a database of its own ([`database`]), so tests run
//! in parallel without seeing each other's boards.
//!
//! `initdb` and `pg_ctl` refuse to run as root; as root (CI, this project's machines) they
//! run as the `postgres` system user, which owns the directory. The binaries come from
//! `HINDSIGHT_PG_BIN` (set by `cargo xtask test`), else the newest
//! `/usr/lib/postgresql/*/bin` (Debian's `postgresql` package), else `PATH`.
//!
//! [`OwnServer::start_tls`] starts one that takes TLS connections only (`hostssl` in
//! `pg_hba.conf`, no `host`), with a test CA and a certificate for `localhost` and
//! `127.0.0.1` made by the `openssl` CLI; the databases are created over its Unix
//! socket, which needs no TLS. [`OwnServer::start_client_certificates`] also asks every
//! TCP client for a certificate from that CA naming its user (`cert` in `pg_hba.conf`),
//! and makes one for `postgres`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// The server this process started; lives until `stop_at_exit` stops it.
struct Server {
    /// Removed by `stop_at_exit` once the server has stopped.
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
    /// Whether `initdb` and `pg_ctl` run as the `postgres` user (the tests run as root).
    as_postgres: bool,
    /// What it asks of a TCP connection (certificates in `dir/tls`).
    security: Security,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Security {
    /// Plain or TLS, no password (`trust`).
    Plain,
    /// TLS only, no password.
    Tls,
    /// TLS only, and a client certificate from the test CA naming the user.
    ClientCertificates,
}

static SERVER: OnceLock<Server> = OnceLock::new();

/// A new, empty database on the test server, as a connection URL (user `postgres`,
/// trusted on loopback).
pub fn database() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let server = SERVER.get_or_init(Server::start);
    let name = format!(
        "hindsight_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let admin = server.url("postgres");
    let create = format!("CREATE DATABASE {name}");
    // On a thread of its own: the blocking client may not run inside an async test's
    // runtime.
    std::thread::spawn(move || {
        let mut client = ::postgres::Client::connect(&admin, ::postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to the test PostgreSQL: {e}"));
        client
            .batch_execute(&create)
            .unwrap_or_else(|e| panic!("{create}: {e}"));
    })
    .join()
    .expect("create a test database");
    server.url(&name)
}

/// A PostgreSQL of one test's own, for tests that stop and start it under a running
/// server (an outage). Stopped and removed when dropped.
pub struct OwnServer(Server);

impl OwnServer {
    /// Starts a fresh cluster with an empty database `hindsight`.
    pub fn start() -> OwnServer {
        OwnServer::with_database(Server::launch(Security::Plain))
    }

    /// As [`OwnServer::start`], taking TLS connections only: a plain one is refused by
    /// `pg_hba.conf`. [`OwnServer::ca`] is the root that signed its certificate.
    pub fn start_tls() -> OwnServer {
        OwnServer::with_database(Server::launch(Security::Tls))
    }

    /// As [`OwnServer::start_tls`], and a TCP client must also show a certificate the
    /// test CA signed for its user: [`OwnServer::client_cert`] and
    /// [`OwnServer::client_key`] are one for `postgres`.
    pub fn start_client_certificates() -> OwnServer {
        OwnServer::with_database(Server::launch(Security::ClientCertificates))
    }

    fn with_database(server: Server) -> OwnServer {
        let own = OwnServer(server);
        own.run_sql("postgres", "CREATE DATABASE hindsight");
        own
    }

    /// Runs `statements` in the database `hindsight` as `postgres` over the Unix socket
    /// (no TLS needed): the first column of the rows they return, as text.
    pub fn sql(&self, statements: &str) -> Vec<String> {
        self.run_sql("hindsight", statements)
    }

    /// On a thread of its own: the blocking client may not run inside an async test's
    /// runtime.
    fn run_sql(&self, database: &str, statements: &str) -> Vec<String> {
        let mut config = ::postgres::Config::new();
        config
            .host_path(&self.0.dir)
            .port(self.0.port)
            .user("postgres")
            .dbname(database);
        let statements = statements.to_owned();
        std::thread::spawn(move || {
            let mut client = config
                .connect(::postgres::NoTls)
                .unwrap_or_else(|e| panic!("connect to the test PostgreSQL: {e}"));
            let messages = client
                .simple_query(&statements)
                .unwrap_or_else(|e| panic!("{statements}: {e}"));
            messages
                .into_iter()
                .filter_map(|m| match m {
                    ::postgres::SimpleQueryMessage::Row(row) => {
                        Some(row.get(0).unwrap_or_default().to_owned())
                    }
                    _ => None,
                })
                .collect()
        })
        .join()
        .expect("run SQL on the test PostgreSQL")
    }

    /// The database `hindsight` over TCP, as `postgres://postgres@127.0.0.1:port/hindsight`.
    pub fn url(&self) -> String {
        self.0.url("hindsight")
    }

    pub fn port(&self) -> u16 {
        self.0.port
    }

    /// The CA that signed a TLS server's certificate (PEM).
    pub fn ca(&self) -> PathBuf {
        self.certificate("ca.pem")
    }

    /// A CA that signed nothing this server shows (PEM), for a wrong root.
    pub fn other_ca(&self) -> PathBuf {
        self.certificate("other-ca.pem")
    }

    /// A client certificate for the user `postgres`, signed by [`OwnServer::ca`] (PEM).
    pub fn client_cert(&self) -> PathBuf {
        self.certificate("client.pem")
    }

    /// The key of [`OwnServer::client_cert`] (PEM, readable by its owner only).
    pub fn client_key(&self) -> PathBuf {
        self.certificate("client.key")
    }

    /// The key of the server's own certificate, which fits no client certificate.
    pub fn server_key(&self) -> PathBuf {
        self.certificate("server.key")
    }

    fn certificate(&self, name: &str) -> PathBuf {
        assert!(self.0.security != Security::Plain, "a TLS server");
        self.0.dir.join("tls").join(name)
    }

    /// Stops the server at once, cutting every connection (`pg_ctl stop -m immediate`,
    /// as a crash or a lost network would).
    pub fn stop(&self) {
        run(self
            .0
            .command("pg_ctl")
            .args(["stop", "--wait", "--silent", "-m", "immediate", "-D"])
            .arg(self.0.dir.join("data")));
    }

    /// Starts it again on the same port after [`OwnServer::stop`].
    pub fn start_again(&self) {
        self.0.pg_ctl_start();
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.0.stop_and_remove();
    }
}

impl Server {
    /// The server every test of this process shares, stopped at exit.
    fn start() -> Server {
        let server = Server::launch(Security::Plain);
        // SAFETY: registering a plain `extern "C"` function with no arguments.
        unsafe { libc::atexit(stop_at_exit) };
        server
    }

    fn launch(security: Security) -> Server {
        let bin = bin_dir();
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("hindsight-pg-")
            .tempdir()
            .expect("a temporary directory for PostgreSQL")
            .keep();
        if as_postgres {
            run(Command::new("chown").arg("postgres:").arg(&dir));
        }
        let server = Server {
            port: free_port(),
            dir,
            bin,
            as_postgres,
            security,
        };
        let data = server.dir.join("data");
        run(server
            .command("initdb")
            .args(["--username=postgres", "--auth=trust", "--encoding=UTF8"])
            // initdb's own files need no fsync for a throwaway cluster; the server keeps
            // fsync on.
            .args(["--no-sync", "--no-instructions", "-D"])
            .arg(&data));
        // TLS over TCP only; the Unix socket for creating databases.
        let hba = match security {
            Security::Plain => None,
            Security::Tls => Some("local all all trust\nhostssl all all 127.0.0.1/32 trust\n"),
            Security::ClientCertificates => {
                Some("local all all trust\nhostssl all all 127.0.0.1/32 cert\n")
            }
        };
        if let Some(hba) = hba {
            server.make_certificates();
            std::fs::write(data.join("pg_hba.conf"), hba).expect("write pg_hba.conf");
        }
        server.pg_ctl_start();
        server
    }

    /// A test CA, a server certificate it signed for `localhost` and `127.0.0.1`, a
    /// client certificate it signed for `postgres`, and a second CA that signed nothing,
    /// in `dir/tls`. PostgreSQL refuses a key file that
    /// others can read or that it does not own.
    fn make_certificates(&self) {
        let tls = self.dir.join("tls");
        std::fs::create_dir(&tls).expect("a directory for certificates");
        let openssl = |args: &[&str]| run(Command::new("openssl").args(args).current_dir(&tls));
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        for (name, subject) in [
            ("ca", "/CN=Hindsight test CA"),
            ("other-ca", "/CN=Another CA"),
        ] {
            let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
            let mut args = vec!["req", "-x509", "-days", "2", "-subj", subject];
            args.extend(ec);
            args.extend(["-keyout", &key, "-out", &pem]);
            args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
            args.extend(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
            openssl(&args);
        }
        // A key and a certificate the test CA signed, with these extensions.
        let signed = |name: &str, subject: &str, extensions: &str| {
            let (key, csr, ext, pem) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.ext"),
                format!("{name}.pem"),
            );
            let mut request = vec!["req", "-subj", subject];
            request.extend(ec);
            request.extend(["-keyout", &key, "-out", &csr]);
            openssl(&request);
            std::fs::write(tls.join(&ext), extensions).expect("write the certificate's extensions");
            openssl(&[
                "x509",
                "-req",
                "-days",
                "2",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-extfile",
                &ext,
                "-out",
                &pem,
            ]);
            set_mode(&tls.join(&key), 0o600);
        };
        signed(
            "server",
            "/CN=localhost",
            "subjectAltName = DNS:localhost, IP:127.0.0.1\n\
             basicConstraints = CA:FALSE\n\
             keyUsage = critical, digitalSignature\n\
             extendedKeyUsage = serverAuth\n",
        );
        // PostgreSQL's `cert` method takes the user name from the certificate's CN.
        signed(
            "client",
            "/CN=postgres",
            "basicConstraints = CA:FALSE\n\
             keyUsage = critical, digitalSignature\n\
             extendedKeyUsage = clientAuth\n",
        );
        if self.as_postgres {
            run(Command::new("chown").arg("-R").arg("postgres:").arg(&tls));
        }
    }

    fn pg_ctl_start(&self) {
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories={} \
             -c fsync=on -c synchronous_commit=on",
            self.port,
            self.dir.display()
        );
        if self.security != Security::Plain {
            let tls = self.dir.join("tls");
            options += &format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                tls.join("server.pem").display(),
                tls.join("server.key").display()
            );
        }
        if self.security == Security::ClientCertificates {
            // The roots a client's certificate must come from.
            options += &format!(" -c ssl_ca_file={}", self.dir.join("tls/ca.pem").display());
        }
        run(self
            .command("pg_ctl")
            .args(["start", "--wait", "--silent", "-D"])
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(self.dir.join("log"))
            .args(["-o", &options]));
    }

    /// Stops the server if it runs, and removes its directory.
    fn stop_and_remove(&self) {
        let _ = self
            .command("pg_ctl")
            .args(["stop", "--wait", "--silent", "-m", "fast", "-D"])
            .arg(self.dir.join("data"))
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// One of the server's programs, run as the `postgres` user when the tests are root.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }
}

/// Stops the server when the test process exits (pass or fail), then removes its
/// directory, so no PostgreSQL outlives `cargo test`.
extern "C" fn stop_at_exit() {
    if let Some(server) = SERVER.get() {
        server.stop_and_remove();
    }
}

/// `HINDSIGHT_PG_BIN`, else the newest `/usr/lib/postgresql/N/bin`, else `PATH` (empty).
fn bin_dir() -> PathBuf {
    if let Some(bin) = std::env::var_os("HINDSIGHT_PG_BIN") {
        return bin.into();
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max();
    newest.map(|(_, bin)| bin).unwrap_or_default()
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A port nothing listens on now (the server takes it a moment later).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn run(command: &mut Command) {
    let shown = format!("{command:?}");
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{shown}: {e} (is PostgreSQL installed? set HINDSIGHT_PG_BIN)"));
    assert!(
        output.status.success(),
        "{shown} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
