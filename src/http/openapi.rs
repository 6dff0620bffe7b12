//! The OpenAPI 3.1 document, generated from the route table ([`super::routes::operations`]) and the
//! wire types' schemars derives (JSON Schema 2020-12, the dialect OpenAPI 3.1 uses). The event
//! contract's own types (`ScoreValue`, `RubricDefinition`, `Envelope`, ...) bring the schemas the
//! contract tests already hold true, so the document and the contract cannot disagree.
//!
//! Conventions the document states once: bearer authentication; `application/problem+json` for every
//! error; `Ledger-Position` on every read; `ETag` and `If-Match` on sheets, items and periods;
//! `Idempotency-Key` on every write. A test validates real responses against these schemas.

use axum::http::Method;
use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::auth::Gate;
use super::error::PROBLEM_JSON;
use super::routes::{Kind, Operation, operations, problem_schema};
use crate::store::EventStore;

/// The document's version of the API.
pub const API_VERSION: &str = "1.0.0";

const DESCRIPTION: &str = "「双考核」审计账本的接口: 单位、人员、考评细则及其版本与调整、考核周期、评分表与子项目、申诉、经营业绩、整改, 以及排名、变更历史、变更记录、责任落实与原始事件日志。\n\n\
The API of the dual-assessment audit ledger. Every change is an event appended to a hash-chained log; nothing is updated or deleted.\n\n\
- Authentication: `Authorization: Bearer {token}`. Tokens are issued by `ledger token issue` on the machine that holds the ledger, or by an admin through `POST /api/v1/tokens`. Each operation lists the roles it admits in `x-roles`; unit and assessor reads are limited to their own units.\n\
- Errors: `application/problem+json` (RFC 9457) with `code`, a zh-CN + English `title`, the domain's `detail`, and `errors[]` naming invalid fields.\n\
- Reads accept `as_of` (RFC 3339) or `at_position` and answer with `Ledger-Position`, the last event included.\n\
- 审计 Audit (auditors only): `/api/v1/audit/*` serve the signed checkpoints (with the public key) and RFC 9162 inclusion and consistency proofs against them. A proof is always against a signed checkpoint, so these take no `as_of`/`at_position`; 404 when no signed checkpoint answers, 501 on a store that keeps none (KurrentDB). Every role may read `/api/v1/checkpoints/covering` (the size, root hash and time of the signed checkpoints vouching for one position), which printouts and exports name.\n\
- Sheets, items and periods answer with `ETag: \"{revision}\"`; writes to them accept `If-Match`, and a stale one is refused with 409 and `current_revision`.\n\
- Writes accept `Idempotency-Key` (1–255 visible ASCII characters): a retry returns the first response with `Idempotency-Replayed: true` and records nothing new. Keys live in the serving process's memory, per person, for 24 hours (at most 100,000).";

/// Builds the whole document.
pub fn document<S: EventStore>() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .into_generator();
    let problem = problem_schema(&mut generator).to_value();
    let mut paths: Map<String, Value> = Map::new();
    let mut tags: Vec<&str> = Vec::new();
    for op in operations::<S>() {
        if !tags.contains(&op.tag) {
            tags.push(op.tag);
        }
        let entry = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        let method = op.method.as_str().to_ascii_lowercase();
        entry[method] = operation(&op, &mut generator, &problem);
    }
    let mut schemas = Value::Object(generator.take_definitions(true));
    bound_integers(&mut schemas);
    let mut paths = Value::Object(paths);
    bound_integers(&mut paths);
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "「双考核」审计账本 Dual-assessment audit ledger",
            "version": API_VERSION,
            "description": DESCRIPTION,
            "license": {"name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0"}
        },
        "servers": [{"url": "/"}],
        "tags": tags.iter().map(|t| json!({"name": t})).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token `{token-id}~{secret}` from `ledger token issue` or `POST /api/v1/tokens`."
                }
            }
        }
    })
}

fn operation<S: EventStore>(
    op: &Operation<S>,
    generator: &mut SchemaGenerator,
    problem: &Value,
) -> Value {
    let mut parameters: Vec<Value> = path_parameters(op.path);
    if let Some(query) = op.query {
        parameters.extend(query_parameters(query(generator), generator));
    }
    if op.kind == Kind::Write {
        if op.etag {
            parameters.push(json!({
                "name": "If-Match", "in": "header", "required": false,
                "description": "The revision the write is based on, as the ETag the resource answered with (`\"3\"`), or `*`. A stale one is refused with 409.",
                "schema": {"type": "string", "pattern": "^(\\*|\"[0-9]{1,19}\")$"}
            }));
        }
        parameters.push(json!({
            "name": "Idempotency-Key", "in": "header", "required": false,
            "description": "A retry with the same key and request returns the first response and records nothing new (24 hours, per person, in the serving process's memory).",
            "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"}
        }));
    }
    let mut responses = Map::new();
    let mut headers = Map::new();
    if op.kind == Kind::Read && op.path != "/api/v1/openapi.json" {
        headers.insert(
            "Ledger-Position".into(),
            json!({"description": "The position of the last event the answer includes.", "schema": {"type": "integer", "minimum": 0}}),
        );
    }
    if op.etag {
        headers.insert(
            "ETag".into(),
            json!({"description": "The resource's revision (its stream's), for `If-Match`.", "schema": {"type": "string"}}),
        );
    }
    if op.status == 201 {
        headers.insert(
            "Location".into(),
            json!({"description": "The new resource.", "schema": {"type": "string"}}),
        );
    }
    responses.insert(
        op.status.to_string(),
        json!({
            "description": if op.kind == Kind::Write { "已记录 Recorded" } else { "成功 OK" },
            "headers": headers,
            "content": {"application/json": {"schema": (op.response)(generator).to_value()}}
        }),
    );
    if op.id == EVIDENCE_DOWNLOAD {
        // The file's own bytes, under the media type read from them.
        let binary = json!({"schema": {"type": "string", "format": "binary"}});
        let content: Map<String, Value> = crate::evidence::sniff::Kind::ALL
            .iter()
            .map(|k| (k.media_type().to_owned(), binary.clone()))
            .collect();
        responses.insert(
            "200".into(),
            json!({"description": "文件内容 The file's bytes (Content-Disposition names it; inline only for images and PDF)", "content": content}),
        );
    }
    for (status, why) in problems(op) {
        responses.insert(
            status.to_string(),
            json!({"description": why, "content": {PROBLEM_JSON: {"schema": problem}}}),
        );
    }
    let mut out = json!({
        "operationId": op.id,
        "tags": [op.tag],
        "summary": op.summary,
        "parameters": parameters,
        "responses": responses,
    });
    match op.gate {
        Gate::Public => {
            out["security"] = json!([]);
        }
        Gate::Roles(roles) => {
            out["security"] = json!([{"bearer": []}]);
            out["x-roles"] = json!(roles.iter().map(|r| r.as_str()).collect::<Vec<_>>());
            let labels: Vec<&str> = roles.iter().map(|r| r.label()).collect();
            out["description"] = json!(format!("可调用的角色 Roles: {}", labels.join(", ")));
        }
    }
    if let Some(request) = op.request {
        out["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": request(generator).to_value()}}
        });
    }
    if op.id == EVIDENCE_UPLOAD {
        out["requestBody"] = json!({
            "required": true,
            "content": {"multipart/form-data": {"schema": {
                "type": "object",
                "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}}
            }}}
        });
    }
    out
}

/// The operations whose bodies are files rather than JSON.
const EVIDENCE_UPLOAD: &str = "uploadEvidence";
const EVIDENCE_DOWNLOAD: &str = "getEvidence";

/// The problem statuses an operation may answer with.
fn problems<S: EventStore>(op: &Operation<S>) -> Vec<(u16, &'static str)> {
    let mut out = vec![(400, "请求无法解读 The request cannot be read")];
    if op.gate != Gate::Public {
        out.push((401, "未认证 No valid token"));
        out.push((403, "无权访问 The caller's role or scope does not allow it"));
    }
    let audit = op.path.starts_with("/api/v1/audit/");
    if op.path.contains('{') || op.kind == Kind::Write || audit {
        out.push((
            404,
            "未找到 An id names nothing, or no signed checkpoint answers",
        ));
    }
    if op.kind == Kind::Write {
        out.push((408, "请求体未在时限内收齐 The body did not arrive in time"));
        out.push((409, "与当前状态冲突 (含过期的 If-Match) Conflicts with the current state, or a stale If-Match"));
        out.push((413, "请求体过大 The body is too large"));
        out.push((
            415,
            "请求体须为 JSON, 且不压缩 The body must be JSON, without a content encoding",
        ));
        out.push((
            422,
            "内容无效或不符合规则 Invalid fields, or a rule of the assessment refuses it",
        ));
    }
    out.push((500, "服务器内部错误 Internal error"));
    out.push((
        503,
        "账本暂时无法写入, 或连接过多 The ledger cannot be written now, or too many connections",
    ));
    if audit {
        // A backend without signed checkpoints (KurrentDB) has nothing to prove against.
        out.push((
            501,
            "此存储后端不保存签名检查点 The store backend keeps no signed checkpoints",
        ));
    }
    out
}

/// The `{name}` segments of a path as parameters.
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let schema = match name {
                "version" => json!({"type": "integer", "minimum": 1, "maximum": u32::MAX}),
                "role" => json!({"type": "string", "enum": ["admin", "assessor", "reviewer", "auditor", "unit"]}),
                _ => json!({"type": "string", "pattern": ledger_schemas::ids::ID_PATTERN}),
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect()
}

/// The properties of a query struct's schema as query parameters.
fn query_parameters(reference: schemars::Schema, generator: &SchemaGenerator) -> Vec<Value> {
    let value = reference.to_value();
    let resolved = value
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
        .and_then(|name| generator.definitions().get(name))
        .cloned()
        .unwrap_or(value);
    let required: Vec<&str> = resolved
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = resolved.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut parameters = Vec::new();
    let paired = props.contains_key("as_of") && props.contains_key("at_position");
    // `as_of` and `at_position` exclude each other: one object parameter whose properties are the
    // two query keys (form style, exploded), so that the document can say "not both".
    if let (Some(as_of), Some(at_position)) = (props.get("as_of"), props.get("at_position")) {
        parameters.push(json!({
            "name": "at",
            "in": "query",
            "required": false,
            "style": "form",
            "explode": true,
            "description": "读取哪一时点 The point to read at: `as_of` (RFC 3339) or `at_position`, not both; neither for now.",
            "schema": {
                "type": "object",
                "properties": {"as_of": non_null(as_of), "at_position": non_null(at_position)},
                "additionalProperties": false,
                "not": {"required": ["as_of", "at_position"]}
            }
        }));
    }
    for (name, schema) in props {
        if paired && matches!(name.as_str(), "as_of" | "at_position") {
            continue;
        }
        let schema = non_null(schema);
        let mut parameter = json!({
            "name": name,
            "in": "query",
            "required": required.contains(&name.as_str()),
            "schema": schema,
        });
        if schema.get("type") == Some(&json!("array")) {
            // A list travels as one comma-separated value: `kind=A,B`.
            parameter["style"] = json!("form");
            parameter["explode"] = json!(false);
        }
        if let Some(description) = schema.get("description") {
            parameter["description"] = description.clone();
        }
        parameters.push(parameter);
    }
    parameters
}

/// A query parameter's schema without the `null` its `Option` brings: an absent parameter is
/// absent, a query string has no null.
fn non_null(schema: &Value) -> Value {
    let mut schema = schema.clone();
    if let Some(object) = schema.as_object_mut()
        && object.get("default") == Some(&Value::Null)
    {
        object.remove("default");
    }
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array).cloned() {
        let kept: Vec<Value> = branches
            .into_iter()
            .filter(|b| b.get("type") != Some(&json!("null")))
            .collect();
        if kept.len() == 1 {
            let mut only = kept.into_iter().next().unwrap_or_default();
            if let (Some(object), Some(description)) =
                (only.as_object_mut(), schema.get("description"))
            {
                object.insert("description".into(), description.clone());
            }
            return only;
        }
    }
    if let Some(types) = schema.get("type").and_then(Value::as_array).cloned() {
        let kept: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
        schema["type"] = match kept.len() {
            1 => kept[0].clone(),
            _ => Value::Array(kept),
        };
    }
    schema
}

/// Gives every unsigned integer schemars describes (`format: uint32`, `uint64`, `uint`) the maximum
/// the server's type holds, so that a generated request never overflows it.
fn bound_integers(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let max = match object.get("format").and_then(Value::as_str) {
                Some("uint32") => Some(json!(u32::MAX)),
                Some("uint64" | "uint") => Some(json!(u64::MAX)),
                _ => None,
            };
            if let Some(max) = max
                && object.get("type") == Some(&json!("integer"))
            {
                object.entry("maximum").or_insert(max);
            }
            object.values_mut().for_each(bound_integers);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

/// Every `(method, path)` the document describes, for tests.
pub fn described(document: &Value) -> Vec<(Method, String)> {
    let mut out = Vec::new();
    if let Some(paths) = document.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            if let Some(methods) = item.as_object() {
                for method in methods.keys() {
                    if let Ok(m) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) {
                        out.push((m, path.clone()));
                    }
                }
            }
        }
    }
    out
}
