//! Guest networking, the host's side: requests, responses, result codes.
//!
//! Bacalhau's WASM executor gives guests outbound HTTP through one host
//! function, `wasi:http/requests.http_request`, registered only when the
//! task's network is enabled. brine provides the same function with the same
//! ABI and result codes, so modules written for Bacalhau run unchanged:
//! - [`crate::wasi_http`]: the import itself: reads the request from guest
//!   memory, writes the response back, maps every outcome to a result code;
//! - [`policy`]: which hosts and addresses a job may reach (`Task.Network`);
//! - `client`: performs a request for the real host (redirects followed by
//!   hand, each hop checked against the policy); only with the `http` cargo
//!   feature: without it the real host makes no requests and a run has no
//!   network (a job's module importing the function is refused by the checks).
//!
//! The request itself goes through the [`crate::host::Host`] boundary
//! ([`crate::host::Host::http_request`]), so a recording host journals every
//! request and response and a replaying host serves them back without a network.

#[cfg(feature = "http")]
pub mod client;
pub mod policy;

pub use policy::Policy;

use crate::host::answers::Record;
use crate::host::journal::{from_hex, Answer};
use crate::text::hex;
use serde::{Deserialize, Serialize};

/// The result codes of `http_request`, as Bacalhau defines them.
pub mod codes {
    /// The request was made and its response written.
    pub const SUCCESS: u32 = 0;
    /// The URL is unreadable or not an absolute `http`/`https` URL.
    pub const INVALID_URL: u32 = 1;
    /// Connecting, sending or receiving failed.
    pub const NETWORK_ERROR: u32 = 2;
    /// The request took too long.
    pub const TIMEOUT: u32 = 3;
    /// The network policy does not allow the host (or a redirect's host, or its address).
    pub const NOT_ALLOWED: u32 = 4;
    /// The response body is larger than the cap.
    pub const TOO_LARGE: u32 = 5;
    /// A response pointer is 0, or the request's headers, body or method are bad.
    pub const BAD_INPUT: u32 = 6;
    /// A length cell or an output range lies outside guest memory.
    pub const MEMORY_ERROR: u32 = 7;
}

/// An HTTP method, numbered as the ABI numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// 0.
    Get,
    /// 1.
    Post,
    /// 2.
    Put,
    /// 3.
    Delete,
    /// 4.
    Head,
    /// 5.
    Options,
    /// 6.
    Patch,
}

impl Method {
    /// The method with ABI number `code`.
    pub fn from_code(code: u32) -> Option<Self> {
        const ALL: [Method; 7] = [
            Method::Get,
            Method::Post,
            Method::Put,
            Method::Delete,
            Method::Head,
            Method::Options,
            Method::Patch,
        ];
        ALL.get(usize::try_from(code).ok()?).copied()
    }

    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
            Method::Patch => "PATCH",
        }
    }
}

/// Whether HTTP allows `name: value` as a header line: the name a token
/// (RFC 9110: letters, digits and ``!#$%&'*+-.^_`|~``), the value visible
/// ASCII, spaces and tabs (what the `http` crate accepts). Checked here, not by
/// the client, so the minimal build's guest ABI behaves the same.
pub fn valid_header(name: &str, value: &str) -> bool {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    let visible = |b: u8| (b' '..0x7f).contains(&b) || b == b'\t';
    !name.is_empty() && name.bytes().all(token) && value.bytes().all(visible)
}

/// A request as the guest made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The URL, as the guest wrote it.
    pub url: String,
    /// Request headers, in the guest's order.
    pub headers: Vec<(String, String)>,
    /// The request body (empty: none).
    pub body: Vec<u8>,
    /// The most response body bytes to read; more is [`HttpError::TooLarge`].
    pub max_body: u64,
}

impl HttpRequest {
    /// The request as a journal records (and a replay compares) it.
    pub fn journal_args(&self) -> String {
        format!(
            "{} {} {:?} body={} max_body={}",
            self.method.as_str(),
            self.url,
            self.headers,
            hex(&self.body),
            self.max_body
        )
    }
}

/// A response, as it is handed to the guest (before truncation to its buffers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Response headers, names canonicalized (`Content-Type`), in the server's order.
    pub headers: Vec<(String, String)>,
    /// The response body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The headers as the guest receives them: `Key: Value` lines joined by `\n`.
    pub fn header_text(&self) -> String {
        let lines: Vec<String> = self
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        lines.join("\n")
    }
}

/// Why a request produced no response; each maps to an ABI result code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The URL is not an absolute `http`/`https` URL with a host (code 1).
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// Connecting, sending or receiving failed (code 2).
    #[error("network error: {0}")]
    Network(String),
    /// The request took longer than its limit (code 3).
    #[error("timeout: {0}")]
    Timeout(String),
    /// The policy does not allow the host or its address (code 4).
    #[error("host not allowed: {0}")]
    NotAllowed(String),
    /// The response body is larger than the guest may receive (code 5).
    #[error("response too large: {0}")]
    TooLarge(String),
}

impl HttpError {
    /// The ABI result code.
    pub fn code(&self) -> u32 {
        match self {
            HttpError::InvalidUrl(_) => codes::INVALID_URL,
            HttpError::Network(_) => codes::NETWORK_ERROR,
            HttpError::Timeout(_) => codes::TIMEOUT,
            HttpError::NotAllowed(_) => codes::NOT_ALLOWED,
            HttpError::TooLarge(_) => codes::TOO_LARGE,
        }
    }

    /// The error with result code `code` and `message`.
    pub fn from_code(code: u32, message: String) -> Option<Self> {
        Some(match code {
            codes::INVALID_URL => HttpError::InvalidUrl(message),
            codes::NETWORK_ERROR => HttpError::Network(message),
            codes::TIMEOUT => HttpError::Timeout(message),
            codes::NOT_ALLOWED => HttpError::NotAllowed(message),
            codes::TOO_LARGE => HttpError::TooLarge(message),
            _ => return None,
        })
    }

    /// The message without the kind.
    pub fn message(&self) -> &str {
        match self {
            HttpError::InvalidUrl(m)
            | HttpError::Network(m)
            | HttpError::Timeout(m)
            | HttpError::NotAllowed(m)
            | HttpError::TooLarge(m) => m,
        }
    }
}

/// The outcome of a request, as a host answers it.
pub type HttpResult = Result<HttpResponse, HttpError>;

/// How a journal stores an [`HttpResult`] (bodies in hex).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stored {
    Response {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    Error {
        code: u32,
        message: String,
    },
}

impl Record for HttpResult {
    fn to_answer(&self) -> Answer {
        let stored = match self {
            Ok(r) => Stored::Response {
                status: r.status,
                headers: r.headers.clone(),
                body: hex(&r.body),
            },
            Err(e) => Stored::Error {
                code: e.code(),
                message: e.message().to_string(),
            },
        };
        serde_json::to_value(stored).map_or(Answer::Done, Answer::Value)
    }

    fn from_answer(answer: &Answer) -> Option<Self> {
        let Answer::Value(value) = answer else {
            return None;
        };
        match serde_json::from_value(value.clone()).ok()? {
            Stored::Response {
                status,
                headers,
                body,
            } => Some(Ok(HttpResponse {
                status,
                headers,
                body: from_hex(&body)?,
            })),
            Stored::Error { code, message } => Some(Err(HttpError::from_code(code, message)?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_numbered_as_in_bacalhau() {
        let names: Vec<_> = (0..7)
            .map(|c| Method::from_code(c).unwrap().as_str())
            .collect();
        assert_eq!(
            names,
            ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]
        );
        assert_eq!(Method::from_code(7), None);
        assert_eq!(Method::from_code(u32::MAX), None);
    }

    #[test]
    fn results_round_trip_through_the_journal() {
        let ok: HttpResult = Ok(HttpResponse {
            status: 200,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: b"hi\0".to_vec(),
        });
        assert_eq!(HttpResult::from_answer(&ok.to_answer()), Some(ok));
        let err: HttpResult = Err(HttpError::NotAllowed("x".into()));
        assert_eq!(HttpResult::from_answer(&err.to_answer()), Some(err));
        assert_eq!(HttpResult::from_answer(&Answer::Number(1)), None);
    }

    #[test]
    fn header_syntax_is_http_s() {
        assert!(valid_header("X-Trace_Id", "a b\tc/1"));
        assert!(valid_header("Accept", ""));
        for (name, value) in [("", "x"), ("A B", "x"), ("A:", "x"), ("Ä", "x")] {
            assert!(!valid_header(name, value), "{name:?}");
        }
        for value in ["a\rb", "a\nb", "\u{7f}", "\0", "é"] {
            assert!(!valid_header("A", value), "{value:?}");
        }
    }

    #[test]
    fn headers_are_lines() {
        let r = HttpResponse {
            status: 200,
            headers: vec![("A".into(), "1".into()), ("B".into(), "2".into())],
            body: Vec::new(),
        };
        assert_eq!(r.header_text(), "A: 1\nB: 2");
    }
}
