//! The web console: server-rendered pages for the assessment office, unit secretaries, reviewers and
//! auditors, served by `ledger serve` at `/` beside the API.
//!
//! The console is a client of the API, in the same process: every page asks the API router (not the
//! read models directly) with the signed-in person's bearer token, and renders the JSON it answers
//! as HTML. So a role sees in the browser exactly what the API lets it see, and a form shows the
//! API's own validation messages, next to the field the API names.
//!
//! - [`guard`]: same-origin form posts, local redirect targets, the security headers of every page,
//!   `Secure` cookies over HTTPS.
//! - [`client`]: the in-process API client and the signed-in [`Session`] (cookie → token → `/api/v1/me`).
//! - [`i18n`]: zh-CN first, English switchable (a cookie); times shown in Beijing time (UTC+8).
//! - [`layout`]: the page shell, navigation by role, the error page; `assets/` holds the CSS and the
//!   little hand-written JavaScript (the time slider, the in-browser inclusion-proof check).
//! - one module per page: [`todo`] (待办 and 预警, the first page after signing in), [`mine`]
//!   (我的责任, what a responsible person answers for), [`standings`], [`annual`] (the year's result), [`sheet`] (sheet, item history, entry forms), [`changes`],
//!   [`rubric`], [`closed_loop`], [`appeals`], [`integrity`], [`charts`] (SVG drawn here), [`sign_in`].
//! - the workplace (entry forms for every role): [`work`] (办理, where each role starts), [`grid`]
//!   (a whole sheet on one page: scores, self-assessment, reviews), [`cases`] (filing appeals,
//!   raising and working rectifications), [`admin`] (periods, business results, units, people,
//!   roles, tokens, rubric adjustments), and [`forms`] (what the forms share, and where each API
//!   write has its form).
//! - paper and files (issue 16): [`print`] (the printed title block and signature lines, the 公示
//!   notice), [`import`] (the score-sheet and business-results templates as `.xlsx`; upload →
//!   preview → confirm of either).
//! - evidence files (issue 18): [`evidence`] (the forms' file field and drop zone, uploading through
//!   the API, the list of cited files with previews, `/evidence/{sha256}`).

pub mod admin;
pub mod annual;
pub mod appeals;
pub mod cases;
pub mod changes;
pub mod charts;
pub mod client;
pub mod closed_loop;
pub mod evidence;
pub mod exports;
pub mod format;
pub mod forms;
pub mod grid;
pub mod guard;
pub mod i18n;
pub mod import;
pub mod integrity;
pub mod layout;
pub mod mine;
pub mod names;
pub mod print;
pub mod rubric;
pub mod sheet;
pub mod sign_in;
pub mod standings;
pub mod todo;
pub mod work;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

pub use guard::Settings;

/// What every page handler shares: the API router it calls.
#[derive(Clone)]
pub struct Console {
    pub api: Router,
    /// The evidence limits (forms with files).
    pub evidence: crate::http::evidence::EvidenceLimits,
}

/// The console's routes; anything else falls through to `api` (whose fallback answers problem+json).
/// Every console route passes [`guard::layer`] (the API's routes do not: they take no cookies).
pub fn router(api: Router, settings: Settings) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/todo") }))
        .route("/favicon.ico", get(favicon))
        .route("/todo", get(todo::page))
        .route("/mine", get(mine::page))
        .route("/sign-in", get(sign_in::form_page).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/lang/{lang}", get(i18n::switch))
        .route("/assets/console.css", get(css))
        .route("/assets/console.js", get(js))
        .route("/standings", get(standings::page))
        .route("/annual", get(annual::page))
        .route("/periods/{period}/units/{unit}", get(sheet::sheet_page))
        .route(
            "/periods/{period}/units/{unit}/items/{item}",
            get(sheet::item_page),
        )
        .route(
            "/periods/{period}/units/{unit}/items/{item}/{action}",
            post(sheet::submit).layer(DefaultBodyLimit::disable()),
        )
        // The workplace: entry forms for every role (issue 15).
        .route(
            "/periods/{period}/units/{unit}/grid",
            get(grid::page).post(grid::submit),
        )
        .route(
            "/periods/{period}/units/{unit}/sheet-review",
            post(grid::review),
        )
        .route("/work", get(work::page))
        .route(
            "/admin/periods",
            get(admin::periods_page).post(admin::periods_submit),
        )
        .route(
            "/admin/people",
            get(admin::people_page).post(admin::people_submit),
        )
        .route(
            "/admin/tokens",
            get(admin::tokens_page).post(admin::tokens_submit),
        )
        .route(
            "/admin/rubric",
            get(admin::rubric_page).post(admin::rubric_submit),
        )
        .route(
            "/periods/{period}/business",
            get(admin::business_page).post(admin::business_submit),
        )
        .route(
            "/appeals/new",
            get(cases::appeal_page)
                .post(cases::file_appeal)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/rectifications/new",
            get(cases::raise_page).post(cases::raise),
        )
        .route(
            "/rectifications/{rectification}",
            get(cases::rectification_page),
        )
        .route(
            "/rectifications/{rectification}/{action}",
            post(cases::act).layer(DefaultBodyLimit::disable()),
        )
        .route("/changes", get(changes::page))
        .route("/changes.csv", get(changes::csv))
        // Excel downloads of what the pages show (issue 16).
        .route("/changes.xlsx", get(exports::changes))
        .route("/standings.xlsx", get(exports::standings))
        .route("/rectifications.xlsx", get(exports::closed_loop))
        .route(
            "/periods/{period}/units/{unit}/sheet.xlsx",
            get(exports::sheet),
        )
        .route(
            "/periods/{period}/units/{unit}/items/{item}/history.xlsx",
            get(exports::item_history),
        )
        .route("/rubrics", get(rubric::page))
        .route(
            "/rubrics/{rubric}/{version}/template.xlsx",
            get(import::template),
        )
        .route("/periods/{period}/notice", get(print::notice))
        .route("/import", get(import::page).post(import::preview))
        .route("/import/confirm", post(import::confirm))
        .route(
            "/periods/{period}/business/import",
            get(import::business_page).post(import::business_preview),
        )
        .route(
            "/periods/{period}/business/import/confirm",
            post(import::business_confirm),
        )
        .route(
            "/periods/{period}/business/template.xlsx",
            get(import::business_template),
        )
        .route("/rectifications", get(closed_loop::page))
        .route("/appeals", get(appeals::page))
        .route("/appeals/{appeal}/decision", post(appeals::decide))
        .route("/integrity", get(integrity::page))
        .route("/integrity/verify", post(integrity::verify))
        .route("/integrity/proof", get(integrity::proof))
        .route("/charts", get(charts::page))
        .route_layer(middleware::from_fn_with_state(settings, guard::layer))
        // A file keeps the API's own headers (its sandbox policy above all), not a page's.
        .route("/evidence/{sha256}", get(evidence::serve))
        .fallback(fallback)
        .with_state(Console {
            api,
            evidence: settings.evidence,
        })
}

/// What no console route serves: the API's paths (and the health checks) go to the API, which
/// answers problem+json; any other path is a page nobody has, answered as a page in the reader's
/// language.
async fn fallback(
    axum::extract::State(console): axum::extract::State<Console>,
    request: axum::extract::Request,
) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") || path == "/healthz" || path == "/readyz" {
        use tower_service::Service as _;
        let mut api = console.api.clone();
        return match api.call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    }
    let lang = i18n::Lang::of(request.headers());
    client::Failure::not_found(
        lang,
        lang.t(
            "没有这个页面, 请从导航进入.",
            "There is no such page; start from the navigation.",
        ),
    )
    .into_response()
}

const CSS: &str = include_str!("assets/console.css");
const FAVICON: &str = include_str!("assets/favicon.svg");

/// `GET /favicon.ico`: browsers ask for it whatever the page says; an SVG answers (every browser
/// the console supports draws SVG icons), so no binary asset is kept.
async fn favicon() -> Response {
    asset("image/svg+xml", FAVICON)
}
const JS: &str = include_str!("assets/console.js");

async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
