//! Guest networking: Bacalhau's `wasi:http/requests.http_request` against a
//! loopback HTTP server these tests start, through `brine wasm run`, `brine
//! run` jobs, record/replay and the library.
//!
//! Fixtures: `net/http_get.wasm` (the C twin of Bacalhau's TinyGo HTTP test:
//! prints `Status Code: N` and the body, or `Error making request: host not
//! allowed`), `net/http_probe.wasm` (passes any arguments, prints the result
//! code, status and lengths) and `net/http_status.wat` (one page of memory,
//! exits with the result code).

mod common;
mod http_fixture;

use common::*;
use http_fixture::{closed_port, Fault, Reply, Request, Server};
use std::path::{Path, PathBuf};
use std::time::Duration;

const GET: &str = "fixtures/net/http_get.wasm";
const PROBE: &str = "fixtures/net/http_probe.wasm";
const STATUS: &str = "fixtures/net/http_status.wat";

/// The test server with this file's routes.
fn start_server() -> Server {
    Server::start(|request, _| route(request))
}

/// The routes the guests call: `/hello`, `/echo`, `/bytes/N`, `/status/N`,
/// `/headers`, `/redirect/CODE?to=URL`, `/chain/N`, `/slow` (5 s), `/garbage`.
fn route(request: &Request) -> Reply {
    let path = request.path();
    let text = |s: &str| Reply::ok(s).header("Content-Type", "text/plain");
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["hello"] => text("hello from loopback"),
        ["echo"] => Reply::ok(echo(request)).header("X-Echo-Method", &request.method),
        ["bytes", n] => {
            Reply::ok(vec![b'x'; n.parse().unwrap_or(0)]).header("Content-Type", "text/plain")
        }
        ["status", n] => Reply {
            status: n.parse().unwrap_or(500),
            ..text(&format!("status {n}"))
        },
        ["headers"] => Reply::ok("h").header("X-One", "1").header("X-Two", "2"),
        ["redirect", code] => {
            let to = request.query().and_then(|q| q.strip_prefix("to="));
            Reply::status(code.parse().unwrap_or(302)).header("Location", to.unwrap_or("/hello"))
        }
        ["chain", n] => match n.parse::<u32>().unwrap_or(0) {
            0 => text("end of chain"),
            n => Reply::redirect(&format!("/chain/{}", n - 1)),
        },
        ["slow"] => {
            std::thread::sleep(Duration::from_secs(5));
            text("slow")
        }
        ["garbage"] => Reply::ok("").fault(Fault::NotHttp),
        _ => Reply {
            status: 404,
            ..text(&format!("no route for {path}"))
        },
    }
}

/// `METHOD /path`, each header as `name: value`, a blank line, the body.
fn echo(request: &Request) -> Vec<u8> {
    let mut out = format!("{} {}\n", request.method, request.target);
    for (name, value) in &request.headers {
        out.push_str(&format!("{name}: {value}\n"));
    }
    out.push('\n');
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&request.body);
    bytes
}

/// `http_probe` output: `result=R status=S headers_len=H body_len=B`, headers, body.
struct Probe {
    result: u32,
    status: u32,
    headers_len: u32,
    body_len: u32,
    headers: String,
    body: String,
}

impl Probe {
    /// Asserts a completed request (result 0) answered with `status` and `body`.
    #[track_caller]
    fn assert_reply(&self, status: u32, body: &str) {
        assert_eq!((self.result, self.status), (0, status));
        assert_eq!(self.body, body);
    }
}

fn probe(net: &[&str], args: &[&str]) -> Probe {
    let mut all: Vec<&str> = net.to_vec();
    all.push(PROBE);
    all.extend_from_slice(args);
    let out = wasm_run(&all);
    assert_code(&out, 0);
    assert_no_panic(&out);
    parse_probe(&stdout(&out))
}

fn parse_probe(text: &str) -> Probe {
    let (first, rest) = text.split_once('\n').expect("a result line");
    let field = |name: &str| -> u32 {
        first
            .split_whitespace()
            .find_map(|f| f.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {first:?}"))
    };
    let rest = rest.strip_prefix("--- headers\n").expect("headers section");
    let (headers, body) = rest.split_once("\n--- body\n").expect("body section");
    Probe {
        result: field("result"),
        status: field("status"),
        headers_len: field("headers_len"),
        body_len: field("body_len"),
        headers: headers.to_string(),
        body: body.strip_suffix('\n').unwrap_or(body).to_string(),
    }
}

const FULL: &[&str] = &["--network", "full"];

// ---- the acceptance cases: Bacalhau's HTTP test module, as brine wasm run ----

#[test]
fn a_get_with_full_network_prints_status_200_and_the_body() {
    let server = start_server();
    let out = wasm_run(["--network", "full", GET, &server.url("/hello")]);
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("Status Code: 200\n"), "{}", describe(&out));
    assert!(text.contains("Content-Type: text/plain\n"), "{text}");
    assert!(text.contains("\nBody:\nhello from loopback\n"), "{text}");
    assert_eq!(server.targets(), ["/hello"]);
}

#[test]
fn an_allow_list_without_the_host_reports_host_not_allowed() {
    let server = start_server();
    let out = wasm_run(["--allow-host", "other.example", GET, &server.url("/hello")]);
    assert_stdout_has(&out, 1, "Error making request: host not allowed\n");
    assert!(server.requests().is_empty(), "the request must not be sent");
}

#[test]
fn without_network_a_module_importing_http_does_not_instantiate() {
    let out = wasm_run([GET, "http://127.0.0.1:1/"]);
    assert_code(&out, EXIT_USAGE);
    let err = stderr(&out);
    assert!(err.contains("`wasi:http/requests`.`http_request`"), "{err}");
    assert!(err.contains("network is disabled"), "{err}");
    assert!(stdout(&out).is_empty(), "nothing ran: {}", describe(&out));
    let out = wasm_run(["--network", "none", GET, "http://127.0.0.1:1/"]);
    assert_code(&out, EXIT_USAGE);
}

// ---- the policy ----

#[test]
fn allow_list_patterns_match_hosts_ignoring_ports_and_case() {
    let server = start_server();
    for pattern in ["127.0.0.1", "127.0.0.*", "*.0.0.1", "127.0.0.1:9", "*"] {
        let out = wasm_run(["--allow-host", pattern, GET, &server.url("/hello")]);
        assert_code(&out, 0);
        assert!(stdout(&out).contains("Status Code: 200"), "{pattern}");
    }
    let out = wasm_run([
        "--allow-host",
        "LocalHost",
        GET,
        &server.localhost_url("/hello"),
    ]);
    assert!(
        stdout(&out).contains("Status Code: 200"),
        "{}",
        describe(&out)
    );
    for pattern in ["128.0.0.1", "*.example.com", "localhost"] {
        let out = wasm_run(["--allow-host", pattern, GET, &server.url("/hello")]);
        assert!(stdout(&out).contains("host not allowed"), "{pattern}");
    }
    let out = wasm_run([
        "--allow-host",
        "other.example",
        "--allow-host",
        "127.0.0.1",
        GET,
        &server.url("/hello"),
    ]);
    assert!(stdout(&out).contains("Status Code: 200"), "repeatable");
}

#[test]
fn allow_host_and_network_conflict() {
    let out = wasm_run(["--network", "full", "--allow-host", "x", GET]);
    assert_stderr_has(&out, EXIT_USAGE, "cannot be used with");
}

#[test]
fn redirects_are_followed_only_to_allowed_hosts() {
    let server = start_server();
    let to_localhost = server.url(&format!(
        "/redirect/302?to={}",
        server.localhost_url("/hello")
    ));
    let only_ip = ["--allow-host", "127.0.0.1"];
    let p = probe(&only_ip, &["GET", &to_localhost]);
    assert_eq!(p.result, 4, "a redirect to a host outside the allow-list");
    assert_eq!(server.targets().len(), 1, "{:?}", server.targets());
    let both = ["--allow-host", "127.0.0.1", "--allow-host", "localhost"];
    let p = probe(&both, &["GET", &to_localhost]);
    p.assert_reply(200, "hello from loopback");
    let p = probe(FULL, &["GET", &to_localhost]);
    assert_eq!((p.result, p.status), (0, 200));
}

#[test]
fn redirect_chains_stop_after_ten() {
    let server = start_server();
    let p = probe(FULL, &["GET", &server.url("/chain/10")]);
    p.assert_reply(200, "end of chain");
    let p = probe(FULL, &["GET", &server.url("/chain/11")]);
    assert_eq!(p.result, 2, "eleven redirects are a network error");
}

#[test]
fn redirects_change_methods_like_go() {
    let server = start_server();
    let post = |code: &str| {
        let url = server.url(&format!("/redirect/{code}?to=/echo"));
        probe(FULL, &["POST", &url, "-d", "payload"])
    };
    for code in ["301", "302", "303"] {
        let p = post(code);
        assert_eq!(p.result, 0);
        assert!(p.body.starts_with("GET /echo\n"), "{code}: {}", p.body);
        assert!(!p.body.ends_with("payload"), "{code}: the body is dropped");
    }
    for code in ["307", "308"] {
        let p = post(code);
        assert!(p.body.starts_with("POST /echo\n"), "{code}: {}", p.body);
        assert!(p.body.ends_with("\n\npayload"), "{code}: {}", p.body);
    }
    let url = server.url("/redirect/302?to=/echo");
    let p = probe(FULL, &["HEAD", &url]);
    assert_eq!((p.result, p.status, p.body_len), (0, 200, 0));
    assert!(p.headers.contains("X-Echo-Method: HEAD"), "{}", p.headers);
}

#[test]
fn credentials_are_dropped_when_a_redirect_leaves_the_host() {
    let server = start_server();
    let auth = ["-H", "Authorization: Bearer secret", "-H", "X-Keep: yes"];
    let same = server.url("/redirect/302?to=/echo");
    let mut args = vec!["GET", same.as_str()];
    args.extend_from_slice(&auth);
    assert_eq!(probe(FULL, &args).result, 0);
    let other = server.url(&format!(
        "/redirect/302?to={}",
        server.localhost_url("/echo")
    ));
    let mut args = vec!["GET", other.as_str()];
    args.extend_from_slice(&auth);
    assert_eq!(probe(FULL, &args).result, 0);
    let echoes: Vec<Request> = server
        .requests()
        .into_iter()
        .filter(|s| s.target == "/echo")
        .collect();
    assert_eq!(echoes.len(), 2);
    assert_eq!(echoes[0].header("authorization"), Some("Bearer secret"));
    assert_eq!(echoes[1].header("authorization"), None);
    assert_eq!(echoes[1].header("x-keep"), Some("yes"));
}

#[test]
fn block_private_refuses_internal_addresses_unless_a_domain_names_them() {
    let server = start_server();
    let url = server.url("/hello");
    let out = wasm_run(["--network", "full", "--block-private", GET, &url]);
    assert!(
        stdout(&out).contains("host not allowed"),
        "{}",
        describe(&out)
    );
    let out = brine()
        .env("BRINE_BLOCK_PRIVATE", "1")
        .args(["wasm", "run", "--network", "full", GET, &url])
        .output()
        .unwrap();
    assert!(
        stdout(&out).contains("host not allowed"),
        "{}",
        describe(&out)
    );
    let out = wasm_run(["--allow-host", "127.0.0.*", "--block-private", GET, &url]);
    assert!(
        stdout(&out).contains("host not allowed"),
        "a glob does not name it"
    );
    assert!(server.requests().is_empty(), "{:?}", server.targets());
    let out = wasm_run(["--allow-host", "127.0.0.1", "--block-private", GET, &url]);
    assert!(
        stdout(&out).contains("Status Code: 200"),
        "{}",
        describe(&out)
    );
    // Each redirect hop is resolved and checked again.
    let server = start_server();
    let hop = server.url(&format!(
        "/redirect/302?to={}",
        server.localhost_url("/hello")
    ));
    let named = [
        "--allow-host",
        "127.0.0.1",
        "--allow-host",
        "local*",
        "--block-private",
    ];
    assert_eq!(probe(&named, &["GET", &hop]).result, 4);
    assert_eq!(server.targets().len(), 1, "{:?}", server.targets());
}

// ---- the ABI: methods, headers, bodies, truncation, every result code ----

#[test]
fn every_method_reaches_the_server() {
    let server = start_server();
    let url = server.url("/echo");
    for method in ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"] {
        let p = probe(FULL, &[method, &url]);
        assert_eq!((p.result, p.status), (0, 200), "{method}");
        assert!(
            p.headers.contains(&format!("X-Echo-Method: {method}")),
            "{method}: {}",
            p.headers
        );
        if method == "HEAD" {
            assert_eq!(p.body_len, 0);
        } else {
            assert!(
                p.body.starts_with(&format!("{method} /echo\n")),
                "{}",
                p.body
            );
        }
    }
    let methods: Vec<String> = server.requests().into_iter().map(|s| s.method).collect();
    assert_eq!(
        methods,
        ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]
    );
}

#[test]
fn request_headers_and_body_are_sent() {
    let server = start_server();
    let p = probe(
        FULL,
        &[
            "POST",
            &server.url("/echo"),
            "-H",
            "X-Test: yes",
            "-H",
            "  X-Other :  two  ",
            "-H",
            "no colon here",
            "-H",
            "Host: evil.example",
            "-d",
            "payload\u{1}bytes",
        ],
    );
    assert_eq!((p.result, p.status), (0, 200));
    let seen = &server.requests()[0];
    assert_eq!(seen.header("x-test"), Some("yes"));
    assert_eq!(seen.header("x-other"), Some("two"));
    let port = server.port().to_string();
    assert!(
        seen.header("host").unwrap().ends_with(&port),
        "Host is the URL's"
    );
    assert_eq!(seen.body, b"payload\x01bytes");
    let p = probe(FULL, &["GET", &server.url("/echo")]);
    assert_eq!(p.result, 0);
    let get = &server.requests()[1];
    assert!(get.body.is_empty());
    assert_eq!(
        get.header("content-length"),
        None,
        "a GET without body has none"
    );
    let p = probe(FULL, &["POST", &server.url("/echo")]);
    assert_eq!(p.result, 0);
    assert_eq!(server.requests()[2].header("content-length"), Some("0"));
}

#[test]
fn responses_are_truncated_to_the_guest_buffers() {
    let server = start_server();
    let p = probe(FULL, &["GET", &server.url("/bytes/100"), "--bcap", "10"]);
    assert_eq!((p.result, p.status, p.body_len), (0, 200, 10));
    assert_eq!(p.body, "xxxxxxxxxx");
    let p = probe(FULL, &["GET", &server.url("/headers"), "--hcap", "5"]);
    assert_eq!((p.result, p.headers_len), (0, 5));
    assert_eq!(p.headers, "X-One");
    let p = probe(FULL, &["GET", &server.url("/headers")]);
    assert!(
        p.headers
            .starts_with("X-One: 1\nX-Two: 2\nContent-Length: 1"),
        "{}",
        p.headers
    );
    assert_eq!(p.headers_len as usize, p.headers.len());
    let p = probe(FULL, &["GET", &server.url("/bytes/0"), "--bcap", "0"]);
    assert_eq!((p.result, p.body_len), (0, 0));
}

#[test]
fn status_codes_are_reported_not_errors() {
    let server = start_server();
    let p = probe(FULL, &["GET", &server.url("/status/404")]);
    p.assert_reply(404, "status 404");
    let p = probe(FULL, &["GET", &server.url("/status/503"), "--no-status"]);
    assert_eq!(
        (p.result, p.status),
        (0, 0),
        "status_ptr 0: nothing written"
    );
}

#[test]
fn invalid_urls_are_result_1() {
    for url in [
        "not a url",
        "ftp://127.0.0.1/",
        "http://",
        "127.0.0.1:80/x",
        "",
    ] {
        assert_eq!(probe(FULL, &["GET", url]).result, 1, "{url:?}");
    }
    assert_eq!(probe(FULL, &["GET", "http://x/", "--oob", "url"]).result, 1);
}

#[test]
fn network_failures_are_result_2() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    assert_eq!(probe(FULL, &["GET", &url]).result, 2);
    let server = start_server();
    assert_eq!(probe(FULL, &["GET", &server.url("/garbage")]).result, 2);
    assert_eq!(
        probe(FULL, &["GET", "http://no-such-host.invalid/"]).result,
        2
    );
}

#[test]
fn bodies_over_the_cap_are_result_5() {
    let server = start_server();
    let p = probe(
        FULL,
        &["GET", &server.url("/bytes/4000000"), "--bcap", "16"],
    );
    assert_eq!(
        p.result, 5,
        "4 MB is more than 80% of the probe's small memory"
    );
    let run = |n: &str| {
        wasm_run([
            "--network",
            "full",
            STATUS,
            &server.url(&format!("/bytes/{n}")),
        ])
    };
    assert_code(&run("65536"), 0);
    assert_code(&run("65537"), 5);
}

#[test]
fn bad_input_is_result_6_and_sends_nothing() {
    let server = start_server();
    let url = server.url("/hello");
    for which in ["rh", "rhlen", "rb", "rblen"] {
        assert_eq!(
            probe(FULL, &["GET", &url, "--zero", which]).result,
            6,
            "{which}"
        );
    }
    for which in ["headers", "body"] {
        assert_eq!(
            probe(FULL, &["GET", &url, "--oob", which]).result,
            6,
            "{which}"
        );
    }
    assert_eq!(probe(FULL, &["GET", &url, "-H", "Bad Name: x"]).result, 6);
    assert_eq!(probe(FULL, &["7", &url]).result, 6, "an unknown method");
    assert!(server.requests().is_empty(), "{:?}", server.targets());
}

#[test]
fn memory_errors_are_result_7() {
    let server = start_server();
    let url = server.url("/hello");
    for which in ["rhlen", "rblen"] {
        assert_eq!(
            probe(FULL, &["GET", &url, "--oob", which]).result,
            7,
            "{which}"
        );
    }
    assert!(
        server.requests().is_empty(),
        "length cells are checked before sending"
    );
    for which in ["rh", "rb", "status"] {
        let p = probe(FULL, &["GET", &url, "--oob", which]);
        assert_eq!(p.result, 7, "{which}");
        assert_eq!(
            (p.status, p.headers_len),
            (0, 4096),
            "{which}: nothing written"
        );
    }
}

#[test]
fn slow_servers_are_result_3() {
    use brine::module::{
        run, EntryModule, Limits, NamedModules, Outcome, Policy, RealHost, RunSpec, Stdio, WasiCtx,
    };

    let server = start_server();
    let mut host = RealHost::new(Stdio {
        stdin: Box::new(std::io::empty()),
        stdout: Box::new(std::io::sink()),
        stderr: Box::new(std::io::sink()),
        terminals: [false; 3],
    });
    host.set_network(Policy {
        timeout: Duration::from_millis(300),
        ..Policy::any()
    });
    let mut wasi = WasiCtx::new(Box::new(host));
    wasi.set_args(&[STATUS.to_string(), server.url("/slow")]);
    let spec = RunSpec {
        entry: EntryModule::File(Path::new(ROOT).join(STATUS)),
        invoke: None,
        call_args: Vec::new(),
        preload: Vec::new(),
        resolver: NamedModules::default(),
        limits: Limits::default(),
        network: true,
    };
    let report = run(spec, wasi).expect("the module runs");
    assert!(
        matches!(report.outcome, Outcome::Exited(3)),
        "{:?}",
        report.outcome
    );
}

#[test]
fn a_run_timeout_stops_a_request_in_flight() {
    let server = start_server();
    let started = std::time::Instant::now();
    let out = wasm_run([
        "--network",
        "full",
        "--timeout",
        "500ms",
        GET,
        &server.url("/slow"),
    ]);
    assert_code(&out, EXIT_TIMEOUT);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

// ---- deterministic runs, record and replay ----

#[test]
fn deterministic_wasm_runs_refuse_the_network() {
    let out = wasm_run(["--deterministic", "--network", "full", GET, "http://x/"]);
    assert_stderr_has(&out, EXIT_USAGE, "--deterministic runs have no network");
}

#[test]
fn a_recorded_request_replays_without_the_network() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal");
    let journal_arg = journal.to_str().unwrap();
    let url = server.url("/hello");
    let out = wasm_run(["--network", "full", "--record", journal_arg, GET, &url]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("Status Code: 200"));
    let (_, entries) = brine::journal::read(&journal).unwrap();
    let request = entries
        .iter()
        .find(|e| e.call == "http_request")
        .expect("journaled");
    assert!(
        request.args.starts_with(&format!("GET {url} ")),
        "{}",
        request.args
    );
    let replayed = run(["replay", journal_arg, GET]);
    assert_code(&replayed, 0);
    assert_eq!(stdout(&replayed), stdout(&out), "{}", describe(&replayed));
    assert_eq!(
        server.requests().len(),
        1,
        "the replay must not use the network"
    );
}

// ---- jobs: brine run ----

/// A job running http_get on `url`, with `network` (YAML lines at task level).
fn write_job(dir: &Path, url: &str, network: &str, params: &str) -> PathBuf {
    let module = Path::new(ROOT).join(GET);
    let yaml = format!(
        "Name: net\nType: batch\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /wasm/http_get.wasm\n        Parameters: [\"{url}\"]\n{params}    InputSources:\n      - Source: {{Type: localDirectory, Params: {{SourcePath: {}}}}}\n        Target: /wasm/http_get.wasm\n{network}",
        module.display()
    );
    let path = dir.join("job.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

/// A job file in `dir` that GETs `/hello` from `server` with `Network: {Type: Full}`.
fn full_network_hello_job(dir: &Path, server: &Server) -> PathBuf {
    write_job(
        dir,
        &server.url("/hello"),
        "    Network: {Type: Full}\n",
        "",
    )
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn jobs_follow_their_network_settings() {
    let server = start_server();
    let url = server.url("/hello");
    let cases = [
        ("    Network: {Type: Full}\n", "Status Code: 200"),
        ("    Network: {Type: Host}\n", "Status Code: 200"),
        ("", "Status Code: 200"),
        (
            "    Network: {Type: HTTP, Domains: [other.example]}\n",
            "host not allowed",
        ),
        (
            "    Network: {Type: http, Domains: ['127.0.0.*']}\n",
            "Status Code: 200",
        ),
    ];
    for (network, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let job = write_job(dir.path(), &url, network, "");
        let out = run_job(&job, &dir.path().join("out"), &[]);
        assert_code(&out, 0);
        let guest = read(&dir.path().join("out/stdout"));
        assert!(
            guest.contains(expected),
            "{network:?}: {guest}\n{}",
            describe(&out)
        );
    }
}

#[test]
fn a_job_without_network_fails_naming_the_missing_import() {
    let dir = tempfile::tempdir().unwrap();
    let job = write_job(dir.path(), "http://x/", "    Network: {Type: None}\n", "");
    let out = run_job(&job, &dir.path().join("out"), &[]);
    assert_code(&out, 1);
    let summary = read(&dir.path().join("out/brine.json"));
    assert!(summary.contains("wasi:http/requests"), "{summary}");
    // A failed job is an error: its message is on stderr.
    assert!(
        stderr(&out).contains("network is disabled"),
        "{}",
        describe(&out)
    );
}

#[test]
fn brine_run_can_block_private_addresses() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let job = full_network_hello_job(dir.path(), &server);
    let out = run_job(&job, &dir.path().join("out"), &["--block-private"]);
    assert_code(&out, 0);
    assert!(read(&dir.path().join("out/stdout")).contains("host not allowed"));
    let named = "    Network: {Type: HTTP, Domains: [127.0.0.1]}\n";
    let job = write_job(dir.path(), &server.url("/hello"), named, "");
    let out = run_job(&job, &dir.path().join("out2"), &["--block-private"]);
    assert_code(&out, 0);
    assert!(read(&dir.path().join("out2/stdout")).contains("Status Code: 200"));
}

#[test]
fn deterministic_jobs_refuse_an_enabled_network() {
    let dir = tempfile::tempdir().unwrap();
    let job = write_job(dir.path(), "http://x/", "    Network: {Type: Full}\n", "");
    let out = run_job(&job, &dir.path().join("out"), &["--deterministic"]);
    assert_stderr_has(
        &out,
        EXIT_USAGE,
        "a deterministic run cannot use the network (Type: Full)",
    );
    assert!(!dir.path().join("out").exists());
    let params = "        Deterministic: true\n";
    let job = write_job(
        dir.path(),
        "http://x/",
        "    Network: {Type: HTTP, Domains: [x]}\n",
        params,
    );
    let out = run_job(&job, &dir.path().join("out"), &[]);
    assert_code(&out, EXIT_USAGE);
    // Without a Network, a deterministic job gets none (not Bacalhau's default Host).
    let job = write_job(dir.path(), "http://x/", "", params);
    let out = run_job(&job, &dir.path().join("out"), &[]);
    assert_code(&out, 1);
    assert!(read(&dir.path().join("out/brine.json")).contains("wasi:http/requests"));
}

#[test]
fn a_recorded_job_replays_its_requests() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let job = full_network_hello_job(dir.path(), &server);
    let journal = dir.path().join("job.journal");
    let out = run_job(
        &job,
        &dir.path().join("out"),
        &["--record", journal.to_str().unwrap()],
    );
    assert_code(&out, 0);
    let recorded = read(&dir.path().join("out/stdout"));
    assert!(recorded.contains("Status Code: 200"), "{recorded}");
    let again = dir.path().join("again");
    let replayed = run([
        "replay",
        journal.to_str().unwrap(),
        job.to_str().unwrap(),
        "--output",
        again.to_str().unwrap(),
    ]);
    assert_code(&replayed, 0);
    assert_eq!(
        read(&again.join("stdout")),
        recorded,
        "{}",
        describe(&replayed)
    );
    assert_eq!(
        server.requests().len(),
        1,
        "the replay must not use the network"
    );
}
