//! HTTP requests to a server on loopback, through hyper's client: one fresh connection per
//! request, closed after the answer, as a browser's first visit would be. The tests use
//! it for the board API and the headers of pages and files; the benchmark uses it to
//! create boards.

use std::net::SocketAddr;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::DEADLINE;

/// An answer: its status, its headers (names in lowercase, in the order received) and its
/// body, with any chunked transfer coding undone (a content coding such as gzip is kept).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of the header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `method path` to `addr` with the extra request `headers` and `body`, labelled
/// JSON, and returns the whole answer. The `Host` header is `addr` unless `headers` name
/// another. Fails after [`DEADLINE`].
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Reply, String> {
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build_http::<Full<Bytes>>();
    let host = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("host"))
        .map_or_else(|| addr.to_string(), |(_, value)| (*value).to_owned());
    let mut request = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("host", host)
        .header("connection", "close")
        .header("content-type", "application/json");
    for (name, value) in headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
    {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| format!("{method} http://{addr}{path}: {e}"))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes());
                (name.as_str().to_owned(), value.trim().to_owned())
            })
            .collect();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{method} {path}: reading the body: {e}"))?
            .to_bytes()
            .to_vec();
        Ok(Reply {
            status,
            headers,
            body,
        })
    };
    tokio::time::timeout(DEADLINE, exchange)
        .await
        .map_err(|_| format!("{method} http://{addr}{path}: no answer within {DEADLINE:?}"))?
}

/// Like [`send`], for tests: panics on a failed request.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    send(addr, method, path, headers, body)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `GET path` with the extra request `headers`.
pub async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    request(addr, "GET", path, headers, "").await
}

/// A request with a JSON `body` (or none); the status code and the body as text.
pub async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let reply = request(addr, method, path, &[], body).await;
    (reply.status, reply.text())
}

/// Like [`http`], and also the response headers, names in lowercase.
pub async fn http_with_headers(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let reply = request(addr, method, path, &[], body).await;
    let text = reply.text();
    (reply.status, reply.headers, text)
}
