//! Where things are: the repository root, Cargo's target directory, the built client and
//! the Node interop peer. Paths only; nothing here builds or installs anything.

use std::env;
use std::path::PathBuf;

use crate::cmd;

pub struct Workspace {
    /// The repository root: the directory holding the workspace `Cargo.toml` and `Trunk.toml`.
    pub root: PathBuf,
}

impl Workspace {
    pub fn locate() -> Workspace {
        // `cargo run` says where the package it runs is. The path compiled in is only a
        // fallback: clones that share one target directory (as CI's cache and a working
        // tree do) share one uplifted `xtask` binary, which cargo does not copy again
        // for a clone whose own build is fresh, so the compiled-in path may be the
        // other clone's.
        let xtask_dir = env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = xtask_dir
            .parent()
            .expect("xtask lives one level below the repository root");
        Workspace {
            root: root.to_owned(),
        }
    }

    /// Where `trunk build` puts the client (set by `Trunk.toml`).
    pub fn dist(&self) -> PathBuf {
        self.root.join("dist")
    }

    pub fn interop(&self) -> PathBuf {
        self.root.join("tests").join("interop")
    }

    pub fn cargo_lock(&self) -> PathBuf {
        self.root.join("Cargo.lock")
    }

    /// Cargo's target directory as Cargo itself resolves it (`CARGO_TARGET_DIR`,
    /// `.cargo/config.toml` or the default), falling back to the environment variable and
    /// then `<root>/target` if `cargo metadata` cannot answer.
    pub fn target_dir(&self) -> PathBuf {
        let metadata = cmd::stdout_of(
            cmd::cargo()
                .args([
                    "metadata",
                    "--format-version",
                    "1",
                    "--no-deps",
                    "--offline",
                ])
                .current_dir(&self.root),
        );
        metadata
            .and_then(|json| json_string_field(&json, "target_directory"))
            .map(PathBuf::from)
            .or_else(|| env::var_os("CARGO_TARGET_DIR").map(|d| self.root.join(d)))
            .unwrap_or_else(|| self.root.join("target"))
    }
}

/// The first string value of `"key":"…"` in a JSON document, unescaped. Enough for
/// `cargo metadata`, whose top-level path fields are plain strings.
fn json_string_field(json: &str, key: &str) -> Option<String> {
    let start = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut value = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_string_fields_from_cargo_metadata() {
        let json = r#"{"packages":[],"target_directory":"/tmp/a \"b\"\\c","version":1}"#;
        assert_eq!(
            json_string_field(json, "target_directory").as_deref(),
            Some(r#"/tmp/a "b"\c"#)
        );
        assert_eq!(json_string_field(json, "workspace_root"), None);
        assert_eq!(
            json_string_field(r#"{"target_directory":"/unterminated"#, "target_directory"),
            None
        );
    }
}
