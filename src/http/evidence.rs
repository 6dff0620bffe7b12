//! Evidence files (佐证材料) over HTTP: the upload (`POST /api/v1/evidence`, multipart), the
//! download (`GET /api/v1/evidence/{sha256}`), and [`resolve`], which turns the `files` a write
//! cites (`[{sha256, name}]`) into the ledger's [`EvidenceFile`]s.
//!
//! Two steps, upload then cite: an upload stores the bytes (content-addressed, so the same bytes
//! twice are stored once) and records nothing; a write that cites them records their digest, size,
//! media type and name in its event. The server never takes a size or a media type from the client:
//! both are read from the stored bytes when the write cites them. Whoever records the citing event
//! is recorded as the uploader (`uploaded_by`): the upload itself is anonymous to the ledger (it
//! records nothing), and the person citing a file is the one who vouches for it.
//!
//! Checks, each refused as a problem naming the file, and nothing stored or recorded when any
//! file of the request fails: the size of each file and of the request ([`EvidenceLimits`]), an
//! empty file, a type outside the accepted ones (read from the bytes, [`crate::evidence::sniff`]), a
//! name whose extension claims another type than the bytes are, a broken multipart body.
//!
//! Who may fetch a file: whoever may read a record that cites it. Roles that read every unit read
//! every cited file; a unit secretary the files cited on their units' records; a responsible person
//! the files of the rectifications they answer for. A file uploaded but not (yet) cited is served to
//! nobody (404, the same answer as for a file never uploaded): until a record cites it, it is not
//! part of the ledger, and its uploader has it already.

use std::sync::Arc;

use axum::Extension;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ledger_schemas::ids::PersonId;
use ledger_schemas::integrity::Digest;
use ledger_schemas::values::{EVIDENCE_FILES_MAX, EvidenceFile};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Api;
use super::auth::{Caller, Scope};
use super::error::{ApiError, FieldError};
use super::extract::Params;
use crate::evidence::sniff::{self, Kind, Refusal};
use crate::evidence::{EvidenceStore, names};
use crate::store::EventStore;

/// The most bytes one file may have, and all the files of one upload or one event together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvidenceLimits {
    pub max_file: u64,
    pub max_request: u64,
}

/// 20 MiB: a scanned document of a few dozen pages, or a phone photo.
pub const DEFAULT_MAX_FILE: u64 = 20 * 1024 * 1024;
/// 50 MiB: a few scans with their photos on one record.
pub const DEFAULT_MAX_REQUEST: u64 = 50 * 1024 * 1024;

impl Default for EvidenceLimits {
    fn default() -> Self {
        Self {
            max_file: DEFAULT_MAX_FILE,
            max_request: DEFAULT_MAX_REQUEST,
        }
    }
}

/// A file a write cites: the digest an upload answered, and the name to show (sanitised).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// The SHA-256 of the file's bytes, in hex, as `POST /api/v1/evidence` answered it.
    #[schemars(with = "String", regex(pattern = r"^[0-9a-f]{64}$"))]
    pub sha256: Digest,
    /// The file's name as the person sees it (paths, control and bidirectional characters are
    /// dropped, and it is shortened to 120 characters).
    #[schemars(length(max = 1000))]
    pub name: String,
}

/// One stored file, as the upload answers it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UploadedFile {
    pub sha256: String,
    pub size: u64,
    /// Read from the bytes.
    pub media_type: String,
    /// The name as the ledger will show it (sanitised).
    pub name: String,
    /// Whether this upload wrote the bytes (`false`: the same file was stored already).
    pub created: bool,
}

/// What an upload answers: the stored files, in the order sent.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Uploaded {
    pub files: Vec<UploadedFile>,
}

/// The multipart body the upload takes (for the OpenAPI document).
#[derive(Debug, JsonSchema)]
pub struct UploadForm {
    /// One or more file parts (any field name, each with a `filename`).
    #[allow(dead_code)]
    pub files: Vec<String>,
}

fn mib(bytes: u64) -> String {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    if mib >= 1.0 {
        format!("{mib:.0} MiB")
    } else {
        format!("{bytes} B")
    }
}

/// How the English half of a message names a file: by its name when that has no Chinese (a page
/// in English shows only that half, which must hold no Chinese), else by its place in the request.
fn en_name(field: &str, name: &str) -> String {
    let chinese = name
        .chars()
        .any(|c| ('\u{2e80}'..='\u{9fff}').contains(&c) || ('\u{f900}'..='\u{ffef}').contains(&c));
    if !chinese {
        return format!("{name:?}");
    }
    let place = field
        .strip_prefix("files[")
        .and_then(|r| r.split(']').next())
        .and_then(|n| n.parse::<usize>().ok());
    match place {
        Some(n) => format!("file {}", n + 1),
        None => "the file".to_owned(),
    }
}

fn file_field(field: &str, reason: String) -> FieldError {
    FieldError {
        field: field.to_owned(),
        reason,
    }
}

/// A file larger than the limit for one file.
fn file_too_large(field: &str, name: &str, limit: u64) -> ApiError {
    let en = en_name(field, name);
    let reason = format!(
        "文件“{name}”超过单个文件上限 {} ({en} is larger than the limit of {} per file)",
        mib(limit),
        mib(limit)
    );
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "evidence-too-large",
        "佐证材料过大 The evidence file is too large",
        reason.clone(),
    )
    .with_errors(vec![file_field(field, reason)])
}

/// Files together larger than the limit for one request or event.
fn request_too_large(field: &str, name: &str, limit: u64) -> ApiError {
    let en = en_name(field, name);
    let reason = format!(
        "加上文件“{name}”, 本次的文件合计超过上限 {} (with {en}, the files together exceed the limit of {} per upload or record)",
        mib(limit),
        mib(limit)
    );
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "evidence-too-large",
        "佐证材料合计过大 The evidence files are too large together",
        reason.clone(),
    )
    .with_errors(vec![file_field(field, reason)])
}

/// A file refused for what it is.
fn refused(field: &str, name: &str, refusal: Refusal) -> ApiError {
    let (zh, en) = (sniff::ACCEPTED_ZH, sniff::ACCEPTED_EN);
    let file = en_name(field, name);
    let (status, code, title, reason) = match refusal {
        Refusal::Empty => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "evidence-empty",
            "佐证材料为空 The evidence file is empty",
            format!("文件“{name}”为空 ({file} is empty)"),
        ),
        Refusal::UnknownType => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "evidence-type-not-allowed",
            "不接受此类文件 This type of file is not accepted",
            format!(
                "文件“{name}”的内容不是可接受的类型, 只接受 {zh} (the content of {file} is not of an accepted type, which are {en})"
            ),
        ),
        Refusal::UnknownExtension { ext } => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "evidence-type-not-allowed",
            "不接受此类文件 This type of file is not accepted",
            format!(
                "文件“{name}”的扩展名 .{ext} 不属于可接受的类型, 只接受 {zh} (the extension .{ext} of {file} is not of an accepted type, which are {en})"
            ),
        ),
        Refusal::Disguised { claimed, actual } => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "evidence-type-mismatch",
            "文件名与内容类型不符 The file's name and content disagree",
            format!(
                "文件“{name}”的名称表明是 {}, 内容却是 {}, 请按内容改正扩展名 (the name of {file} says {}, its content is {}: correct the extension)",
                claimed.media_type(),
                actual.media_type(),
                claimed.media_type(),
                actual.media_type()
            ),
        ),
    };
    ApiError::new(status, code, title, reason.clone()).with_errors(vec![file_field(field, reason)])
}

fn too_many(field: &str, count: usize) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "too-many-files",
        "佐证材料过多 Too many evidence files",
        format!(
            "一次最多 {EVIDENCE_FILES_MAX} 个文件, 收到 {count} 个 (at most {EVIDENCE_FILES_MAX} files at once, {count} sent)"
        ),
    )
    .with_errors(vec![file_field(
        field,
        format!("最多 {EVIDENCE_FILES_MAX} 个 (at most {EVIDENCE_FILES_MAX})"),
    )])
}

fn broken(err: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(
        "broken-multipart",
        "body",
        format!(
            "multipart/form-data 请求体无法读取, 请重新上传 (the multipart/form-data body cannot be read: {err}; upload again)"
        ),
    )
}

fn unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "evidence-store-unavailable",
        "佐证材料存储不可用 The evidence store is unavailable",
        "此服务器未配置佐证材料存储 (this server has no evidence store configured)",
    )
}

fn store_failed(err: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "evidence-store-unavailable",
        "佐证材料存储不可用 The evidence store is unavailable",
        err.to_string(),
    )
}

impl<S: EventStore> Api<S> {
    /// The evidence store, or 503 when the server was started without one.
    pub fn evidence_store(&self) -> Result<&EvidenceStore, ApiError> {
        self.evidence.get().ok_or_else(unavailable)
    }
}

/// `POST /api/v1/evidence`: stores every file part of a multipart body, all or none.
pub async fn upload<S: EventStore>(
    State(api): State<Arc<Api<S>>>,
    _caller: Caller,
    limits: Option<Extension<EvidenceLimits>>,
    request: Request,
) -> Result<Response, ApiError> {
    let limits = limits.map(|Extension(l)| l).unwrap_or_default();
    let store = api.evidence_store()?.clone();
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "请求体须为 multipart/form-data The request body must be multipart/form-data",
            format!(
                "上传文件须用 multipart/form-data, 实际为“{content_type}” (upload files as multipart/form-data, not {content_type:?})"
            ),
        ));
    }
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(broken)?;
    let mut files: Vec<(String, Vec<u8>, Kind)> = Vec::new();
    let mut total = 0u64;
    while let Some(mut field) = multipart.next_field().await.map_err(broken)? {
        // Parts without a file name (a form's other fields) are not files.
        let Some(raw) = field.file_name().map(str::to_owned) else {
            continue;
        };
        let at = format!("files[{}]", files.len());
        // A browser sends an empty part for a file input left empty.
        if raw.is_empty() {
            continue;
        }
        let name = names::sanitise(&raw);
        if files.len() == EVIDENCE_FILES_MAX {
            return Err(too_many("files", files.len() + 1));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(broken)? {
            let size = (bytes.len() + chunk.len()) as u64;
            if size > limits.max_file {
                return Err(file_too_large(&at, &name, limits.max_file));
            }
            total += chunk.len() as u64;
            if total > limits.max_request {
                return Err(request_too_large(&at, &name, limits.max_request));
            }
            bytes.extend_from_slice(&chunk);
        }
        let kind = sniff::check(&name, &bytes).map_err(|r| refused(&at, &name, r))?;
        files.push((name, bytes, kind));
    }
    if files.is_empty() {
        return Err(ApiError::invalid_field(
            "files",
            "请求中没有文件, 请至少选择一个文件 (the request holds no file part: choose at least one file)",
        ));
    }
    // Only once every file has passed: a refused request stores nothing.
    let mut stored = Vec::with_capacity(files.len());
    for (name, bytes, kind) in files {
        let put = store.put(&bytes).await.map_err(store_failed)?;
        stored.push(UploadedFile {
            sha256: put.digest.to_hex(),
            size: put.size,
            media_type: kind.media_type().to_owned(),
            name,
            created: put.created,
        });
    }
    Ok((StatusCode::CREATED, axum::Json(Uploaded { files: stored })).into_response())
}

/// The files a write cites, read back from the store and described from their bytes; `uploader`
/// is the person recording the write. Refuses an unknown digest, a file over the limits, a type
/// not accepted or a name that claims another type, a file cited twice, too many files.
pub async fn resolve<S: EventStore>(
    api: &Api<S>,
    limits: EvidenceLimits,
    uploader: &PersonId,
    refs: Vec<FileRef>,
) -> Result<Vec<EvidenceFile>, ApiError> {
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    if refs.len() > EVIDENCE_FILES_MAX {
        return Err(too_many("files", refs.len()));
    }
    let store = api.evidence_store()?;
    let mut files: Vec<EvidenceFile> = Vec::with_capacity(refs.len());
    let mut total = 0u64;
    for (i, r) in refs.into_iter().enumerate() {
        let at = format!("files[{i}]");
        let name = names::sanitise(&r.name);
        let hex = r.sha256.to_hex();
        if files.iter().any(|f| f.sha256 == r.sha256) {
            return Err(ApiError::invalid_field(
                format!("{at}.sha256"),
                format!(
                    "文件“{name}”重复引用 ({} is cited twice: {hex})",
                    en_name(&at, &name)
                ),
            ));
        }
        let Some(bytes) = store.get(&r.sha256).await.map_err(store_failed)? else {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "evidence-not-found",
                "未找到佐证材料 The evidence file is not stored",
                format!(
                    "没有 SHA-256 为 {hex} 的文件“{name}”, 请先上传 ({} with SHA-256 {hex} is not stored: upload it first with POST /api/v1/evidence)",
                    en_name(&at, &name)
                ),
            )
            .with_errors(vec![file_field(
                &format!("{at}.sha256"),
                format!(
                    "文件“{name}”尚未上传 ({} has not been uploaded)",
                    en_name(&at, &name)
                ),
            )]));
        };
        if crate::evidence::digest(&bytes) != r.sha256 {
            return Err(ApiError::internal(format!(
                "存储中的文件 {hex} 已被改动 (the stored file {hex} no longer hashes to its name: the evidence store was altered)"
            )));
        }
        let size = bytes.len() as u64;
        if size > limits.max_file {
            return Err(file_too_large(&at, &name, limits.max_file));
        }
        total += size;
        if total > limits.max_request {
            return Err(request_too_large(&at, &name, limits.max_request));
        }
        let kind = sniff::check(&name, &bytes).map_err(|e| refused(&at, &name, e))?;
        files.push(EvidenceFile {
            sha256: r.sha256,
            size,
            media_type: kind.media_type().to_owned(),
            name,
            uploaded_by: uploader.clone(),
        });
    }
    Ok(files)
}

/// `GET /api/v1/evidence/{sha256}`: the bytes of a cited file, to whoever may read a record citing
/// it (see the module's documentation).
pub async fn download<S: EventStore>(
    State(api): State<Arc<Api<S>>>,
    caller: Caller,
    params: Params,
) -> Result<Response, ApiError> {
    let raw: String = params.get("sha256")?;
    let not_found = || {
        ApiError::not_found(format!(
            "没有被记录引用的文件 {raw} (no file {raw} is cited by a record)"
        ))
    };
    let digest = Digest::from_hex(&raw.to_ascii_lowercase()).map_err(|_| {
        ApiError::invalid_field(
            "path.sha256",
            format!("须为 64 位十六进制 SHA-256 (must be a SHA-256 in 64 hex digits): {raw:?}"),
        )
    })?;
    // Who may read it, and the name it was first cited under.
    let described = api
        .reads
        .query(crate::app::reads::ReadAt::Head, |view| {
            let state = view.state();
            let Some(cited) = state.cited_files.get(&digest) else {
                return Ok(None);
            };
            let by_unit = match &caller.scope {
                Scope::All => true,
                Scope::Units(mine) => cited.units.iter().any(|u| mine.contains(u)),
                Scope::Writes => false,
            };
            let answering = state.rectifications.values().filter(|r| {
                r.responsible == *caller.person()
                    && r.files
                        .as_deref()
                        .is_some_and(|c| c.files.iter().any(|f| f.sha256 == digest))
            });
            let allowed = by_unit || answering.count() > 0;
            Ok(Some((allowed, cited.name.clone())))
        })
        .await?
        .map_err(|e: ApiError| e)?;
    let Some((allowed, name)) = described else {
        return Err(not_found());
    };
    if !allowed {
        return Err(ApiError::forbidden(format!(
            "{} 不能查看文件 {raw}: 引用它的记录不在其可查看的范围内 ({} may not read {raw}: no record citing it is in their scope)",
            caller.person(),
            caller.person()
        )));
    }
    let store = api.evidence_store()?;
    let bytes = store
        .get(&digest)
        .await
        .map_err(store_failed)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::GONE,
                "evidence-missing",
                "佐证材料缺失 The evidence file is missing",
                format!(
                    "记录引用了文件 {raw}, 但存储中没有它; 请运行 ledger verify (a record cites {raw} but the store does not hold it: run ledger verify)"
                ),
            )
        })?;
    let kind = sniff::sniff(&bytes);
    Ok(served(&bytes, kind, &name))
}

/// The response serving a file's bytes: its media type from the bytes, inline only for images and
/// PDF, the name in `Content-Disposition`, no sniffing, and a sandbox for whatever a browser opens.
pub fn served(bytes: &[u8], kind: Option<Kind>, name: &str) -> Response {
    let (media_type, inline) = match kind {
        Some(Kind::Text) => ("text/plain; charset=utf-8", false),
        Some(kind) => (kind.media_type(), kind.inline()),
        None => ("application/octet-stream", false),
    };
    let mut response = Response::new(Body::from(bytes.to_vec()));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    if let Ok(value) = HeaderValue::from_str(&names::content_disposition(inline, name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    // The bytes under a digest never change.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    response
}

/// The policy a served file runs under: a sandbox (no scripts, no forms, an opaque origin), and
/// nothing loaded from anywhere but the file itself.
pub const CSP: &str = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'";
