//! One language at a time: every console page, for every role, over the demo ledger, in zh and in
//! en. A zh page holds no English word and an en page no Chinese character, outside what people
//! recorded (names, reasons, notes: the ledger's content, shown as written), codes (ids, item and
//! period codes, hashes, numbers, and `<code>`: a command or a file format, typed as it is in any
//! language) and the short allow-list below. What is checked is what people read: the text of the
//! page without its scripts and styles, and the attributes read aloud or shown (`title`,
//! `placeholder`, `aria-label`, `alt`, a button's `value`).

use std::collections::BTreeSet;

use hyper::Method;
use ledger::store::{Direction, EventStore as _, ReadFrom};
use ledger_schemas::Role;
use serde_json::Value;

use crate::browser_support::DemoSite;
use crate::http_support::Reply;

/// English words a zh page may show, each for a reason.
const ZH_ALLOWED: &[(&str, &str)] = &[
    // The language switch names the other language in that language, as every site does.
    ("English", "the language switch"),
    // File formats are named by their extension in the office too ("导出 CSV").
    ("CSV", "a file format"),
    ("XLSX", "a file format"),
    // The spreadsheet program the office exports to by name ("导出 Excel"); it has no Chinese name.
    ("Excel", "a program's name"),
    // Evidence files' formats and the word processor, as the office names them ("PDF 文件", "Word 文档").
    ("PDF", "a file format"),
    ("Word", "a program's name"),
    // The algorithm the auditors verify with; it has no Chinese name.
    ("SHA-256", "an algorithm's name"),
    ("Merkle", "an algorithm's name (Merkle 树)"),
    ("Ed25519", "an algorithm's name"),
];

/// Developer words a zh page must not use, with the office's word for each: what the reader works
/// with is a record (记录序号), not a log position or an API.
const ZH_DEVELOPER_WORDS: &[(&str, &str)] = &[
    ("位置", "记录序号 (the record's number), not a log position"),
    ("接口", "操作, 页面: the reader does not call an interface"),
    ("十六进制", "nobody types a token by its digits"),
];

/// Chinese an en page may show: the language switch.
const EN_ALLOWED: &[(&str, &str)] = &[("中文", "the language switch")];

/// The pages people open (every role opens every one; a refusal is a page too).
const PAGES: &[&str] = &[
    "/todo",
    "/work",
    "/mine",
    "/standings?period=2026Q3",
    "/standings?period=2026Q4",
    "/annual",
    "/changes",
    "/rubrics",
    "/rectifications",
    "/rectifications/ZG-2026Q3-01",
    "/appeals",
    "/appeals/new",
    "/rectifications/new",
    "/charts",
    "/integrity",
    "/admin/periods",
    "/admin/people",
    "/admin/tokens",
    "/admin/rubric",
    "/periods/2026Q4/business",
    "/periods/2026Q4/business/import",
    "/periods/2026Q4/units/SH-NY-B2",
    "/periods/2026Q4/units/SH-NY-B2/grid",
    "/periods/2026Q4/units/SH-NY-B2/items/F5",
    "/periods/2026Q3/units/SH-CZ-B1",
    "/periods/2026Q3/units/SH-CZ-B1/items/C1",
    "/no-such-page",
];

const ROLES: [Role; 6] = [
    Role::Admin,
    Role::Assessor,
    Role::Reviewer,
    Role::Auditor,
    Role::Unit,
    Role::Responsible,
];

/// What people recorded (names, reasons, notes, comments, evidence) and every id: shown as
/// written, in whatever language they were written. Rubric texts (`{zh, en}`) are not content: a
/// page picks the half of its language.
pub struct Recorded {
    /// Free texts, longest first (so a longer text is taken out before a part of it).
    texts: Vec<String>,
    /// Ids and codes.
    ids: BTreeSet<String>,
}

impl Recorded {
    pub async fn of(site: &DemoSite) -> Recorded {
        let events = site
            .server
            .store
            .read_all(Direction::Forwards, ReadFrom::At(1), 1_000_000)
            .await
            .expect("the log");
        let mut texts = BTreeSet::new();
        let mut ids = BTreeSet::new();
        for e in &events {
            ids.insert(e.actor.person.to_string());
            if let Some(reason) = &e.reason {
                texts.insert(reason.clone());
            }
            let payload: Value = serde_json::from_str(&e.payload).expect("json");
            collect(&payload, None, &mut texts, &mut ids);
        }
        let mut texts: Vec<String> = texts.into_iter().collect();
        texts.sort_by_key(|t| std::cmp::Reverse(t.chars().count()));
        Recorded { texts, ids }
    }

    /// `text` without what was recorded.
    fn strip(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for t in &self.texts {
            if out.contains(t.as_str()) {
                out = out.replace(t.as_str(), " ");
            }
        }
        out
    }
}

/// The payload fields that hold ids and codes (an enum's value, such as a ladder level, is a word
/// the page must translate, not a code).
const ID_KEYS: &[&str] = &[
    "unit",
    "units",
    "period",
    "rubric",
    "person",
    "appeal",
    "rectification",
    "token",
    "responsible",
    "parent",
    "approver",
    "item",
    "code",
    "aspect",
];

fn collect(v: &Value, key: Option<&str>, texts: &mut BTreeSet<String>, ids: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            if matches!(key, Some("zh" | "en")) {
                return;
            }
            if s.chars().any(|c| !c.is_ascii() || c.is_whitespace()) {
                texts.insert(s.clone());
            } else if key.is_some_and(|k| ID_KEYS.contains(&k)) {
                ids.insert(s.clone());
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect(i, key, texts, ids)),
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| collect(v, Some(k.as_str()), texts, ids)),
        _ => {}
    }
}

/// What people read on a page: its text without scripts, styles and comments, and the attributes
/// shown or read aloud, one piece per line.
pub fn visible_text(html: &str) -> String {
    text_of(html, false)
}

/// The text a reader sees at a glance: [`visible_text`] without what is shown smaller or on
/// hover (an element with `data-id`, `<small>`, `title` attributes), where ids belong.
pub fn glance_text(html: &str) -> String {
    text_of(html, true)
}

fn text_of(html: &str, glance: bool) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode(&rest[..lt]));
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.split_once("-->").map_or("", |(_, r)| r);
            continue;
        }
        let Some(gt) = tag_end(rest) else { break };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        // A command or a file's format is typed as it is in every language: `<code>` is not prose,
        // nor a key's name on the keyboard (`<kbd>`).
        if matches!(name.as_str(), "script" | "style" | "code" | "kbd") {
            let close = format!("</{name}");
            rest = rest.find(&close).map_or("", |i| &rest[i..]);
            rest = rest.find('>').map_or("", |i| &rest[i + 1..]);
            continue;
        }
        let attrs = attributes(tag);
        let get = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        // Text quoted as a person wrote it in a file not yet recorded (an upload's preview: its
        // name, its headers and cells) is marked `translate="no"`, as HTML says such text is.
        let as_written = get("translate") == Some("no");
        if (as_written || glance && (name == "small" || get("data-id").is_some()))
            && !tag.ends_with('/')
        {
            let close = format!("</{name}");
            rest = rest.find(&close).map_or("", |i| &rest[i..]);
            rest = rest.find('>').map_or("", |i| &rest[i + 1..]);
            continue;
        }
        let read: &[&str] = if glance {
            &["placeholder", "aria-label", "alt"]
        } else {
            &["title", "placeholder", "aria-label", "alt"]
        };
        for read in read {
            if let Some(v) = get(read) {
                out.push('\n');
                out.push_str(&decode(v));
            }
        }
        if name == "input"
            && matches!(get("type"), Some("submit" | "button" | "reset"))
            && let Some(v) = get("value")
        {
            out.push('\n');
            out.push_str(&decode(v));
        }
        out.push('\n');
    }
    out.push_str(&decode(rest));
    out
}

/// Where a tag that starts `s` ends (a `>` outside quotes).
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// A tag's attributes, names lower-cased, values as written.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = tag.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '/');
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return out;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..end].to_ascii_lowercase();
        rest = rest[end..].trim_start();
        let value = if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (value, tail) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => after[1..].split_once(q).unwrap_or((&after[1..], "")),
                _ => {
                    let e = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..e], &after[e..])
                }
            };
            rest = tail;
            value.to_owned()
        } else {
            String::new()
        };
        if name.is_empty() {
            return out;
        }
        out.push((name, value));
    }
}

fn decode(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

fn is_chinese(c: char) -> bool {
    matches!(c,
        '\u{3000}'..='\u{303f}' // CJK punctuation: 、。「」
        | '\u{3400}'..='\u{4dbf}'
        | '\u{4e00}'..='\u{9fff}'
        | '\u{f900}'..='\u{faff}'
        | '\u{ff00}'..='\u{ffef}') // full-width forms: （），：
}

/// English words in a zh page's text (after what was recorded is taken out).
pub fn english_words(text: &str, recorded: &Recorded) -> Vec<String> {
    let text = recorded.strip(text);
    let mut found = Vec::new();
    for token in text.split(|c: char| c.is_whitespace() || !c.is_ascii()) {
        let token = token.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if token.is_empty()
            || !token.chars().any(|c| c.is_ascii_alphabetic())
            || token.chars().any(|c| c.is_ascii_digit())
            || recorded.ids.contains(token)
            || ZH_ALLOWED.iter().any(|(w, _)| *w == token)
        {
            continue;
        }
        // Parts of a code joined by punctuation: `2026Q4/SH-NY-B2` or `A·F5`.
        if token
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_')
            .all(|part| {
                part.is_empty()
                    || part.chars().any(|c| c.is_ascii_digit())
                    || recorded.ids.contains(part)
            })
        {
            continue;
        }
        found.push(token.to_owned());
    }
    found
}

/// Chinese in an en page's text (after what was recorded is taken out), with some context.
pub fn chinese_runs(text: &str, recorded: &Recorded) -> Vec<String> {
    let mut text = recorded.strip(text);
    for (allowed, _) in EN_ALLOWED {
        text = text.replace(allowed, " ");
    }
    text.lines()
        .filter(|line| line.chars().any(is_chinese))
        .map(|line| line.trim().to_owned())
        .collect()
}

async fn get(site: &DemoSite, role: Option<Role>, lang: &str, path: &str) -> Reply {
    let cookie = match role {
        Some(role) => format!("ledger_lang={lang}; ledger_token={}", site.token(role)),
        None => format!("ledger_lang={lang}"),
    };
    site.server
        .raw(Method::GET, path, &[("cookie", &cookie)], b"")
        .await
}

async fn post(site: &DemoSite, role: Option<Role>, lang: &str, path: &str, form: &str) -> Reply {
    let cookie = match role {
        Some(role) => format!("ledger_lang={lang}; ledger_token={}", site.token(role)),
        None => format!("ledger_lang={lang}"),
    };
    site.server
        .raw(
            Method::POST,
            path,
            &[
                ("cookie", &cookie),
                ("content-type", "application/x-www-form-urlencoded"),
                ("origin", &site.server.url("")),
            ],
            form.as_bytes(),
        )
        .await
}

/// What one page shows in the wrong language, if anything.
fn check(lang: &str, what: &str, reply: &Reply, recorded: &Recorded, wrong: &mut Vec<String>) {
    let text = visible_text(&reply.text);
    let found = if lang == "zh" {
        let mut found = english_words(&text, recorded);
        let prose = recorded.strip(&text);
        found.extend(
            ZH_DEVELOPER_WORDS
                .iter()
                .filter(|(w, _)| prose.contains(w))
                .map(|(w, instead)| format!("{w} (say {instead})")),
        );
        found
    } else {
        chinese_runs(&text, recorded)
    };
    if !found.is_empty() {
        let mut found: Vec<_> = found
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        found.truncate(12);
        wrong.push(format!("{lang} {what} ({}): {found:?}", reply.status));
    }
}

/// A rectification submitted with evidence files (a picture, a PDF, a text), for its page.
async fn rectification_with_files(site: &DemoSite) -> String {
    let me = site.api(Role::Unit, "/api/v1/me").await;
    let unit = me["units"][0].as_str().unwrap().to_owned();
    crate::console_work::raise(site, "RECT-FILES", &unit, "F5").await;
    let pdf = ledger::evidence::sniff::samples::pdf();
    // Over a kilobyte, so that its size reads in KB.
    let text = "整改说明".repeat(100);
    let token = site.token(Role::Unit);
    let up = crate::http_evidence::upload(
        &site.server,
        token,
        &[
            ("签到表.png", ledger::evidence::sniff::samples::PNG),
            ("会议纪要.pdf", &pdf),
            ("整改说明.txt", text.as_bytes()),
        ],
    )
    .await;
    assert_eq!(up.status, 201, "{}", up.text);
    let files: Vec<Value> = up.json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| serde_json::json!({"sha256": f["sha256"], "name": f["name"]}))
        .collect();
    let submitted = site
        .server
        .post(
            "/api/v1/rectifications/RECT-FILES/submission",
            token,
            serde_json::json!({"note": "已补齐", "files": files}),
        )
        .await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    let page = get(
        site,
        Some(Role::Reviewer),
        "zh",
        "/rectifications/RECT-FILES",
    )
    .await;
    assert!(
        page.text.contains("id=\"rect-files\""),
        "the page shows the files: {}",
        page.text
    );
    "/rectifications/RECT-FILES".to_owned()
}

/// Every page for every role in zh and in en, the sign-in page and its refusal, an error page and
/// a form's refusal: each speaks one language (the allow-lists above aside).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_speaks_one_language() {
    let site = DemoSite::start().await;
    let with_files = rectification_with_files(&site).await;
    let recorded = Recorded::of(&site).await;
    let me = site.api(Role::Assessor, "/api/v1/me").await;
    let assessed = me["units"][0].as_str().unwrap().to_owned();
    let mut wrong = Vec::new();
    for lang in ["zh", "en"] {
        for role in ROLES {
            for path in PAGES.iter().chain([&with_files.as_str()]) {
                let reply = get(&site, Some(role), lang, path).await;
                assert!(reply.status < 500, "{role} {path}: {}", reply.status);
                check(
                    lang,
                    &format!("{role} {path}"),
                    &reply,
                    &recorded,
                    &mut wrong,
                );
            }
        }
        let sign_in = get(&site, None, lang, "/sign-in").await;
        check(lang, "/sign-in", &sign_in, &recorded, &mut wrong);
        let refused = post(&site, None, lang, "/sign-in", "token=not-a-token").await;
        check(lang, "/sign-in refused", &refused, &recorded, &mut wrong);
        let empty = post(&site, None, lang, "/sign-in", "token=").await;
        check(lang, "/sign-in empty", &empty, &recorded, &mut wrong);
        // Refused forms: the API's messages, at the fields and above the form.
        let grid = format!("/periods/2026Q4/units/{assessed}/grid");
        let refusals = [
            (
                Role::Admin,
                "/admin/tokens",
                "form=issue&person=assessor-zhang&role=auditor",
            ),
            (
                Role::Admin,
                "/admin/periods",
                "form=open&period=2027Q9&name=&cadence=quarterly&starts_on=2027-09-01&ends_on=2027-01-01&rubric=default",
            ),
            (
                Role::Admin,
                "/admin/periods",
                "form=advance:2026Q4&period=2026Q4&to=opened",
            ),
            (
                Role::Unit,
                "/appeals/new",
                "period=2026Q3&unit=SH-CZ-B1&grounds=",
            ),
            (
                Role::Assessor,
                grid.as_str(),
                "A1/points=99&A2/points=abc&ZZ9/points=1",
            ),
            // An appeal citing a file never uploaded: the refusal at the file field (what was typed
            // is neutral: it comes back on the page in either language).
            (
                Role::Unit,
                "/appeals/new",
                "period=2026Q3&unit=SH-CZ-B1&grounds=2026-1&kept_files=%5B%7B%22sha256%22%3A%22abababababababababababababababababababababababababababababababab%22%2C%22name%22%3A%222026-1.pdf%22%7D%5D",
            ),
        ];
        // A business-results file previewed with row errors (an unknown unit, a score over 100),
        // and a good one previewed row by row.
        let cookie = format!(
            "ledger_lang={lang}; ledger_token={}",
            site.token(Role::Admin)
        );
        for (name, file) in [
            (
                "bad",
                "unit,score,vetoed,source\nSH-NY-B2,101,否,责任书\nSH-NY-B1,80,否,\n",
            ),
            (
                "good",
                "unit,score,vetoed,source,reason\nSH-NY-B2,80,否,责任书,复核\n",
            ),
        ] {
            let (content_type, body) =
                crate::console_files::multipart("2026Q4", "business.csv", file.as_bytes());
            let reply = site
                .server
                .raw(
                    Method::POST,
                    "/periods/2026Q4/business/import",
                    &[
                        ("cookie", &cookie),
                        ("content-type", &content_type),
                        ("origin", &site.server.url("")),
                    ],
                    &body,
                )
                .await;
            assert!(reply.status < 500, "{name}: {}", reply.status);
            check(
                lang,
                &format!("business import preview ({name})"),
                &reply,
                &recorded,
                &mut wrong,
            );
        }
        for (role, path, form) in refusals {
            let reply = post(&site, Some(role), lang, path, form).await;
            assert!(
                (400..500).contains(&reply.status),
                "{role} {path} {form}: {}",
                reply.status
            );
            check(
                lang,
                &format!("{role} POST {path} {form}"),
                &reply,
                &recorded,
                &mut wrong,
            );
        }
    }
    assert!(
        wrong.is_empty(),
        "{} pages speak the wrong language:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Every page for every role names people and units by name: a person's or unit's id never stands
/// where the reader looks first (it may stand smaller, in an element marked with `data-id`, or on
/// hover).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_shows_a_bare_id_where_a_name_exists() {
    let site = DemoSite::start().await;
    // The names each role may read: every role reads the names directory (`/api/v1/people/names`)
    // and the units, so no page of any role may show a person or a unit by bare id.
    let named = |list: &Value, key: &str, id: &str| -> BTreeSet<String> {
        list[key]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter(|e| e["name"].as_str().is_some_and(|n| !n.is_empty()))
                    .map(|e| e[id].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let recorded = Recorded::of(&site).await;
    let mut bare = Vec::new();
    let mut checked = 0;
    for role in ROLES {
        let mut ids = BTreeSet::new();
        for (path, key, id) in [
            ("/api/v1/people/names", "people", "person"),
            ("/api/v1/units", "units", "unit"),
        ] {
            let reply = site.server.get(path, site.token(role)).await;
            assert_eq!(reply.status, 200, "{role} reads {path}: {}", reply.text);
            ids.extend(named(&reply.json, key, id));
        }
        assert!(
            ids.contains("assessor-zhang") && ids.contains("reviewer-chen"),
            "{role} reads every person's name: {ids:?}"
        );
        for path in PAGES {
            let reply = get(&site, Some(role), "zh", path).await;
            // A refusal names what it refuses by its id, as the API does.
            if reply.status != 200 {
                continue;
            }
            checked += 1;
            // What people recorded (an evidence reference such as `2026Q3/SH-CZ-B1/C1/x.pdf`) is
            // shown as written.
            let text = recorded.strip(&glance_text(&reply.text));
            // Each id found, with the line it stands on.
            let found: BTreeSet<String> = text
                .lines()
                .flat_map(|line| {
                    line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                        .filter(|t| ids.contains(*t))
                        .map(move |t| format!("{t} in “{}”", line.trim()))
                })
                .take(5)
                .collect();
            if !found.is_empty() {
                bare.push(format!("{role} {path}: {found:?}"));
            }
        }
    }
    assert!(checked > 60, "{checked} pages");
    // The change log filters by picking a person, a unit, an item or an aspect by name, not by
    // typing an id.
    let log = get(&site, Some(Role::Auditor), "zh", "/changes").await.text;
    for filter in ["person", "unit", "item", "aspect"] {
        assert!(
            log.contains(&format!("<select name=\"{filter}\"")),
            "{filter}"
        );
        assert!(
            !log.contains(&format!("<input name=\"{filter}\"")),
            "{filter}"
        );
    }
    assert!(
        bare.is_empty(),
        "ids where names exist:\n{}",
        bare.join("\n")
    );
}

/// The checker itself: it finds an English word in zh text and a Chinese character in en text,
/// and lets codes, numbers, ids and recorded text pass.
#[test]
fn the_checker_finds_the_other_language() {
    let recorded = Recorded {
        texts: vec!["记录不全 (incomplete records)".into()],
        ids: ["assessor-zhang".to_owned(), "A".to_owned()].into(),
    };
    let page = r#"<html><head><title>排名</title><style>p{color:red}</style><script>let x="English";</script></head>
        <body><h1 title="score">评分 8.50 2026Q4/SH-NY-B2 A assessor-zhang 记录不全 (incomplete records)</h1>
        <input type="submit" value="Save"><input placeholder="例如"><!-- a comment -->
        <p>用 <code>ledger audit checkpoint</code> 签发</p></body></html>"#;
    let text = visible_text(page);
    assert!(!text.contains("color"), "{text}");
    assert_eq!(english_words(&text, &recorded), ["score", "Save"]);
    let en = r#"<p aria-label="排名">Standings 8.50</p><p>Level 一般</p>"#;
    assert_eq!(
        chinese_runs(&visible_text(en), &recorded),
        ["排名", "Level 一般"]
    );
    assert!(chinese_runs("<p>Standings</p>", &recorded).is_empty());
    let named = r#"<td><span title="assessor-zhang" data-id="assessor-zhang">张伟</span> <small>SH-NY</small> SH-WL</td>"#;
    assert_eq!(
        glance_text(named).split_whitespace().collect::<Vec<_>>(),
        ["SH-WL"]
    );
}
