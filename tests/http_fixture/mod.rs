//! The one HTTP/1.1 test server: 127.0.0.1:0, for download and guest-network
//! tests, with faults on demand: a body cut short (the connection closed, or
//! reset with RST) after some bytes, a body trickled a byte at a time, a reply
//! that is not HTTP, any status, any headers. It records every request it saw
//! (with its body), so a test can assert what brine asked for (a `Range`, an
//! `If-None-Match`, a guest's headers).
//!
//! One thread accepts; each connection gets a thread, answers one request and
//! closes (`Connection: close`), so every attempt brine makes is a new request.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, ...
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body, as long as its Content-Length says.
    pub body: Vec<u8>,
}

impl Request {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The query, if any.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// The start offset of a `Range: bytes=N-` header.
    pub fn range_start(&self) -> Option<usize> {
        let value = self.header("range")?;
        let start = value.strip_prefix("bytes=")?.strip_suffix('-')?;
        start.parse().ok()
    }
}

/// How the body is cut short, if at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The whole body is sent.
    None,
    /// After this many body bytes the server closes the connection (FIN).
    CloseAfter(usize),
    /// After this many body bytes the server resets the connection (RST).
    ResetAfter(usize),
    /// After this many body bytes the server goes silent for this long, then closes.
    StallAfter(usize, Duration),
    /// The body is sent one byte at a time, this long apart.
    Trickle(Duration),
    /// Instead of the reply the server sends a line that is not HTTP.
    NotHttp,
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Headers besides Content-Length and Connection.
    pub headers: Vec<(String, String)>,
    /// The body (Content-Length announces all of it, whatever the fault).
    pub body: Vec<u8>,
    /// How the body is cut short.
    pub fault: Fault,
}

impl Reply {
    /// A 200 with `body`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: body.into(),
            fault: Fault::None,
        }
    }

    /// A reply with `status` and an empty body.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            fault: Fault::None,
        }
    }

    /// A redirect to `location`.
    pub fn redirect(location: &str) -> Reply {
        Reply::status(302).header("Location", location)
    }

    /// `body` served the way a range-capable server does: the whole of it
    /// (with `Accept-Ranges: bytes`), or from `Range: bytes=N-` with a 206.
    pub fn ranged(request: &Request, body: &[u8]) -> Reply {
        match request.range_start() {
            Some(start) if start < body.len() => Reply {
                status: 206,
                headers: vec![(
                    "Content-Range".into(),
                    format!("bytes {start}-{}/{}", body.len() - 1, body.len()),
                )],
                body: body[start..].to_vec(),
                fault: Fault::None,
            },
            _ => Reply::ok(body.to_vec()),
        }
        .header("Accept-Ranges", "bytes")
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Cuts the body short.
    pub fn fault(mut self, fault: Fault) -> Reply {
        self.fault = fault;
        self
    }
}

type Handler = dyn Fn(&Request, usize) -> Reply + Send + Sync;

/// A running server; it lives until the test process ends.
pub struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Starts a server; `handler` gets each request and how many requests for
    /// the same path came before it.
    pub fn start(handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (handler, log) = (Arc::clone(&handler), Arc::clone(&log));
                std::thread::spawn(move || serve(stream, &*handler, &log));
            }
        });
        Server { addr, seen }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://localhost:PORT{path}`: the same server under a name.
    pub fn localhost_url(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.port())
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }

    /// The target (path and query) of every request so far, in arrival order.
    pub fn targets(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.target).collect()
    }
}

/// `http://127.0.0.1:PORT` of an endpoint that accepts connections and never answers.
pub fn silent_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    url
}

/// A loopback port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// Answers one request on `stream`.
fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>) {
    // A client that stops mid-request must not hold the thread forever.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_request(&stream) else {
        return;
    };
    let earlier = {
        let mut log = log.lock().unwrap();
        let n = log.iter().filter(|r| r.path() == request.path()).count();
        log.push(request.clone());
        n
    };
    let reply = handler(&request, earlier);
    let _ = write_reply(stream, &reply, request.method == "HEAD");
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// Writes `reply` (its head only for a HEAD request), cut short by its fault.
fn write_reply(mut stream: TcpStream, reply: &Reply, head_only: bool) -> std::io::Result<()> {
    if reply.fault == Fault::NotHttp {
        return stream.write_all(b"this is not http\r\n\r\n");
    }
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if reply.status != 304 {
        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    if head_only {
        return stream.flush();
    }
    if let Fault::Trickle(pause) = reply.fault {
        return trickle(&mut stream, &reply.body, pause);
    }
    let sent = match reply.fault {
        Fault::CloseAfter(n) | Fault::ResetAfter(n) | Fault::StallAfter(n, _) => {
            n.min(reply.body.len())
        }
        _ => reply.body.len(),
    };
    stream.write_all(&reply.body[..sent])?;
    stream.flush()?;
    match reply.fault {
        Fault::ResetAfter(_) => {
            // Let the client read what was sent, then abort: SO_LINGER 0 makes close send RST.
            std::thread::sleep(Duration::from_millis(100));
            socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
        }
        Fault::CloseAfter(_) => stream.shutdown(std::net::Shutdown::Write)?,
        Fault::StallAfter(_, pause) => std::thread::sleep(pause),
        _ => {}
    }
    Ok(())
}

/// Sends `body` a byte at a time, `pause` apart, until it is all sent or the client leaves.
fn trickle(stream: &mut TcpStream, body: &[u8], pause: Duration) -> std::io::Result<()> {
    for byte in body {
        stream.write_all(std::slice::from_ref(byte))?;
        stream.flush()?;
        std::thread::sleep(pause);
    }
    Ok(())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        304 => "Not Modified",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}
