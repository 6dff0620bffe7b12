//! The browser tests' harness: the demo ledger served on a random port, and Debian's Chromium driven
//! through ChromeDriver (WebDriver, by `fantoccini`), one browser per test.
//!
//! ChromeDriver runs in its own process group, killed whole when the test ends (passing or not), so
//! no Chromium outlives its test. Browser tests take turns (one lock): two cores do not run two
//! Chromiums and a server well at once. Every test saves screenshots in `target/browser-screenshots/`.

use std::collections::HashMap;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use ledger_schemas::Role;
use serde_json::{Value, json};

use crate::http_support::Server;

/// Browser tests run one at a time.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The demo ledger (signed, like `ledger demo`'s) behind a real server, and a token per role.
pub struct DemoSite {
    pub server: Server,
    pub tokens: HashMap<Role, String>,
    pub head: u64,
    /// What the demo printed: its milestones (dates), among others.
    pub summary: ledger::demo::DemoSummary,
}

impl DemoSite {
    pub async fn start() -> DemoSite {
        let (server, summary) = Server::start_demo().await;
        let tokens = summary
            .tokens
            .iter()
            .map(|t| (t.role, t.token.clone()))
            .collect();
        DemoSite {
            head: summary.head,
            server,
            tokens,
            summary,
        }
    }

    pub fn token(&self, role: Role) -> &str {
        &self.tokens[&role]
    }

    /// A JSON read of the API as `role`.
    pub async fn api(&self, role: Role, path: &str) -> Value {
        let reply = self
            .server
            .call(hyper::Method::GET, path, Some(self.token(role)), None)
            .await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
        reply.json
    }

    /// Opens period 2027Q1 (rubric version 2) for `units` and moves it to scoring, as the admin.
    pub async fn open_scoring_period(&self, units: &[&str]) {
        let admin = self.token(Role::Admin);
        let opened = self
            .server
            .post(
                "/api/v1/periods",
                admin,
                json!({"period": "2027Q1", "name": "2027年第一季度", "cadence": "quarterly",
                    "starts_on": "2027-01-01", "ends_on": "2027-03-31", "rubric": "default",
                    "rubric_version": 2, "units": units}),
            )
            .await;
        assert_eq!(opened.status, 201, "{}", opened.text);
        for to in ["self_assessment", "scoring"] {
            let moved = self
                .server
                .post("/api/v1/periods/2027Q1/stage", admin, json!({"to": to}))
                .await;
            assert_eq!(moved.status, 200, "{}", moved.text);
        }
    }
}

/// ChromeDriver's process group, killed on drop.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}

/// One headless Chromium, signed in or not, pointed at one server.
pub struct Browser {
    pub client: Client,
    base: String,
    test: &'static str,
    shots: usize,
    // Fields drop in order: the driver is killed before the next test may start one.
    _driver: Driver,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Where the screenshots go: `target/browser-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|p| p.join("browser-screenshots"))
        .expect("target dir");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium for `test`, against `site`. A free port can be
    /// taken by another test's server between finding and binding it: then it starts again.
    pub async fn open(site: &DemoSite, test: &'static str) -> Browser {
        let turn = TURN.lock().await;
        let mut tries = 0;
        let (client, driver) = loop {
            tries += 1;
            match Self::start_driver().await {
                Ok(started) => break started,
                Err(e) if tries < 3 => eprintln!("chromedriver did not start ({e}); again"),
                Err(e) => panic!("a WebDriver session with Chromium: {e}"),
            }
        };
        Browser {
            client,
            base: site.server.url(""),
            test,
            shots: 0,
            _driver: driver,
            _turn: turn,
        }
    }

    async fn start_driver() -> Result<(Client, Driver), String> {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver (scripts/test-deps.sh installs Debian's chromium-driver)");
        let driver = Driver(child);
        let mut up = false;
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !up {
            return Err(format!("chromedriver did not listen on {port}"));
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1360,1000", "--lang=zh-CN"]
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .map_err(|e| e.to_string())?;
        Ok((client, driver))
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigate");
    }

    /// The current path and query.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Signs in with `token` on the sign-in page and waits for the standings.
    pub async fn sign_in(&self, token: &str) {
        self.goto("/sign-in").await;
        self.fill("#token", token).await;
        self.click("#sign-in button[type=submit]").await;
        self.wait("#who").await;
    }

    /// Waits for an element (up to ChromeDriver's default wait) and returns it.
    pub async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                return e;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css} did not appear on {}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the address contains `part` (a navigation has finished).
    pub async fn wait_path(&self, part: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let path = self.path().await;
            if path.contains(part) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the address {path} never came to contain {part}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.expect("text")
    }

    pub async fn all(&self, css: &str) -> Vec<fantoccini::elements::Element> {
        self.client.find_all(Locator::Css(css)).await.expect("find")
    }

    pub async fn count(&self, css: &str) -> usize {
        self.all(css).await.len()
    }

    pub async fn click(&self, css: &str) {
        self.wait(css).await.click().await.expect("click");
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.wait(css).await;
        e.clear().await.expect("clear");
        e.send_keys(value).await.expect("type");
    }

    /// The page's width and the window's, in CSS pixels: a page that fits is no wider.
    pub async fn widths(&self) -> (u64, u64) {
        let widths = self
            .client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .expect("widths");
        (
            widths[0].as_u64().expect("a width"),
            widths[1].as_u64().expect("a width"),
        )
    }

    /// Saves a screenshot as `target/browser-screenshots/{test}-{n}-{what}.png`.
    pub async fn shot(&mut self, what: &str) -> PathBuf {
        self.shots += 1;
        let png = self.client.screenshot().await.expect("screenshot");
        let path = screenshot_dir().join(format!("{}-{}-{what}.png", self.test, self.shots));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Ends the session (ChromeDriver's group is killed on drop either way).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}
