//! Security headers: a Content-Security-Policy for the client's pages, and the headers
//! every response carries (no MIME sniffing, no referrer, no framing).
//!
//! The policy allows scripts from this origin and, by hash, exactly the inline scripts
//! in the served `index.html` (Trunk writes its module loader inline), so a note whose
//! text smuggles markup into the page still cannot run anything. The hashes are computed
//! from the page being served, so a rebuilt client needs no configuration.

use axum::http::{header, HeaderValue};
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The policy for a page whose HTML is `html`.
///
/// - `script-src`: our files, the page's own inline scripts by hash, and compiling
///   WebAssembly (`'wasm-unsafe-eval'`; not `eval` of strings).
/// - `style-src-attr 'unsafe-inline'`: the page positions notes with `style`
///   attributes; style sheets themselves come only from this origin.
/// - `connect-src 'self'`: the API and, in CSP level 3 browsers (all current ones),
///   WebSockets to the same host (`ws:`/`wss:`).
/// - `frame-ancestors 'none'`: no other site may frame a board (clickjacking).
pub fn content_security_policy(html: &[u8]) -> String {
    let hashes: String = inline_scripts(html)
        .map(|script| {
            let digest = Sha256::digest(script);
            format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; \
         style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The bodies of the `<script>` elements without a `src`, exactly as the browser hashes
/// them (everything between the tags).
fn inline_scripts(html: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = html;
    std::iter::from_fn(move || loop {
        let start = find(rest, b"<script")?;
        let after_name = &rest[start + b"<script".len()..];
        let tag_end = find(after_name, b">")?;
        let tag = &after_name[..tag_end];
        let body = &after_name[tag_end + 1..];
        let close = find(body, b"</script>")?;
        rest = &body[close..];
        if find(&tag.to_ascii_lowercase(), b"src=").is_none() {
            return Some(&body[..close]);
        }
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Adds the headers every response carries.
pub async fn common_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // For browsers that predate `frame-ancestors`.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_external_ones_are_not() {
        let html = br#"<head><script type="module">run()</script>
            <script src="/a.js"></script><script>
  two
</script></head>"#;
        let found: Vec<&[u8]> = inline_scripts(html).collect();
        assert_eq!(found, [&b"run()"[..], b"\n  two\n"]);
        let csp = content_security_policy(html);
        // echo -n 'run()' | openssl dgst -sha256 -binary | base64
        assert!(
            csp.contains("'sha256-AvyuiL0SD1mVY3NNxR+V2uo+lhk6RMFrytWmRt6CrJQ='"),
            "{csp}"
        );
        assert_eq!(csp.matches("'sha256-").count(), 2, "{csp}");
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains(" 'unsafe-eval'"));
    }
}
