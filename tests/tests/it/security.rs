//! Security headers over real HTTP: the pages carry a Content-Security-Policy that lets
//! exactly their own inline scripts run (by hash), and every response forbids MIME
//! sniffing, referrers and framing.

use base64::Engine;
use hindsight_tests::{http_with_headers, TestServer};
use sha2::{Digest, Sha256};

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The bodies of the page's `<script>` elements that have no `src`.
fn inline_scripts(html: &str) -> Vec<&str> {
    html.split("<script")
        .skip(1)
        .filter_map(|s| {
            let (tag, rest) = s.split_once('>')?;
            let (body, _) = rest.split_once("</script>")?;
            (!tag.contains("src=")).then_some(body)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_allow_only_their_own_scripts_and_nothing_may_frame_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let board = server.create_board().await;
    for path in ["/".to_owned(), format!("/b/{board}")] {
        let (status, headers, html) = http_with_headers(server.addr(), "GET", &path, "").await;
        assert_eq!(status, 200, "{path}: {html}");
        let csp = header(&headers, "content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP in {headers:?}"));
        let scripts = inline_scripts(&html);
        assert!(!scripts.is_empty(), "Trunk's loader is inline in {path}");
        for script in scripts {
            let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
            assert!(
                csp.contains(&format!("'sha256-{hash}'")),
                "{path}: inline script not allowed by {csp}:\n{script}"
            );
        }
        for directive in [
            "script-src 'self' 'wasm-unsafe-eval'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "connect-src 'self'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: {directive} missing in {csp}"
            );
        }
        let scripts = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src "))
            .unwrap();
        assert!(
            !scripts.contains("'unsafe-inline'") && !scripts.contains(" 'unsafe-eval'"),
            "{path}: scripts must not be allowed inline or by eval: {scripts}"
        );
    }

    // Every response, whatever it is, carries the common headers.
    let assets = ["/favicon.svg", "/healthz", "/api/boards/nope/export.md"];
    for path in assets {
        let (_, headers, _) = http_with_headers(server.addr(), "GET", path, "").await;
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            ("x-frame-options", "DENY"),
        ] {
            assert_eq!(header(&headers, name), Some(value), "{path}: {name}");
        }
    }
    server.stop().await;
}
