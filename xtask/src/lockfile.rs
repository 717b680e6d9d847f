//! Reading a locked package version out of `Cargo.lock`, without a TOML parser: the file
//! is machine-written, one `[[package]]` table after another, one `key = "value"` a line.

/// The version of the package called `name`, if it is locked exactly once.
pub fn locked_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("\"{name}\"");
    let mut versions = lock.split("[[package]]").skip(1).filter_map(|table| {
        let field = |key: &str| {
            table.lines().find_map(|line| {
                let (k, v) = line.split_once('=')?;
                (k.trim() == key).then(|| v.trim().to_owned())
            })
        };
        if field("name")? == wanted {
            Some(field("version")?.trim_matches('"').to_owned())
        } else {
            None
        }
    });
    let version = versions.next()?;
    // Two locked versions would make "the" version ambiguous; refuse to guess.
    versions.next().is_none().then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "wasm-bindgen-backend"
version = "0.2.99"

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "cfg-if",
]

[[package]]
name = "twice"
version = "1.0.0"

[[package]]
name = "twice"
version = "2.0.0"
"#;

    fn check(name: &str, expected: Option<&str>) {
        assert_eq!(locked_version(LOCK, name).as_deref(), expected, "{name}");
    }

    #[test]
    fn finds_exact_names_only() {
        check("wasm-bindgen", Some("0.2.130"));
        check("wasm-bindgen-backend", Some("0.2.99"));
        check("wasm", None);
        check("twice", None);
        check("missing", None);
    }

    #[test]
    fn reads_this_workspace_lock() {
        let lock = include_str!("../../Cargo.lock");
        let version = locked_version(lock, "wasm-bindgen").expect("wasm-bindgen is locked");
        assert!(version.starts_with("0.2."), "{version}");
    }
}
