//! Running a server for years (issue 20): health and readiness, and where its settings come from.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cli_support::{ledger, ok, stdout};
use crate::http_serve_cli::spawn_serve;

/// `GET path` on `addr`: the status and the body.
async fn get(addr: &str, path: &str) -> (u16, serde_json::Value) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<hyper::body::Bytes>>();
    let request = hyper::Request::builder()
        .uri(format!("http://{addr}{path}"))
        .body(Default::default())
        .unwrap();
    let response = client.request(request).await.expect("an answer");
    let status = response.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

/// Health needs no token and says nothing but fixed words; readiness waits for the signing key of a
/// ledger file that keeps checkpoints, and turns ready once it is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_answer_without_a_token_and_name_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let (child, addr) = spawn_serve(&["--ledger", path.to_str().unwrap()]).await;
    let _child = crate::http_limits::Child(child);
    let (status, body) = get(&addr, "/healthz").await;
    assert_eq!(
        (status, body.clone()),
        (200, serde_json::json!({ "status": "ok" }))
    );
    let (status, body) = get(&addr, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["signing_key"], "absent", "{body}");
    assert_eq!(body["checks"]["store"], "ok", "{body}");
    assert_eq!(body["checks"]["read_models"]["caught_up"], true, "{body}");
    let text = body.to_string();
    assert!(
        !text.contains(dir.path().to_str().unwrap()),
        "no path: {text}"
    );

    // The key appears (as `ledger init` makes it): ready, with no restart.
    ok(&ledger(&path, &["audit", "checkpoint"]));
    let (status, body) = get(&addr, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["signing_key"], "loaded");
}

/// While a server folds a long log at start it already listens: `/healthz` answers 200 and
/// `/readyz` (and every other route) 503 `starting`, until the models are folded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_folding_a_long_log_is_alive_but_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let p = path.to_str().unwrap();
    ok(&ledger(&path, &["init"]));
    // A long log, appended by another process for a few seconds.
    let mut stress = Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args(["debug", "append-stress", "--tasks", "8", "--ledger", p])
        .env_remove("LEDGER_PATH")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    stress.kill().unwrap();
    stress.wait().unwrap();
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args(["serve", "--listen", &addr, "--ledger", p])
        .env_remove("LEDGER_PATH")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _child = crate::http_limits::Child(child);
    let mut seen_starting = false;
    let mut seen_alive_while_starting = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        assert!(tokio::time::Instant::now() < deadline, "never ready");
        if tokio::net::TcpStream::connect(&addr).await.is_err() {
            tokio::time::sleep(Duration::from_millis(2)).await;
            continue;
        }
        let (status, body) = get(&addr, "/readyz").await;
        if status == 200 {
            break;
        }
        assert_eq!(
            (status, body["status"].as_str()),
            (503, Some("starting")),
            "{body}"
        );
        seen_starting = true;
        let (other, _) = get(&addr, "/api/v1/units").await;
        if other != 503 {
            // Answered by the API: the models became ready between the two requests.
            assert_eq!(
                get(&addr, "/readyz").await.0,
                200,
                "served {other} while starting"
            );
        }
        if get(&addr, "/healthz").await.0 == 200 {
            seen_alive_while_starting = true;
        }
    }
    assert!(seen_starting, "the server listened only once it was ready");
    assert!(seen_alive_while_starting, "healthz answered while starting");
}

/// Flags override the environment, which overrides the file, which overrides the defaults; and
/// `--print-config` says where each setting came from.
#[test]
fn print_config_shows_each_setting_and_where_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ledger.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:9001\"\ncheckpoint-every = 500\nsnapshot-every = 7\nlog-format = \"json\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args([
            "serve",
            "--print-config",
            "--checkpoint-every",
            "42",
            "--config",
        ])
        .arg(&config)
        .env_remove("LEDGER_PATH")
        .env_remove("LEDGER_STORE")
        .env("LEDGER_SNAPSHOT_EVERY", "9")
        .output()
        .unwrap();
    let text = stdout(ok(&out));
    let line = |name: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("checkpoint-every"), "checkpoint-every 42 (flag)");
    assert_eq!(
        line("snapshot-every"),
        "snapshot-every 9 (env LEDGER_SNAPSHOT_EVERY)"
    );
    assert_eq!(
        line("listen"),
        format!("listen 127.0.0.1:9001 (file {})", config.display())
    );
    assert_eq!(
        line("log-format"),
        format!("log-format json (file {})", config.display())
    );
    assert_eq!(
        line("checkpoint-interval"),
        "checkpoint-interval 300 (default)"
    );
    assert_eq!(line("ledger"), "ledger ledger.db (default)");
}

/// An unknown key, a bad value in the file or in the environment: a one-line error at start-up that
/// names it, and no server.
#[test]
fn a_bad_configuration_is_a_clear_error_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ledger.toml");
    let serve = |env: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ledger"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--ledger")
            .arg(dir.path().join("ledger.db"))
            .env_remove("LEDGER_STORE");
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().unwrap()
    };
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\ncheckpoint-evry = 5\n").unwrap();
    let message = crate::cli_support::fails_with_one_line(&serve(&[]));
    assert!(message.contains("checkpoint-evry"), "{message}");
    assert!(message.contains("ledger.toml"), "{message}");
    std::fs::write(&config, "snapshot-every = -3\n").unwrap();
    let message = crate::cli_support::fails_with_one_line(&serve(&[]));
    assert!(message.contains("snapshot-every"), "{message}");
    std::fs::write(&config, "").unwrap();
    let message =
        crate::cli_support::fails_with_one_line(&serve(&[("LEDGER_CHECKPOINT_EVERY", "often")]));
    assert!(message.contains("LEDGER_CHECKPOINT_EVERY"), "{message}");
    assert!(!dir.path().join("ledger.db").exists(), "no ledger made");
}

/// A free port on loopback (bound, then let go).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `/metrics` on its own listener parses as Prometheus text, and its counters move with the writes
/// made; each request is one JSON log line whose request id is the correlation id of the events it
/// recorded, with the route, status, latency and person, and never the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_json_logs_follow_the_requests() {
    use std::io::BufRead as _;
    let (_demo, path) = crate::cli_support::demo_copy();
    let p = path.to_str().unwrap();
    let token = stdout(ok(&ledger(
        &path,
        &["token", "issue", "--person", "admin-ops", "--role", "admin"],
    )))
    .trim()
    .to_owned();
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args(["serve", "--listen", "127.0.0.1:0", "--ledger", p])
        .args(["--metrics-listen", &metrics_addr, "--log-format", "json"])
        .env("RUST_LOG", "ledger::http=info")
        .env_remove("LEDGER_PATH")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    let stderr = child.stderr.take().unwrap();
    let child = crate::http_limits::Child(child);

    let scrape = || async {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<http_body_util::Full<hyper::body::Bytes>>();
        let response = client
            .get(format!("http://{metrics_addr}/metrics").parse().unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let bytes = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        let parsed = prometheus_parse::Scrape::parse(lines).expect("Prometheus text");
        (text, parsed)
    };
    let value = |scrape: &prometheus_parse::Scrape, name: &str| -> f64 {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum()
    };
    let (_, before) = scrape().await;
    let appends_before = value(&before, "ledger_appends_total");

    // One write through the API, with a request id of the caller's choosing.
    let request_id = uuid::Uuid::now_v7();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<hyper::body::Bytes>>();
    let body = serde_json::json!({ "unit": "OPS-1", "name": "运维测试单位", "kind": "branch" });
    let request = hyper::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}/api/v1/units"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("x-request-id", request_id.to_string())
        .body(http_body_util::Full::from(body.to_string()))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["x-request-id"].to_str().unwrap(),
        request_id.to_string()
    );
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&bytes));

    let (text, after) = scrape().await;
    assert_eq!(
        value(&after, "ledger_appends_total"),
        appends_before + 1.0,
        "{text}"
    );
    let units_posts: f64 = after
        .samples
        .iter()
        .filter(|s| {
            s.metric == "ledger_http_requests_total"
                && s.labels.get("route") == Some("/api/v1/units")
                && s.labels.get("method") == Some("POST")
        })
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum();
    assert_eq!(units_posts, 1.0, "{text}");
    assert!(value(&after, "ledger_log_events") > 1000.0, "{text}");
    assert!(
        value(&after, "ledger_resident_memory_bytes") > 0.0,
        "{text}"
    );
    assert!(
        text.contains("ledger_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("ledger_commit_batch_events_bucket"), "{text}");

    // The events it recorded carry the request id as their correlation id.
    drop(child); // stops the server; its log is complete
    let log: Vec<String> = std::io::BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .collect();
    let record = log
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|r| r["request_id"] == request_id.to_string())
        .unwrap_or_else(|| panic!("no log record for the request: {log:?}"));
    assert_eq!(record["route"], "/api/v1/units", "{record}");
    assert_eq!(record["method"], "POST", "{record}");
    assert_eq!(record["status"], status, "{record}");
    assert_eq!(record["person"], "admin-ops", "{record}");
    assert!(record["latency_ms"].as_f64().is_some(), "{record}");
    assert!(
        log.iter().all(|l| !l.contains(&token)),
        "no token in the log"
    );
    let store = ledger::store::SqliteStore::open_existing(&path).unwrap();
    let head = ledger::store::EventStore::head(&store).await.unwrap();
    let last = {
        use futures_util::StreamExt as _;
        let mut log = std::pin::pin!(store.stream_all(head - 1, 16));
        log.next().await.unwrap().unwrap()
    };
    store.close().await;
    assert_eq!(last.event_type, "UnitRegistered");
    assert_eq!(
        last.correlation_id, request_id,
        "the request id is the correlation id"
    );
}

/// HTTPS with a certificate the test makes: the API answers over TLS, a plain-HTTP request on the
/// same port gets no answer, the console's cookies are `Secure`; a certificate without its key is a
/// clear error at start-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_with_a_self_signed_certificate() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio_rustls::rustls;
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let path = dir.path().join("ledger.db");
    ok(&ledger(&path, &["init"]));
    let token = stdout(ok(&ledger(
        &path,
        &["token", "issue", "--person", "admin-tls", "--role", "admin"],
    )))
    .trim()
    .to_owned();
    let (child, addr) = spawn_serve(&[
        "--ledger",
        path.to_str().unwrap(),
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ])
    .await;
    let _child = crate::http_limits::Child(child);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let send = |request: String| {
        let (connector, addr) = (connector.clone(), addr.clone());
        async move {
            let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let mut tls = connector.connect(name, tcp).await.expect("a TLS handshake");
            tls.write_all(request.as_bytes()).await.unwrap();
            let mut answer = Vec::new();
            let _ = tls.read_to_end(&mut answer).await;
            String::from_utf8_lossy(&answer).into_owned()
        }
    };
    let fetch = |path: &str| {
        send(format!(
            "GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n"
        ))
    };
    let health = fetch("/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let sign_in = fetch("/sign-in").await;
    assert!(sign_in.starts_with("HTTP/1.1 200"), "{sign_in}");
    // Signing in over TLS sets the session cookie `Secure`, though no --https was given.
    let form = format!("token={token}");
    let signed_in = send(format!(
        "POST /sign-in HTTP/1.1\r\nhost: localhost\r\norigin: https://localhost\r\n\
         content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{form}",
        form.len()
    ))
    .await;
    let cookie = signed_in
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no session cookie: {signed_in}"));
    assert!(cookie.contains("Secure"), "{cookie}");
    // Plain HTTP on the TLS port: no HTTP answer.
    let mut plain = tokio::net::TcpStream::connect(&addr).await.unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await;
    assert!(
        !answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // A certificate without a key, and a key that is not one.
    let out = Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--ledger",
            path.to_str().unwrap(),
        ])
        .args(["--tls-cert", cert.to_str().unwrap()])
        .output()
        .unwrap();
    let message = crate::cli_support::fails_with_one_line(&out);
    assert!(message.contains("--tls-key"), "{message}");
    let out = Command::new(env!("CARGO_BIN_EXE_ledger"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--ledger",
            path.to_str().unwrap(),
        ])
        .args([
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            cert.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let message = crate::cli_support::fails_with_one_line(&out);
    assert!(message.contains("private key"), "{message}");
}
