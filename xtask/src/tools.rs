//! Making sure the tools the build and tests need are installed, and installing what is
//! missing: the wasm32 target, Trunk 0.21, wasm-bindgen-cli at the version in Cargo.lock,
//! Chromium with ChromeDriver, PostgreSQL (for the PostgreSQL store's tests), and the Node
//! interop peer's packages.
//!
//! Every check is quick and idempotent, and prints one line per tool: `ok`, or what it
//! installs. This module never builds or tests the project itself.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::cmd::{self, Result};
use crate::lockfile;
use crate::workspace::Workspace;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Trunk 0.22 needs a newer rustc than the workspace supports.
const TRUNK_SERIES: &str = "0.21";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Where Debian's `postgresql` package puts each major version's `bin`.
const POSTGRESQL_LIB: &str = "/usr/lib/postgresql";

/// The browser the end-to-end tests drive.
pub struct Browser {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// What `trunk build` needs: the wasm32 target, Trunk and a matching wasm-bindgen.
pub fn ensure_build_tools(ws: &Workspace) -> Result {
    wasm_target()?;
    trunk()?;
    wasm_bindgen(ws)
}

/// What `cargo test --workspace` needs beyond the build tools.
pub fn ensure_test_tools(ws: &Workspace) -> Result<Browser> {
    let browser = browser()?;
    postgresql()?;
    interop_packages(ws)?;
    Ok(browser)
}

fn report(tool: &str, status: &str) {
    println!("tool  {tool:<24} {status}");
}

fn wasm_target() -> Result {
    let installed = cmd::stdout_of(cmd::cmd("rustup").args(["target", "list", "--installed"]));
    match installed {
        Some(list) if list.lines().any(|t| t.trim() == WASM_TARGET) => {
            report(WASM_TARGET, "ok");
            Ok(())
        }
        Some(_) => {
            report(WASM_TARGET, "installing (rustup target add)");
            cmd::run(cmd::cmd("rustup").args(["target", "add", WASM_TARGET]))
        }
        // No rustup: accept a toolchain that ships the target, else say what to do.
        None => {
            let sysroot = cmd::stdout_of(cmd::cmd("rustc").args(["--print", "sysroot"]));
            let has_target = sysroot.is_some_and(|root| {
                Path::new(&root)
                    .join("lib/rustlib")
                    .join(WASM_TARGET)
                    .is_dir()
            });
            if has_target {
                report(WASM_TARGET, "ok");
                Ok(())
            } else {
                Err(format!(
                    "the {WASM_TARGET} target is missing and rustup is not available; \
                     install Rust with rustup (https://rustup.rs) or add the target to your toolchain"
                ))
            }
        }
    }
}

/// The second word of a `tool --version` line such as `trunk 0.21.14`.
fn version_of(program: &str) -> Option<String> {
    let path = cmd::find(program)?;
    let line = cmd::stdout_of(cmd::cmd(path).arg("--version"))?;
    line.split_whitespace().nth(1).map(str::to_owned)
}

fn trunk() -> Result {
    let wanted = |v: &str| v.starts_with(&format!("{TRUNK_SERIES}."));
    match version_of("trunk") {
        Some(v) if wanted(&v) => {
            report("trunk", &format!("ok ({v})"));
            return Ok(());
        }
        Some(v) => report(
            "trunk",
            &format!("found {v}, installing {TRUNK_SERIES}.x (cargo install, a few minutes)"),
        ),
        None => report(
            "trunk",
            &format!("installing {TRUNK_SERIES}.x (cargo install, a few minutes)"),
        ),
    }
    let series = format!("~{TRUNK_SERIES}");
    cmd::run(cmd::cargo().args(["install", "trunk", "--version", &series, "--locked"]))?;
    match version_of("trunk") {
        Some(v) if wanted(&v) => Ok(()),
        other => Err(format!(
            "installed trunk {TRUNK_SERIES}.x but `trunk --version` now reports {}; \
             make sure {} comes first on PATH",
            other.as_deref().unwrap_or("nothing"),
            cmd::cargo_bin_dir().map_or("~/.cargo/bin".into(), |d| d.display().to_string()),
        )),
    }
}

/// Trunk runs the `wasm-bindgen` it finds only if its version equals the library's in
/// Cargo.lock; otherwise it tries to download one, which fails offline.
fn wasm_bindgen(ws: &Workspace) -> Result {
    let lock_path = ws.cargo_lock();
    let lock = fs::read_to_string(&lock_path)
        .map_err(|e| format!("cannot read {}: {e}", lock_path.display()))?;
    let wanted = lockfile::locked_version(&lock, "wasm-bindgen").ok_or_else(|| {
        format!(
            "{} does not lock exactly one version of wasm-bindgen",
            lock_path.display()
        )
    })?;
    match version_of("wasm-bindgen") {
        Some(v) if v == wanted => {
            report("wasm-bindgen", &format!("ok ({v})"));
            return Ok(());
        }
        Some(v) => report(
            "wasm-bindgen",
            &format!(
                "found {v}, installing wasm-bindgen-cli {wanted} (cargo install, a few minutes)"
            ),
        ),
        None => report(
            "wasm-bindgen",
            &format!("installing wasm-bindgen-cli {wanted} (cargo install, a few minutes)"),
        ),
    }
    let install = |locked: bool| {
        let mut command = cmd::cargo();
        command.args(["install", "wasm-bindgen-cli", "--version", &wanted]);
        if locked {
            command.arg("--locked");
        }
        cmd::run(&mut command)
    };
    // The registry mirror can lag behind a dependency that wasm-bindgen-cli's own lock file
    // names; resolving afresh is the next best thing.
    install(true).or_else(|e| {
        println!("{e}; retrying without --locked");
        install(false)
    })?;
    match version_of("wasm-bindgen") {
        Some(v) if v == wanted => Ok(()),
        other => Err(format!(
            "installed wasm-bindgen-cli {wanted} but `wasm-bindgen --version` reports {}; \
             remove the other copy or put {} first on PATH",
            other.as_deref().unwrap_or("nothing"),
            cmd::cargo_bin_dir().map_or("~/.cargo/bin".into(), |d| d.display().to_string()),
        )),
    }
}

fn browser() -> Result<Browser> {
    let browser = Browser {
        chromium: PathBuf::from(CHROMIUM),
        chromedriver: PathBuf::from(CHROMEDRIVER),
    };
    let present =
        || cmd::is_executable(&browser.chromium) && cmd::is_executable(&browser.chromedriver);
    if present() {
        report("chromium, chromedriver", "ok");
        return Ok(browser);
    }
    report(
        "chromium, chromedriver",
        "installing chromium and chromium-driver (apt-get)",
    );
    apt_install(&["chromium", "chromium-driver"]).map_err(|e| {
        format!(
            "{e}\nThe browser tests need {CHROMIUM} and {CHROMEDRIVER}; install them with \
             `sudo apt-get install -y chromium chromium-driver`"
        )
    })?;
    if present() {
        Ok(browser)
    } else {
        Err(format!(
            "apt-get finished but {CHROMIUM} or {CHROMEDRIVER} is still missing"
        ))
    }
}

/// The Debian `postgresql` package, whose `initdb` and `pg_ctl` the tests of the
/// PostgreSQL store start a server with (`tests/support/postgres.rs`).
pub fn postgresql() -> Result {
    if postgres_bin().is_some() {
        report("postgresql", "ok");
        return Ok(());
    }
    report("postgresql", "installing postgresql (apt-get)");
    apt_install(&["postgresql"]).map_err(|e| {
        format!(
            "{e}\nThe PostgreSQL store's tests need initdb and pg_ctl; install them with \
             `sudo apt-get install -y postgresql`"
        )
    })?;
    match postgres_bin() {
        Some(_) => Ok(()),
        None => Err(format!(
            "apt-get finished but no {POSTGRESQL_LIB}/*/bin/initdb is there"
        )),
    }
}

/// The `bin` of the newest PostgreSQL installed (`/usr/lib/postgresql/N/bin`), for the
/// tests' `HINDSIGHT_PG_BIN`.
pub fn postgres_bin() -> Option<PathBuf> {
    fs::read_dir(POSTGRESQL_LIB)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            cmd::is_executable(&bin.join("initdb")).then_some((version, bin))
        })
        .max()
        .map(|(_, bin)| bin)
}

/// `apt-get update`, then `apt-get install -y` the packages, as root or through sudo.
fn apt_install(packages: &[&str]) -> Result {
    let apt = |args: &[&str]| -> Result {
        // `env` carries the setting through sudo, which resets the environment.
        let mut command = match privilege()? {
            Privilege::Root => cmd::cmd("env"),
            Privilege::Sudo => {
                let mut sudo = cmd::cmd("sudo");
                sudo.args(["-n", "env"]);
                sudo
            }
        };
        command
            .args(["DEBIAN_FRONTEND=noninteractive", "apt-get"])
            .args(args);
        cmd::run(&mut command)
    };
    apt(&["update"])?;
    apt(&[&["install", "-y"][..], packages].concat())
}

enum Privilege {
    Root,
    Sudo,
}

fn privilege() -> Result<Privilege> {
    let uid = cmd::stdout_of(cmd::cmd("id").arg("-u"));
    if uid.as_deref() == Some("0") {
        Ok(Privilege::Root)
    } else if cmd::find("sudo").is_some() {
        Ok(Privilege::Sudo)
    } else {
        Err("installing packages needs root, and sudo is not available".into())
    }
}

/// `npm ci` in the interop peer's directory, unless its packages are newer than the lock.
fn interop_packages(ws: &Workspace) -> Result {
    let dir = ws.interop();
    let lock = dir.join("package-lock.json");
    // npm writes this after a successful install; its age tells us whether one is needed.
    let installed = dir.join("node_modules").join(".package-lock.json");
    let stale = match (modified(&installed), modified(&lock)) {
        (Some(installed), Some(lock)) => installed < lock,
        _ => true,
    };
    if !stale {
        report("interop peer", "ok");
        return Ok(());
    }
    let Some(npm) = cmd::find("npm") else {
        return Err(
            "the interop tests need Node.js 20 or newer with npm; install them \
             (e.g. `apt-get install -y nodejs npm`) and run again"
                .into(),
        );
    };
    report("interop peer", "installing packages (npm ci)");
    cmd::run(
        cmd::cmd(npm)
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir),
    )
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}
