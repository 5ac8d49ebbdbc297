//! `wasi:http/requests.http_request`: the import, with Bacalhau's ABI.
//!
//! ```text
//! http_request(method, url_ptr, url_len, headers_ptr, headers_len, body_ptr, body_len,
//!              response_headers_ptr, response_headers_len_ptr,
//!              response_body_ptr, response_body_len_ptr, status_ptr) -> result   (all i32)
//! ```
//! - `method`: 0 GET, 1 POST, 2 PUT, 3 DELETE, 4 HEAD, 5 OPTIONS, 6 PATCH.
//! - Request headers are `Key: Value` lines separated by `\n` (blank lines and
//!   lines without `:` are skipped; `Host`, `Content-Length`,
//!   `Transfer-Encoding` and `Trailer` are ignored, as Go's client ignores
//!   them). The body is raw bytes; `ptr` 0 or `len` 0 means none.
//! - The two `*_len_ptr` cells hold the guest's buffer capacity on entry and
//!   the length written on return. Headers (`Key: Value` lines joined by `\n`)
//!   and body are truncated to the buffers. The HTTP status is written to
//!   `status_ptr` unless it is 0. Nothing is written unless the result is 0.
//! - The body read is capped at min(100 MiB, 80% of the guest's current
//!   memory), at least 64 KiB; a longer body is result 5.
//!
//! Results: 0 success, 1 invalid URL (not an absolute http/https URL, or
//! unreadable), 2 network error, 3 timeout, 4 host not allowed, 5 too large,
//! 6 bad input (a response pointer is 0; unreadable or malformed headers or
//! body; an unknown method), 7 memory error (a length cell or an output range
//! out of bounds).

use crate::host::net::codes::*;
use crate::host::net::{HttpRequest, HttpResponse, Method};
use crate::wasi::{mem, DeadlineExceeded, WasiCtx, WasiView};
use wasmi::{Caller, Extern, Linker};

/// The import module name Bacalhau registers the function under.
pub const MODULE: &str = "wasi:http/requests";
/// The function's name in [`MODULE`].
pub const FUNCTION: &str = "http_request";

/// The largest response body a guest may receive (Bacalhau: 100 MiB).
pub const MAX_RESPONSE: u64 = 100 << 20;
/// The cap never goes below this, however small the guest's memory (64 KiB).
pub const MIN_RESPONSE: u64 = 64 << 10;

/// Headers Go's client takes from the request itself, never from the header list.
const IGNORED_HEADERS: [&str; 4] = ["host", "content-length", "transfer-encoding", "trailer"];

/// The guest's arguments: pointers and lengths into its memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Args {
    /// The method number.
    pub method: u32,
    /// URL (pointer, length).
    pub url: (u32, u32),
    /// Request headers (pointer, length).
    pub headers: (u32, u32),
    /// Request body (pointer, length).
    pub body: (u32, u32),
    /// Response headers buffer (pointer, pointer to its length cell).
    pub response_headers: (u32, u32),
    /// Response body buffer (pointer, pointer to its length cell).
    pub response_body: (u32, u32),
    /// Where the HTTP status goes (0: nowhere).
    pub status: u32,
}

/// Defines `wasi:http/requests.http_request` in `linker`.
pub fn add_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> Result<(), wasmi::Error> {
    linker.func_wrap(
        MODULE,
        FUNCTION,
        |mut caller: Caller<'_, T>,
         method: i32,
         url_ptr: i32,
         url_len: i32,
         headers_ptr: i32,
         headers_len: i32,
         body_ptr: i32,
         body_len: i32,
         response_headers_ptr: i32,
         response_headers_len_ptr: i32,
         response_body_ptr: i32,
         response_body_len_ptr: i32,
         status_ptr: i32| {
            let args = Args {
                method: method as u32,
                url: (url_ptr as u32, url_len as u32),
                headers: (headers_ptr as u32, headers_len as u32),
                body: (body_ptr as u32, body_len as u32),
                response_headers: (response_headers_ptr as u32, response_headers_len_ptr as u32),
                response_body: (response_body_ptr as u32, response_body_len_ptr as u32),
                status: status_ptr as u32,
            };
            call(&mut caller, &args)
        },
    )?;
    Ok(())
}

/// Runs the request against the caller's exported `memory`; stops the run
/// when its deadline passed during the request.
fn call<T: WasiView>(caller: &mut Caller<'_, T>, args: &Args) -> Result<i32, wasmi::Error> {
    let memory = caller
        .get_export("memory")
        .and_then(Extern::into_memory)
        .ok_or_else(|| {
            wasmi::Error::new(format!(
                "{MODULE}.{FUNCTION} was called by a module that exports no `memory`"
            ))
        })?;
    let (mem, data) = memory.data_and_store_mut(&mut *caller);
    let ctx = data.wasi();
    let result = http_request(ctx, mem, args);
    if ctx.deadline_passed() {
        return Err(wasmi::Error::host(DeadlineExceeded));
    }
    Ok(result as i32)
}

/// The function's body: reads the request, asks the host, writes the response.
/// Returns the result code.
pub fn http_request(ctx: &mut WasiCtx, mem: &mut [u8], args: &Args) -> u32 {
    match exchange(ctx, mem, args) {
        Ok(()) => SUCCESS,
        Err(code) => code,
    }
}

fn exchange(ctx: &mut WasiCtx, mem: &mut [u8], args: &Args) -> Result<(), u32> {
    let outputs = [
        args.response_headers.0,
        args.response_headers.1,
        args.response_body.0,
        args.response_body.1,
    ];
    if outputs.contains(&0) {
        return Err(BAD_INPUT);
    }
    let request = read_request(mem, args)?;
    let capacities = (
        mem::read_u32(mem, args.response_headers.1).map_err(|_| MEMORY_ERROR)?,
        mem::read_u32(mem, args.response_body.1).map_err(|_| MEMORY_ERROR)?,
    );
    let response = ctx.host.http_request(&request).map_err(|e| e.code())?;
    write_response(mem, args, capacities, &response)
}

/// The request the guest describes.
fn read_request(mem: &[u8], args: &Args) -> Result<HttpRequest, u32> {
    let url = mem::read_str(mem, args.url.0, args.url.1).map_err(|_| INVALID_URL)?;
    let headers = match optional(mem, args.headers)? {
        Some(bytes) => parse_headers(bytes)?,
        None => Vec::new(),
    };
    let body = optional(mem, args.body)?.unwrap_or_default().to_vec();
    Ok(HttpRequest {
        method: Method::from_code(args.method).ok_or(BAD_INPUT)?,
        url: url.to_string(),
        headers,
        body,
        max_body: response_cap(mem.len()),
    })
}

/// The guest bytes at (pointer, length), `None` when either is 0.
fn optional(mem: &[u8], (ptr, len): (u32, u32)) -> Result<Option<&[u8]>, u32> {
    if ptr == 0 || len == 0 {
        return Ok(None);
    }
    mem::slice(mem, ptr, len).map(Some).map_err(|_| BAD_INPUT)
}

/// `Key: Value` lines; blank lines and lines without `:` are skipped, names
/// and values are trimmed. A name or value HTTP does not allow is bad input.
pub fn parse_headers(bytes: &[u8]) -> Result<Vec<(String, String)>, u32> {
    let text = std::str::from_utf8(bytes).map_err(|_| BAD_INPUT)?;
    let mut headers = Vec::new();
    for line in text.split('\n') {
        let Some((name, value)) = line.trim().split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if !crate::host::net::valid_header(name, value) {
            return Err(BAD_INPUT);
        }
        if !IGNORED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            headers.push((name.to_string(), value.to_string()));
        }
    }
    Ok(headers)
}

/// The body cap for a guest whose memory is `memory_len` bytes:
/// 80% of it, at most [`MAX_RESPONSE`], at least [`MIN_RESPONSE`].
pub fn response_cap(memory_len: usize) -> u64 {
    let share = (memory_len as u64).saturating_mul(4) / 5;
    share.clamp(MIN_RESPONSE, MAX_RESPONSE)
}

/// Writes status, lengths, headers and body, after checking every range
/// (so a memory error leaves guest memory untouched).
fn write_response(
    mem: &mut [u8],
    args: &Args,
    (header_cap, body_cap): (u32, u32),
    response: &HttpResponse,
) -> Result<(), u32> {
    let text = response.header_text();
    let headers = truncated(text.as_bytes(), header_cap);
    let body = truncated(&response.body, body_cap);
    let fault = |_| MEMORY_ERROR;
    if args.status != 0 {
        mem::range(mem, args.status, 4).map_err(fault)?;
    }
    mem::range(mem, args.response_headers.0, len32(headers)).map_err(fault)?;
    mem::range(mem, args.response_body.0, len32(body)).map_err(fault)?;
    if args.status != 0 {
        mem::write_u32(mem, args.status, u32::from(response.status)).map_err(fault)?;
    }
    mem::write_u32(mem, args.response_headers.1, len32(headers)).map_err(fault)?;
    mem::write_u32(mem, args.response_body.1, len32(body)).map_err(fault)?;
    mem::write_bytes(mem, args.response_headers.0, headers).map_err(fault)?;
    mem::write_bytes(mem, args.response_body.0, body).map_err(fault)
}

/// At most the first `cap` bytes.
fn truncated(bytes: &[u8], cap: u32) -> &[u8] {
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    bytes.get(..cap).unwrap_or(bytes)
}

/// A length known to be at most a `u32` capacity.
fn len32(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.len()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_follows_memory_within_bounds() {
        assert_eq!(response_cap(0), MIN_RESPONSE);
        assert_eq!(response_cap(65_536), MIN_RESPONSE);
        assert_eq!(response_cap(10 << 20), 8 << 20);
        assert_eq!(response_cap(4 << 30), MAX_RESPONSE);
    }

    #[test]
    fn headers_parse_like_bacalhau() {
        let parsed = parse_headers(b" X-A : 1 \n\nnocolon\r\nX-B: a:b\r\nHost: evil\n").unwrap();
        assert_eq!(
            parsed,
            vec![
                ("X-A".to_string(), "1".to_string()),
                ("X-B".to_string(), "a:b".to_string())
            ]
        );
        assert_eq!(parse_headers(b"Bad Name: x"), Err(BAD_INPUT));
        assert_eq!(parse_headers(b"X: \x01"), Err(BAD_INPUT));
        assert_eq!(parse_headers(b"X: \xff"), Err(BAD_INPUT));
    }

    #[test]
    fn truncation_keeps_the_head() {
        assert_eq!(truncated(b"hello", 3), b"hel");
        assert_eq!(truncated(b"hello", 10), b"hello");
        assert_eq!(truncated(b"hello", 0), b"");
    }

    fn response() -> HttpResponse {
        HttpResponse {
            status: 201,
            headers: vec![("A".into(), "1".into())],
            body: b"body".to_vec(),
        }
    }

    #[test]
    fn responses_are_written_with_lengths_and_status() {
        let mut mem = vec![0u8; 256];
        mem[8..12].copy_from_slice(&3u32.to_le_bytes());
        mem[12..16].copy_from_slice(&100u32.to_le_bytes());
        let args = Args {
            response_headers: (32, 8),
            response_body: (64, 12),
            status: 16,
            ..Args::default()
        };
        let caps = (3, 100);
        assert_eq!(write_response(&mut mem, &args, caps, &response()), Ok(()));
        assert_eq!(mem::read_u32(&mem, 16), Ok(201));
        assert_eq!(mem::read_u32(&mem, 8), Ok(3));
        assert_eq!(mem::read_u32(&mem, 12), Ok(4));
        assert_eq!(&mem[32..35], b"A: ");
        assert_eq!(&mem[64..68], b"body");
    }

    #[test]
    fn out_of_bounds_outputs_write_nothing() {
        let mut mem = vec![0u8; 64];
        let args = Args {
            response_headers: (32, 8),
            response_body: (62, 12),
            status: 16,
            ..Args::default()
        };
        let before = mem.clone();
        let result = write_response(&mut mem, &args, (100, 100), &response());
        assert_eq!(result, Err(MEMORY_ERROR));
        assert_eq!(mem, before);
    }
}
