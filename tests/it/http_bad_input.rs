//! Bad input, case by case: malformed JSON, wrong types, missing and unknown fields, amounts out of
//! range, unknown ids, oversized bodies, invalid UTF-8, bad headers and query strings, unknown routes
//! and methods. Each gets its 4xx status and a problem+json body naming the field where there is one;
//! none is a 5xx, and none records anything.

use http_body_util::Full;
use hyper::Method;
use hyper::body::Bytes;
use serde_json::{Value, json};

use crate::http_support::{Contract, Server, cast, request, scoring_period};

/// Who sends a case.
#[derive(Clone, Copy, Debug)]
enum As {
    Admin,
    Assessor,
    Reviewer,
    Auditor,
    Unit,
}

/// One bad request and what it must get.
struct Case {
    what: &'static str,
    who: As,
    method: Method,
    path: String,
    /// The raw body, with its content type (none: no body, no content type).
    body: Option<(&'static str, Vec<u8>)>,
    headers: Vec<(&'static str, String)>,
    status: u16,
    code: &'static str,
    /// The field the problem must name, if any.
    field: Option<&'static str>,
    /// What the reason given for that field must say (a character's code point, say): each of its
    /// `|`-separated parts.
    says: Option<String>,
}

fn json_body(value: Value) -> Option<(&'static str, Vec<u8>)> {
    Some(("application/json", serde_json::to_vec(&value).unwrap()))
}

fn raw(bytes: &[u8]) -> Option<(&'static str, Vec<u8>)> {
    Some(("application/json", bytes.to_vec()))
}

#[allow(clippy::too_many_arguments)]
fn case(
    what: &'static str,
    who: As,
    method: Method,
    path: &str,
    body: Option<(&'static str, Vec<u8>)>,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
) -> Case {
    Case {
        what,
        who,
        method,
        path: path.to_owned(),
        body,
        headers: Vec::new(),
        status,
        code,
        field,
        says: None,
    }
}

/// The characters that must never be recorded in text, by code point: C0 and C1 controls, DEL, the
/// bidirectional embeddings, overrides, isolates and marks.
const REFUSED_EVERYWHERE: [char; 19] = [
    '\u{0}', '\u{7}', '\u{1b}', '\u{8}', '\u{7f}', '\u{85}', '\u{9b}', '\u{202a}', '\u{202b}',
    '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{200e}',
    '\u{200f}', '\u{61c}',
];

/// A row per refused character (in a unit's name, then per line break in a name and a lone CR in a
/// note), per over-long field, per over-long list: each a 422 naming the field (and the character).
fn text_cases() -> Vec<Case> {
    use As::*;
    let post = Method::POST;
    let leak = |s: String| -> &'static str { s.leak() };
    let named = |what: String, name: String, says: String| {
        let mut c = case(
            leak(what),
            Admin,
            post.clone(),
            "/api/v1/units",
            json_body(json!({"unit": "X9", "name": name, "kind": "branch"})),
            422,
            "invalid-request",
            Some("name"),
        );
        c.says = Some(says);
        c
    };
    let mut cases = Vec::new();
    for ch in REFUSED_EVERYWHERE
        .into_iter()
        .chain(['\n', '\t', '\r', '\u{2028}'])
    {
        let code = format!("U+{:04X}", ch as u32);
        cases.push(named(
            format!("{code} in a name"),
            format!("盛和{ch}[31m支部"),
            format!("{code}|at character 3"),
        ));
    }
    cases.push(named(
        "a name of 201 characters".into(),
        "名".repeat(201),
        "longer than 200 characters (201)".into(),
    ));
    cases.push(named(
        "a name of 300,000 characters".into(),
        "名".repeat(300_000),
        "(300000)".into(),
    ));
    let with_says = |mut c: Case, says: &str| {
        c.says = Some(says.to_owned());
        c
    };
    let score = |body: Value| json_body(body);
    cases.extend([
        with_says(
            case(
                "a lone CR in a note",
                Assessor,
                post.clone(),
                SCORE,
                score(json!({"value": {"kind": "points", "points": "1"}, "note": "第一行\r第二行"})),
                422,
                "invalid-request",
                Some("note"),
            ),
            "U+000D CARRIAGE RETURN|at character 4",
        ),
        with_says(
            case(
                "a bidi override in a note",
                Assessor,
                post.clone(),
                SCORE,
                score(json!({"value": {"kind": "points", "points": "1"}, "note": "分数\u{202e}01"})),
                422,
                "invalid-request",
                Some("note"),
            ),
            "U+202E RIGHT-TO-LEFT OVERRIDE|at character 3",
        ),
        with_says(
            case(
                "a note of 4,001 characters",
                Assessor,
                post.clone(),
                SCORE,
                score(json!({"value": {"kind": "points", "points": "1"}, "note": "注".repeat(4001)})),
                422,
                "invalid-request",
                Some("note"),
            ),
            "longer than 4000 characters",
        ),
        with_says(
            case(
                "101 evidence entries",
                Assessor,
                post.clone(),
                SCORE,
                score(json!({"value": {"kind": "points", "points": "1"}, "evidence": vec!["会议记录"; 101]})),
                422,
                "invalid-request",
                Some("evidence"),
            ),
            "more than 100 entries (101)",
        ),
        with_says(
            case(
                "60,000 evidence entries",
                Assessor,
                post.clone(),
                SCORE,
                score(json!({"value": {"kind": "points", "points": "1"}, "evidence": vec!["x"; 60_000]})),
                422,
                "invalid-request",
                Some("evidence"),
            ),
            "(60000)",
        ),
        with_says(
            case(
                "an evidence entry of 501 characters",
                Assessor,
                post.clone(),
                SCORE,
                score(json!({"value": {"kind": "points", "points": "1"}, "evidence": ["x".repeat(501)]})),
                422,
                "invalid-request",
                Some("evidence[0]"),
            ),
            "longer than 500 characters",
        ),
        with_says(
            case(
                "a line break in an evidence entry",
                Assessor,
                post.clone(),
                SCORE,
                score(json!({"value": {"kind": "points", "points": "1"}, "evidence": ["ok", "a\nb"]})),
                422,
                "invalid-request",
                Some("evidence[1]"),
            ),
            "U+000A LINE FEED",
        ),
        with_says(
            case(
                "an escape sequence in an award title",
                Assessor,
                post.clone(),
                "/api/v1/periods/2026Q1/units/SH-01/items/G2/score",
                score(json!({"value": {"kind": "awards", "awards": [{"title": "表彰\u{1b}[2J", "points": "1"}]}})),
                422,
                "invalid-request",
                Some("value.awards[0].title"),
            ),
            "U+001B ESCAPE",
        ),
        with_says(
            case(
                "a correction reason of 4,001 characters",
                Assessor,
                post.clone(),
                "/api/v1/periods/2026Q1/units/SH-01/items/A2/correction",
                json_body(json!({"previous": {"kind": "points", "points": "3"}, "value": {"kind": "points", "points": "2"}, "reason": "因".repeat(4001)})),
                422,
                "invalid-request",
                Some("reason"),
            ),
            "longer than 4000 characters",
        ),
        with_says(
            case(
                "an isolate in appeal grounds",
                Unit,
                post.clone(),
                "/api/v1/appeals",
                json_body(json!({"appeal": "AP-X", "period": "2026Q1", "unit": "SH-01", "grounds": "理由\u{2067}x"})),
                422,
                "invalid-request",
                Some("grounds"),
            ),
            "U+2067 RIGHT-TO-LEFT ISOLATE",
        ),
        with_says(
            case(
                "a NUL in a rectification finding",
                Reviewer,
                post.clone(),
                "/api/v1/rectifications",
                json_body(json!({"rectification": "RC-X", "period": "2026Q1", "unit": "SH-01", "item": "A2", "due_on": "2099-01-01", "finding": "问题\u{0}", "origin": "review"})),
                422,
                "invalid-request",
                Some("finding"),
            ),
            "U+0000 NULL",
        ),
        with_says(
            case(
                "a bidi override in a review comment",
                Reviewer,
                post.clone(),
                "/api/v1/periods/2026Q1/units/SH-01/items/A2/review",
                json_body(json!({"decision": "rejected", "comment": "\u{202e}不予通过"})),
                422,
                "invalid-request",
                Some("comment"),
            ),
            "U+202E",
        ),
        with_says(
            case(
                "a person's name of 201 characters",
                Admin,
                post.clone(),
                "/api/v1/people",
                json_body(json!({"person": "p-long", "name": "x".repeat(201)})),
                422,
                "invalid-request",
                Some("name"),
            ),
            "longer than 200 characters",
        ),
        with_says(
            case(
                "a control character in a revocation reason",
                Admin,
                post.clone(),
                "/api/v1/tokens/tok-nope/revocation",
                json_body(json!({"reason": "离职\u{7}"})),
                422,
                "invalid-request",
                Some("reason"),
            ),
            "U+0007 BELL",
        ),
        with_says(
            case(
                "a bidi override in a rubric's aspect title",
                Admin,
                post.clone(),
                "/api/v1/rubrics",
                json_body({
                    let mut definition: Value =
                        serde_json::from_str(ledger_projections::rubric::DEFAULT_TEMPLATE_JSON)
                            .unwrap();
                    definition["aspects"][0]["title"]["zh"] = json!("组织\u{202d}建设");
                    json!({"rubric": "r-bidi", "definition": definition})
                }),
                422,
                "invalid-request",
                Some("definition.aspects[0].title.zh"),
            ),
            "U+202D LEFT-TO-RIGHT OVERRIDE",
        ),
        // ---- points as the document writes them ----
        case(
            "points with a leading space",
            Assessor,
            post.clone(),
            SCORE,
            score(json!({"value": {"kind": "points", "points": " 1"}})),
            422,
            "invalid-request",
            Some("value.points"),
        ),
        case(
            "points with six digits before the point",
            Assessor,
            post.clone(),
            SCORE,
            score(json!({"value": {"kind": "points", "points": "000001"}})),
            422,
            "invalid-request",
            Some("value.points"),
        ),
        // ---- encodings ----
        case(
            "a gzip body",
            Admin,
            post.clone(),
            "/api/v1/units",
            Some(("application/json", vec![0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00])),
            415,
            "unsupported-content-encoding",
            Some("header.Content-Encoding"),
        ),
    ]);
    cases
}

const SCORE: &str = "/api/v1/periods/2026Q1/units/SH-01/items/A1/score";

fn cases() -> Vec<Case> {
    use As::*;
    let post = Method::POST;
    let get = Method::GET;
    let unit = |v: Value| json_body(v);
    let score = |v: Value| json_body(json!({"value": v}));
    let mut c = vec![
        // ---- the body as a whole ----
        case(
            "truncated JSON",
            Admin,
            post.clone(),
            "/api/v1/units",
            raw(br#"{"unit": "X1", "name": "#),
            400,
            "malformed-json",
            None,
        ),
        case(
            "not JSON at all",
            Admin,
            post.clone(),
            "/api/v1/units",
            raw(b"unit=X1"),
            400,
            "malformed-json",
            None,
        ),
        case(
            "invalid UTF-8",
            Admin,
            post.clone(),
            "/api/v1/units",
            raw(b"{\"unit\": \"X1\", \"name\": \"\xff\xfe\", \"kind\": \"branch\"}"),
            400,
            "invalid-utf8",
            None,
        ),
        case(
            "trailing garbage",
            Admin,
            post.clone(),
            "/api/v1/units",
            raw(br#"{"unit": "X1", "name": "n", "kind": "branch"} {}"#),
            400,
            "malformed-json",
            None,
        ),
        case(
            "empty body",
            Admin,
            post.clone(),
            "/api/v1/units",
            raw(b""),
            400,
            "malformed-json",
            None,
        ),
        case(
            "no content type",
            Admin,
            post.clone(),
            "/api/v1/units",
            None,
            415,
            "unsupported-media-type",
            None,
        ),
        case(
            "text/plain body",
            Admin,
            post.clone(),
            "/api/v1/units",
            Some(("text/plain", br#"{"unit": "X1"}"#.to_vec())),
            415,
            "unsupported-media-type",
            None,
        ),
        case(
            "oversized body",
            Admin,
            post.clone(),
            "/api/v1/units",
            Some(("application/json", {
                let mut big = br#"{"unit": "X1", "kind": "branch", "name": ""#.to_vec();
                big.extend(std::iter::repeat_n(b'x', 1024 * 1024));
                big.extend(br#""}"#);
                big
            })),
            413,
            "payload-too-large",
            None,
        ),
        case(
            "an array, not an object",
            Admin,
            post.clone(),
            "/api/v1/units",
            unit(json!(["X1"])),
            422,
            "invalid-request",
            Some(""),
        ),
        // ---- fields ----
        case(
            "missing field",
            Admin,
            post.clone(),
            "/api/v1/units",
            unit(json!({"unit": "X1", "kind": "branch"})),
            422,
            "invalid-request",
            Some("name"),
        ),
        case(
            "unknown field",
            Admin,
            post.clone(),
            "/api/v1/units",
            unit(json!({"unit": "X1", "name": "n", "kind": "branch", "colour": "red"})),
            422,
            "invalid-request",
            Some("colour"),
        ),
        case(
            "wrong type",
            Admin,
            post.clone(),
            "/api/v1/units",
            unit(json!({"unit": "X1", "name": 5, "kind": "branch"})),
            422,
            "invalid-request",
            Some("name"),
        ),
        case(
            "null for a required field",
            Admin,
            post.clone(),
            "/api/v1/units",
            unit(json!({"unit": null, "name": "n", "kind": "branch"})),
            422,
            "invalid-request",
            Some("unit"),
        ),
        case(
            "id with a space",
            Admin,
            post.clone(),
            "/api/v1/units",
            unit(json!({"unit": "X 1", "name": "n", "kind": "branch"})),
            422,
            "invalid-request",
            Some("unit"),
        ),
        case(
            "id too long",
            Admin,
            post.clone(),
            "/api/v1/units",
            unit(json!({"unit": "X".repeat(65), "name": "n", "kind": "branch"})),
            422,
            "invalid-request",
            Some("unit"),
        ),
        case(
            "unknown enum value",
            Admin,
            post.clone(),
            "/api/v1/units",
            unit(json!({"unit": "X1", "name": "n", "kind": "factory"})),
            422,
            "invalid-request",
            Some("kind"),
        ),
        case(
            "blank name",
            Admin,
            post.clone(),
            "/api/v1/units",
            unit(json!({"unit": "X1", "name": "  ", "kind": "branch"})),
            422,
            "invalid-request",
            Some("name"),
        ),
        case(
            "unknown parent unit",
            Admin,
            post.clone(),
            "/api/v1/units",
            unit(json!({"unit": "X1", "name": "n", "kind": "branch", "parent": "NOPE"})),
            404,
            "not-found",
            None,
        ),
        case(
            "unit exists already",
            Admin,
            post.clone(),
            "/api/v1/units",
            unit(json!({"unit": "SH-01", "name": "n", "kind": "branch"})),
            409,
            "already-exists",
            None,
        ),
        // ---- scores and points ----
        case(
            "points above the item's maximum",
            Assessor,
            post.clone(),
            SCORE,
            score(json!({"kind": "points", "points": "99"})),
            422,
            "rule-violated",
            None,
        ),
        case(
            "negative points",
            Assessor,
            post.clone(),
            SCORE,
            score(json!({"kind": "points", "points": "-1"})),
            422,
            "rule-violated",
            None,
        ),
        case(
            "three decimal places (string)",
            Assessor,
            post.clone(),
            SCORE,
            score(json!({"kind": "points", "points": "1.234"})),
            422,
            "invalid-request",
            Some("value.points"),
        ),
        case(
            "three decimal places (number)",
            Assessor,
            post.clone(),
            SCORE,
            score(json!({"kind": "points", "points": 1.005})),
            422,
            "invalid-request",
            Some("value.points"),
        ),
        case(
            "a huge number",
            Assessor,
            post.clone(),
            SCORE,
            raw(br#"{"value": {"kind": "points", "points": 1e300}}"#),
            422,
            "invalid-request",
            Some("value.points"),
        ),
        case(
            "NaN as points",
            Assessor,
            post.clone(),
            SCORE,
            score(json!({"kind": "points", "points": "NaN"})),
            422,
            "invalid-request",
            Some("value.points"),
        ),
        case(
            "points as a boolean",
            Assessor,
            post.clone(),
            SCORE,
            score(json!({"kind": "points", "points": true})),
            422,
            "invalid-request",
            Some("value.points"),
        ),
        case(
            "a level for a points item",
            Assessor,
            post.clone(),
            SCORE,
            score(json!({"kind": "level", "level": "good"})),
            422,
            "rule-violated",
            None,
        ),
        case(
            "value without its kind",
            Assessor,
            post.clone(),
            SCORE,
            score(json!({"points": "1"})),
            422,
            "invalid-request",
            Some("value.kind"),
        ),
        case(
            "missing value",
            Assessor,
            post.clone(),
            SCORE,
            json_body(json!({"note": "x"})),
            422,
            "invalid-request",
            Some("value"),
        ),
        case(
            "the reserved appeal source",
            Assessor,
            post.clone(),
            SCORE,
            json_body(json!({"value": {"kind": "points", "points": "1"}, "source": "appeal"})),
            422,
            "invalid-request",
            Some("source"),
        ),
        case(
            "cases below zero",
            Assessor,
            post.clone(),
            "/api/v1/periods/2026Q1/units/SH-01/items/G3/score",
            score(json!({"kind": "cases", "cases": -1})),
            422,
            "invalid-request",
            Some("value.cases"),
        ),
        case(
            "an item the rubric lacks",
            Assessor,
            post.clone(),
            "/api/v1/periods/2026Q1/units/SH-01/items/Z9/score",
            score(json!({"kind": "points", "points": "1"})),
            422,
            "rule-violated",
            None,
        ),
        case(
            "an unknown period",
            Assessor,
            post.clone(),
            "/api/v1/periods/2099Q9/units/SH-01/items/A1/score",
            score(json!({"kind": "points", "points": "1"})),
            404,
            "not-found",
            None,
        ),
        case(
            "a unit outside the period",
            Assessor,
            post.clone(),
            "/api/v1/periods/2026Q1/units/SH-03/items/A1/score",
            score(json!({"kind": "points", "points": "1"})),
            422,
            "rule-violated",
            None,
        ),
        case(
            "an invalid id in the path",
            Assessor,
            post.clone(),
            "/api/v1/periods/2026Q1/units/S%20H/items/A1/score",
            score(json!({"kind": "points", "points": "1"})),
            400,
            "invalid-path",
            Some("path.unit"),
        ),
        case(
            "a correction without a reason",
            Assessor,
            post.clone(),
            "/api/v1/periods/2026Q1/units/SH-01/items/A2/correction",
            json_body(
                json!({"previous": {"kind": "points", "points": "3"}, "value": {"kind": "points", "points": "2"}, "reason": ""}),
            ),
            422,
            "invalid-request",
            Some("reason"),
        ),
        case(
            "a correction naming a stale value",
            Assessor,
            post.clone(),
            "/api/v1/periods/2026Q1/units/SH-01/items/A2/correction",
            json_body(
                json!({"previous": {"kind": "points", "points": "1"}, "value": {"kind": "points", "points": "2"}, "reason": "x"}),
            ),
            409,
            "stale",
            None,
        ),
        case(
            "a second score on a scored item",
            Assessor,
            post.clone(),
            "/api/v1/periods/2026Q1/units/SH-01/items/A2/score",
            score(json!({"kind": "points", "points": "1"})),
            409,
            "conflict",
            None,
        ),
        case(
            "a business score above 100",
            Admin,
            Method::PUT,
            "/api/v1/periods/2026Q1/units/SH-01/business-result",
            json_body(json!({"score": 101, "source": "责任书"})),
            422,
            "rule-violated",
            None,
        ),
        // ---- periods, access, tokens, appeals ----
        case(
            "an impossible date",
            Admin,
            post.clone(),
            "/api/v1/periods",
            json_body(
                json!({"period": "P2", "name": "n", "cadence": "annual", "starts_on": "2026-02-30", "ends_on": "2026-12-31", "rubric": "default", "rubric_version": 1, "units": ["SH-01"]}),
            ),
            422,
            "invalid-request",
            Some("starts_on"),
        ),
        case(
            "dates reversed",
            Admin,
            post.clone(),
            "/api/v1/periods",
            json_body(
                json!({"period": "P2", "name": "n", "cadence": "annual", "starts_on": "2026-12-31", "ends_on": "2026-01-01", "rubric": "default", "rubric_version": 1, "units": ["SH-01"]}),
            ),
            422,
            "rule-violated",
            None,
        ),
        case(
            "a rubric version out of u32",
            Admin,
            post.clone(),
            "/api/v1/periods",
            json_body(
                json!({"period": "P2", "name": "n", "cadence": "annual", "starts_on": "2026-01-01", "ends_on": "2026-12-31", "rubric": "default", "rubric_version": 4294967296u64, "units": ["SH-01"]}),
            ),
            422,
            "invalid-request",
            Some("rubric_version"),
        ),
        case(
            "an unknown rubric version",
            Admin,
            post.clone(),
            "/api/v1/periods",
            json_body(
                json!({"period": "P2", "name": "n", "cadence": "annual", "starts_on": "2026-01-01", "ends_on": "2026-12-31", "rubric": "default", "rubric_version": 9, "units": ["SH-01"]}),
            ),
            404,
            "not-found",
            None,
        ),
        case(
            "skipping a stage",
            Admin,
            post.clone(),
            "/api/v1/periods/2026Q1/stage",
            json_body(json!({"to": "published"})),
            409,
            "wrong-stage",
            None,
        ),
        case(
            "an unknown role in the path",
            Admin,
            Method::PUT,
            "/api/v1/people/sec-01/roles/superuser",
            json_body(json!({})),
            400,
            "invalid-path",
            Some("path.role"),
        ),
        case(
            "an assessor role without units",
            Admin,
            Method::PUT,
            "/api/v1/people/sec-01/roles/assessor",
            json_body(json!({"units": []})),
            422,
            "rule-violated",
            None,
        ),
        case(
            "a token for the system role",
            Admin,
            post.clone(),
            "/api/v1/tokens",
            json_body(json!({"person": "admin-1", "role": "system"})),
            422,
            "rule-violated",
            None,
        ),
        case(
            "a token that expired already",
            Admin,
            post.clone(),
            "/api/v1/tokens",
            json_body(
                json!({"person": "admin-1", "role": "admin", "expires_at": "2001-01-01T00:00:00Z"}),
            ),
            422,
            "rule-violated",
            None,
        ),
        case(
            "a token expiry that is not a time",
            Admin,
            post.clone(),
            "/api/v1/tokens",
            json_body(json!({"person": "admin-1", "role": "admin", "expires_at": "tomorrow"})),
            422,
            "invalid-request",
            Some("expires_at"),
        ),
        case(
            "revoking an unknown token",
            Admin,
            post.clone(),
            "/api/v1/tokens/tok-nope/revocation",
            json_body(json!({})),
            404,
            "not-found",
            None,
        ),
        case(
            "an appeal before publication",
            Unit,
            post.clone(),
            "/api/v1/appeals",
            json_body(
                json!({"appeal": "AP-1", "period": "2026Q1", "unit": "SH-01", "grounds": "x"}),
            ),
            409,
            "wrong-stage",
            None,
        ),
        case(
            "a dismissal carrying a revision",
            Reviewer,
            post.clone(),
            "/api/v1/appeals/AP-9/decision",
            json_body(
                json!({"outcome": "dismissed", "decision": "x", "revised": {"item": "A1", "value": {"kind": "points", "points": "1"}}}),
            ),
            422,
            "invalid-request",
            Some("revised"),
        ),
        // ---- headers ----
        case(
            "a weak If-Match",
            Assessor,
            post.clone(),
            SCORE,
            score(json!({"kind": "points", "points": "1"})),
            400,
            "invalid-if-match",
            Some("header.If-Match"),
        ),
        case(
            "an Idempotency-Key too long",
            Assessor,
            post.clone(),
            SCORE,
            score(json!({"kind": "points", "points": "1"})),
            400,
            "invalid-idempotency-key",
            Some("header.Idempotency-Key"),
        ),
        case(
            "an Idempotency-Key with a space",
            Assessor,
            post.clone(),
            SCORE,
            score(json!({"kind": "points", "points": "1"})),
            400,
            "invalid-idempotency-key",
            Some("header.Idempotency-Key"),
        ),
        // ---- business results as a file ----
        case(
            "a business file that is not base64",
            Admin,
            post.clone(),
            "/api/v1/periods/2026Q1/business-result-imports",
            json_body(json!({"file_name": "business.csv", "content": "不是base64!"})),
            422,
            "invalid-request",
            Some("content"),
        ),
        case(
            "a business file with a score over 100, sent for recording",
            Admin,
            post.clone(),
            "/api/v1/periods/2026Q1/business-result-imports",
            json_body(
                json!({"file_name": "business.csv", "content": "dW5pdCxzY29yZSxzb3VyY2UKU0gtMDEsMTAxLOi0o+S7u+S5pgo="}),
            ),
            422,
            "import_refused",
            Some("content.row[2]"),
        ),
        case(
            "a business file that is no workbook",
            Admin,
            post.clone(),
            "/api/v1/periods/2026Q1/business-result-imports",
            json_body(
                json!({"file_name": "business.xlsx", "content": "UEsDBCBub3QgYSB3b3JrYm9vaw==", "dry_run": true}),
            ),
            422,
            "import_unreadable",
            None,
        ),
        // ---- query strings and paths of reads ----
        case(
            "a covering checkpoint of position zero",
            Unit,
            get.clone(),
            "/api/v1/checkpoints/covering?position=0",
            None,
            400,
            "invalid-query",
            Some("query.position"),
        ),
        case(
            "a covering checkpoint without a position",
            Unit,
            get.clone(),
            "/api/v1/checkpoints/covering",
            None,
            400,
            "invalid-query",
            Some("query.position"),
        ),
        case(
            "limit zero",
            Auditor,
            get.clone(),
            "/api/v1/changes?limit=0",
            None,
            400,
            "invalid-query",
            Some("query.limit"),
        ),
        case(
            "limit not a number",
            Auditor,
            get.clone(),
            "/api/v1/changes?limit=abc",
            None,
            400,
            "invalid-query",
            Some("query.limit"),
        ),
        case(
            "an unknown event kind",
            Auditor,
            get.clone(),
            "/api/v1/changes?kind=Nope",
            None,
            400,
            "invalid-query",
            Some("query.kind"),
        ),
        case(
            "as_of not a time",
            Auditor,
            get.clone(),
            "/api/v1/periods/2026Q1/standings?as_of=yesterday",
            None,
            400,
            "invalid-query",
            Some("query.as_of"),
        ),
        case(
            "as_of and at_position both",
            Auditor,
            get.clone(),
            "/api/v1/periods/2026Q1/standings?as_of=2026-01-01T00:00:00Z&at_position=3",
            None,
            400,
            "invalid-query",
            Some("query.as_of"),
        ),
        case(
            "a negative position",
            Auditor,
            get.clone(),
            "/api/v1/periods/2026Q1/standings?at_position=-1",
            None,
            400,
            "invalid-query",
            Some("query.at_position"),
        ),
        case(
            "a misspelt parameter",
            Auditor,
            get.clone(),
            "/api/v1/units?asof=2026-01-01T00:00:00Z",
            None,
            400,
            "invalid-query",
            Some("query.asof"),
        ),
        case(
            "a version that is not a number",
            Auditor,
            get.clone(),
            "/api/v1/rubrics/default/versions/abc",
            None,
            400,
            "invalid-path",
            Some("path.version"),
        ),
        case(
            "an unknown rubric",
            Auditor,
            get.clone(),
            "/api/v1/rubrics/nope",
            None,
            404,
            "not-found",
            None,
        ),
        case(
            "an unknown sheet",
            Auditor,
            get.clone(),
            "/api/v1/periods/2026Q1/units/SH-09",
            None,
            404,
            "not-found",
            None,
        ),
        case(
            "an unknown route",
            Auditor,
            get.clone(),
            "/api/v1/units/SH-01/extra",
            None,
            404,
            "route-not-found",
            None,
        ),
        case(
            "an unknown method",
            Auditor,
            Method::DELETE,
            "/api/v1/periods",
            None,
            405,
            "method-not-allowed",
            None,
        ),
    ];
    for case in c.iter_mut() {
        match case.what {
            "a weak If-Match" => case.headers.push(("if-match", "W/\"1\"".to_owned())),
            "an Idempotency-Key too long" => {
                case.headers.push(("idempotency-key", "k".repeat(256)))
            }
            "an Idempotency-Key with a space" => {
                case.headers.push(("idempotency-key", "a b".to_owned()))
            }
            _ => {}
        }
    }
    c.extend(text_cases());
    for case in c.iter_mut() {
        if case.what == "a gzip body" {
            case.headers.push(("content-encoding", "gzip".to_owned()));
        }
    }
    c
}

/// At least 40 bad requests, each answered with its 4xx status, a problem+json body with the
/// expected `code` (and the invalid field, where there is one) matching the OpenAPI document, and an
/// unchanged log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_a_problem_and_records_nothing() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    // A period in scoring, with A2 of SH-01 scored 3.
    scoring_period(&server, &cast).await;
    let reply = server
        .post(
            "/api/v1/periods/2026Q1/units/SH-01/items/A2/score",
            &cast.assessor,
            json!({"value": {"kind": "points", "points": "3"}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let mut contract = Contract::fetch(&server).await;

    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for case in cases {
        let token = match case.who {
            As::Admin => &cast.admin,
            As::Assessor => &cast.assessor,
            As::Reviewer => &cast.reviewer,
            As::Auditor => &cast.auditor,
            As::Unit => &cast.unit,
        };
        let mut builder = request(case.method.clone(), &server.url(&case.path))
            .header("authorization", format!("Bearer {token}"));
        for (name, value) in &case.headers {
            builder = builder.header(*name, value.as_str());
        }
        let bytes = match &case.body {
            Some((content_type, bytes)) => {
                builder = builder.header("content-type", *content_type);
                bytes.clone()
            }
            None => Vec::new(),
        };
        let before = server.log_len().await;
        let reply = server
            .send(builder.body(Full::new(Bytes::from(bytes))).unwrap())
            .await;
        assert_eq!(reply.status, case.status, "{}: {}", case.what, reply.text);
        assert_eq!(
            reply.assert_problem(),
            case.code,
            "{}: {}",
            case.what,
            reply.text
        );
        if let Some(field) = case.field {
            let fields: Vec<&str> = reply.json["errors"]
                .as_array()
                .map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect())
                .unwrap_or_default();
            assert!(
                fields.contains(&field),
                "{}: field {field} not in {fields:?}",
                case.what
            );
            if let Some(says) = &case.says {
                let reason = reply.json["errors"]
                    .as_array()
                    .and_then(|e| e.iter().find(|e| e["field"] == field))
                    .and_then(|e| e["reason"].as_str())
                    .unwrap_or_default();
                assert!(
                    says.split('|').all(|part| reason.contains(part)),
                    "{}: {reason:?} does not say {says:?}",
                    case.what
                );
            }
        }
        let title = reply.json["title"].as_str().unwrap();
        assert!(
            title.chars().next().is_some_and(|c| !c.is_ascii()),
            "{}: the title starts in Chinese: {title}",
            case.what
        );
        assert_eq!(
            server.log_len().await,
            before,
            "{}: recorded something",
            case.what
        );
        if contract.template(&case.method, &case.path).is_some() {
            contract.check(&case.method, &case.path, &reply);
        }
    }
    server.stop().await;
}
