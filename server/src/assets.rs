//! The built web client: the copy embedded in the binary (see `build.rs`) or, with
//! `--assets DIR`, a directory on disk for development. Owns what the browser may cache:
//! Trunk puts a content hash in every file name it generates, so those are cached for a
//! year as immutable; everything else (`index.html` above all) is revalidated on every
//! use, so a new release is picked up at once.
//!
//! It serves files only; the routes that use it are in `app.rs`.

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeDir;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_assets.rs"));
}

/// For files whose name carries a content hash: a changed file has a new name.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For everything else: cached, but revalidated before each use.
const REVALIDATE: &str = "no-cache";

/// Where the client's files come from.
#[derive(Clone, Debug)]
pub enum Assets {
    /// Built into the binary; possibly empty if the client was not built first.
    Embedded,
    /// A directory such as Trunk's `dist`, read on every request.
    Dir(PathBuf),
}

impl Assets {
    /// The embedded client unless `dir` overrides it.
    pub fn new(dir: Option<PathBuf>) -> Assets {
        dir.map_or(Assets::Embedded, Assets::Dir)
    }

    /// Whether there is a client to serve; when not, pages answer 503.
    pub fn present(&self) -> bool {
        match self {
            Assets::Embedded => embedded_file("index.html").is_some(),
            Assets::Dir(dir) => dir.join("index.html").is_file(),
        }
    }

    /// Where the files come from, for logs and error messages.
    pub fn describe(&self) -> String {
        match self {
            Assets::Embedded => "the client built into this binary".into(),
            Assets::Dir(dir) => dir.display().to_string(),
        }
    }

    /// The client's `index.html`, which every page is.
    pub async fn index_html(&self) -> Option<Vec<u8>> {
        match self {
            Assets::Embedded => embedded_file("index.html").map(<[u8]>::to_vec),
            Assets::Dir(dir) => tokio::fs::read(dir.join("index.html")).await.ok(),
        }
    }

    /// Answers a request for a static file, with its content type and cache policy.
    pub async fn serve(&self, request: Request) -> Response {
        let path = request.uri().path().trim_start_matches('/').to_owned();
        let mut response = match self {
            Assets::Embedded => serve_embedded(request.method(), &path),
            Assets::Dir(dir) => match ServeDir::new(dir).oneshot(request).await {
                Ok(response) => response.map(Body::new),
                Err(infallible) => match infallible {},
            },
        };
        if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
            let policy = if is_hashed(&path) {
                IMMUTABLE
            } else {
                REVALIDATE
            };
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        }
        response
    }
}

fn embedded_file(name: &str) -> Option<&'static [u8]> {
    embedded::FILES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, bytes)| *bytes)
}

fn serve_embedded(method: &Method, path: &str) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    match embedded_file(path) {
        Some(bytes) => {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            (
                [(header::CONTENT_TYPE, mime.essence_str().to_owned())],
                bytes,
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// Whether a file name carries a Trunk content hash: `-`, then a 64-bit hash in hex
/// (16 digits, fewer when it has leading zeros), then `.` or `_`, as in
/// `hindsight-client-2924320a1e23fbe2_bg.wasm` or `style-818c13c49c7e9d04.css`. Fewer
/// than 12 digits are not taken for a hash: such a file is merely revalidated.
pub fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split('-').skip(1).any(|part| {
        let hex = part.bytes().take_while(u8::is_ascii_hexdigit).count();
        (12..=16).contains(&hex) && matches!(part.as_bytes().get(hex), Some(b'.' | b'_'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_trunk_hashed_names_are_immutable() {
        fn check(path: &str, hashed: bool) {
            assert_eq!(is_hashed(path), hashed, "{path}");
        }
        check("hindsight-client-2924320a1e23fbe2_bg.wasm", true);
        check("hindsight-client-2924320a1e23fbe2.js", true);
        check("hindsight-client-28574e418d2db24_bg.wasm", true);
        check("style-818c13c49c7e9d04.css", true);
        check("snippets/x-1/inline-0123456789abcdef.js", true);
        check("index.html", false);
        check("favicon.svg", false);
        check("my-file.js", false);
        check("a-0123456789a.js", false);
        check("a-0123456789abcdef0.js", false);
    }
}
