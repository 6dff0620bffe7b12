//! Helpers for the HTTP tests: a real server on a random loopback port over its own temporary ledger,
//! and a small HTTP/1.1 client (hyper) that talks to it as any client would.

use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use ledger::app::tokens::issue_token;
use ledger::app::{Clock, Ledger};
use ledger::http::{Api, ServeOptions, serve_with};
use ledger::store::{EventStore, SqliteStore};
use ledger_schemas::Role;
use ledger_schemas::ids::{PersonId, UnitId};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::store_support::{TempLedger, temp_ledger};

/// A running server and what a test needs to check its ledger.
pub struct Server {
    pub addr: SocketAddr,
    pub ledger: Arc<Ledger<SqliteStore>>,
    pub store: Arc<SqliteStore>,
    client: Client<HttpConnector, Full<Bytes>>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _temp: TempLedger,
}

/// An answer: status, headers, the body as bytes, as text and (when it is JSON) as a value.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub bytes: Bytes,
    pub text: String,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json body with the RFC 9457 members and returns its `code`.
    pub fn assert_problem(&self) -> String {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "problem+json expected, got {} {}",
            self.status,
            self.text
        );
        assert_eq!(self.json["status"], self.status, "{}", self.text);
        for member in ["type", "title", "detail", "code"] {
            assert!(
                self.json[member].as_str().is_some_and(|s| !s.is_empty()),
                "problem member {member} missing: {}",
                self.text
            );
        }
        self.json["code"].as_str().unwrap_or_default().to_owned()
    }
}

impl Server {
    /// Starts a server over a fresh ledger with the system clock.
    pub async fn start() -> Server {
        Self::start_with(Clock::System).await
    }

    pub async fn start_with(clock: Clock) -> Server {
        Self::start_on(temp_ledger(), clock, ServeOptions::default()).await
    }

    /// Starts a server that serves as `options` say (limits, HTTPS).
    pub async fn start_with_options(options: ServeOptions) -> Server {
        Self::start_on(temp_ledger(), Clock::System, options).await
    }

    /// Builds the demo ledger (as `ledger demo` does: its history, signing key and checkpoints)
    /// and serves it with the system clock.
    pub async fn start_demo() -> (Server, ledger::demo::DemoSummary) {
        let temp = temp_ledger();
        let summary = ledger::demo::create(&temp.path, &indicatif::ProgressBar::hidden())
            .await
            .expect("demo");
        let server = Self::start_on(temp, Clock::System, ServeOptions::default()).await;
        (server, summary)
    }

    /// Stops the server and starts another over the same ledger file with `clock`: the ledger as a
    /// later day finds it.
    pub async fn restart_with(mut self, clock: Clock) -> Server {
        let temp = std::mem::replace(&mut self._temp, temp_ledger());
        self.stop().await;
        Self::start_on(temp, clock, ServeOptions::default()).await
    }

    async fn start_on(temp: TempLedger, clock: Clock, options: ServeOptions) -> Server {
        let store = Arc::new(SqliteStore::open(&temp.path).expect("open ledger"));
        let ledger = Arc::new(Ledger::open(store.clone(), clock).await.expect("ledger"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let api = Api::new(ledger.clone());
        // Evidence files beside the ledger file, as `ledger serve` keeps them by default.
        let _ = api.evidence.set(ledger::evidence::EvidenceStore::Folder(
            ledger::evidence::FolderStore::beside(&temp.path),
        ));
        let task = tokio::spawn(serve_with(listener, api, options, async {
            let _ = rx.await;
        }));
        let client = Client::builder(TokioExecutor::new()).build_http();
        Server {
            addr,
            ledger,
            store,
            client,
            shutdown: Some(tx),
            task: Some(task),
            _temp: temp,
        }
    }

    /// A token for `person` in `role`, issued the way `ledger token issue` does (the person is
    /// registered and the role granted if needed).
    pub async fn token(&self, person: &str, role: Role, units: &[&str]) -> String {
        let units: Vec<UnitId> = units.iter().map(|u| UnitId::new(*u).unwrap()).collect();
        issue_token(&self.ledger, &PersonId::new(person).unwrap(), role, &units)
            .await
            .expect("issue token")
    }

    /// The number of events in the log.
    pub async fn log_len(&self) -> u64 {
        self.store.head().await.expect("head")
    }

    /// The ledger file.
    pub fn path(&self) -> &std::path::Path {
        &self._temp.path
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A JSON request with an optional bearer token.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        self.call_with(method, path, token, body, &[]).await
    }

    /// As [`Server::call`], with extra headers.
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(self.url(path));
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let bytes = match body {
            Some(body) => {
                builder = builder.header("content-type", "application/json");
                serde_json::to_vec(body).unwrap()
            }
            None => Vec::new(),
        };
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.send(builder.body(Full::new(Bytes::from(bytes))).unwrap())
            .await
    }

    /// A browser-like request: any headers (a cookie, say) and a raw body.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(self.url(path));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.send(builder.body(Full::new(Bytes::from(body.to_vec()))).unwrap())
            .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(&body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(token), Some(&body)).await
    }

    /// Sends any request, as built by the test.
    pub async fn send(&self, request: Request<Full<Bytes>>) -> Reply {
        let response = self.client.request(request).await.expect("HTTP exchange");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            bytes,
            text,
            json,
        }
    }

    /// Stops the server the way a signal would, and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server");
        }
        self.store.close().await;
    }
}

/// A bare request for bad-input tests.
pub fn request(method: Method, url: &str) -> hyper::http::request::Builder {
    Request::builder().method(method).uri(url)
}

/// The default template's responsible persons and the people a full lifecycle needs, with tokens.
pub struct Cast {
    pub admin: String,
    pub assessor: String,
    pub reviewer: String,
    pub auditor: String,
    pub unit: String,
    /// A unit secretary of the other unit.
    pub other_unit: String,
    /// The template's discipline committee member (纪检委员), signed in as a responsible person.
    pub responsible: String,
}

/// Two units (`SH-01`, `SH-02`), the default rubric as `default`, the template's responsible
/// persons, and a token per role: the assessor covers both units, `unit` is SH-01's secretary.
pub async fn cast(server: &Server) -> Cast {
    let admin = server.token("admin-1", Role::Admin, &[]).await;
    for (unit, name) in [("SH-01", "上海一支部"), ("SH-02", "上海二支部")] {
        let reply = server
            .post(
                "/api/v1/units",
                &admin,
                serde_json::json!({"unit": unit, "name": name, "kind": "branch"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    for (person, zh, _) in ledger_projections::rubric::DEFAULT_TEMPLATE_PEOPLE {
        let reply = server
            .post(
                "/api/v1/people",
                &admin,
                serde_json::json!({"person": person, "name": zh, "unit": "SH-01"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    let definition: Value =
        serde_json::from_str(ledger_projections::rubric::DEFAULT_TEMPLATE_JSON).unwrap();
    let reply = server
        .post(
            "/api/v1/rubrics",
            &admin,
            serde_json::json!({"rubric": "default", "definition": definition}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    Cast {
        assessor: server
            .token("assessor-1", Role::Assessor, &["SH-01", "SH-02"])
            .await,
        reviewer: server.token("reviewer-1", Role::Reviewer, &[]).await,
        auditor: server.token("auditor-1", Role::Auditor, &[]).await,
        unit: server.token("sec-01", Role::Unit, &["SH-01"]).await,
        other_unit: server.token("sec-02", Role::Unit, &["SH-02"]).await,
        responsible: server
            .token("discipline-committee", Role::Responsible, &[])
            .await,
        admin,
    }
}

/// Period 2026Q1 over SH-01 and SH-02 (the default rubric, version 1), moved on to scoring.
pub async fn scoring_period(server: &Server, cast: &Cast) {
    let reply = server
        .post(
            "/api/v1/periods",
            &cast.admin,
            serde_json::json!({"period": "2026Q1", "name": "一季度", "cadence": "quarterly", "starts_on": "2026-01-01",
                   "ends_on": "2026-03-31", "rubric": "default", "rubric_version": 1, "units": ["SH-01", "SH-02"]}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    for to in ["self_assessment", "scoring"] {
        let reply = server
            .post(
                "/api/v1/periods/2026Q1/stage",
                &cast.admin,
                serde_json::json!({"to": to}),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
}

/// The base items of the default rubric (points and ladder items), with a value worth something.
pub fn base_values() -> Vec<(String, Value)> {
    let def = ledger_projections::rubric::default_template();
    let mut out = Vec::new();
    for aspect in &def.aspects {
        for item in &aspect.items {
            let value = match &item.kind {
                ledger_schemas::rubric::ItemKind::Points { max } => {
                    serde_json::json!({"kind": "points", "points": max.to_string()})
                }
                ledger_schemas::rubric::ItemKind::Ladder { .. } => {
                    serde_json::json!({"kind": "level", "level": def.ladder[1].level.as_str()})
                }
                _ => continue,
            };
            out.push((item.code.to_string(), value));
        }
    }
    out
}

/// The OpenAPI document as a contract: which responses an operation may give, and their shapes.
pub struct Contract {
    pub document: Value,
    compiler: boon::Compiler,
    schemas: boon::Schemas,
    compiled: std::collections::HashMap<String, boon::SchemaIndex>,
}

const DOCUMENT_URL: &str = "urn:ledger:openapi";

/// Escapes one JSON-pointer token and percent-encodes what a URI fragment may not hold.
fn pointer_token(token: &str) -> String {
    token
        .replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

impl Contract {
    /// The document the server serves.
    pub async fn fetch(server: &Server) -> Contract {
        let reply = server
            .call(Method::GET, "/api/v1/openapi.json", None, None)
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        Contract::new(reply.json)
    }

    pub fn new(document: Value) -> Contract {
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V2020_12);
        compiler
            .add_resource(DOCUMENT_URL, document.clone())
            .expect("the document is JSON");
        Contract {
            document,
            compiler,
            schemas: boon::Schemas::new(),
            compiled: Default::default(),
        }
    }

    /// The documented path template a concrete path matches (`/api/v1/units/SH-01` →
    /// `/api/v1/units/{unit}`), preferring literal segments.
    pub fn template(&self, method: &Method, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').collect();
        let method = method.as_str().to_ascii_lowercase();
        let mut best: Option<(usize, String)> = None;
        for (template, item) in self.document["paths"].as_object()? {
            if item.get(&method).is_none() {
                continue;
            }
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                continue;
            }
            let mut literal = 0;
            let matches = parts.iter().zip(&segments).all(|(p, s)| {
                if p.starts_with('{') {
                    true
                } else {
                    literal += 1;
                    p == s
                }
            });
            if matches && best.as_ref().is_none_or(|(n, _)| literal > *n) {
                best = Some((literal, template.clone()));
            }
        }
        best.map(|(_, t)| t)
    }

    /// Asserts that the reply is a documented response of the operation, never a server error, and
    /// that its body matches the documented schema.
    pub fn check(&mut self, method: &Method, path: &str, reply: &Reply) {
        assert!(
            reply.status < 500,
            "{method} {path}: a server error: {}",
            reply.text
        );
        if let Err(why) = self.verify(method, path, reply) {
            panic!("{why}\n{}", reply.text);
        }
    }

    /// Whether the reply is a documented response whose body matches its schema, and if not, why.
    pub fn verify(&mut self, method: &Method, path: &str, reply: &Reply) -> Result<(), String> {
        let template = self
            .template(method, path)
            .ok_or_else(|| format!("{method} {path} is not in the OpenAPI document"))?;
        let method_key = method.as_str().to_ascii_lowercase();
        let status = reply.status.to_string();
        let response = &self.document["paths"][&template][&method_key]["responses"][&status];
        if !response.is_object() {
            return Err(format!(
                "{method} {template} answered {status}, which the document does not list"
            ));
        }
        let content_type = reply
            .header("content-type")
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        if response["content"].get(&content_type).is_none() {
            return Err(format!(
                "{method} {template} {status}: content type {content_type} is not documented"
            ));
        }
        let pointer = format!(
            "{DOCUMENT_URL}#/paths/{}/{method_key}/responses/{status}/content/{}/schema",
            pointer_token(&template),
            pointer_token(&content_type)
        );
        let index = match self.compiled.get(&pointer) {
            Some(index) => *index,
            None => {
                let index = self
                    .compiler
                    .compile(&pointer, &mut self.schemas)
                    .map_err(|e| format!("{pointer} does not compile: {e:#}"))?;
                self.compiled.insert(pointer.clone(), index);
                index
            }
        };
        self.schemas.validate(&reply.json, index).map_err(|error| {
            format!("{method} {path} {status}: the body does not match the document: {error:#}")
        })
    }
}
