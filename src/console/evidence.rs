//! Evidence files (佐证材料) in the console: the file field of the entry forms (several files at
//! once, a drop zone where scripts run), reading a posted form with its files and uploading them
//! through the API (`POST /api/v1/evidence`, in process, as the signed-in person), the list of cited
//! files where records are shown, and `/evidence/{sha256}`, which serves a file to the signed-in
//! person through the API (`GET /api/v1/evidence/{sha256}`: its access rule, its headers).
//!
//! A form with files is `multipart/form-data`; without scripts the browser's own file input sends
//! them. Once uploaded, a file stays chosen when the write is refused for another field: the form
//! comes back with its digests in `kept_files`, so nobody uploads twice.

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Path, Request};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::client::{Failure, Session};
use super::format::{self, seg};
use super::forms::{Form, field_error};
use super::i18n::Lang;
use super::names::Names;
use super::sheet::Entered;
use crate::evidence::sniff::Kind;
use crate::http::evidence::{EvidenceLimits, Uploaded};
use crate::http::views::EvidenceFileView;

/// The hidden field that carries files uploaded already (a JSON list of `{sha256, name}`).
pub const KEPT: &str = "kept_files";

/// What the file inputs accept (a hint to the browser's picker; the server reads the bytes).
const ACCEPT: &str = ".pdf,.png,.jpg,.jpeg,.gif,.webp,.docx,.xlsx,.txt,.csv,.md,application/pdf,image/png,image/jpeg,image/gif,image/webp";

/// A posted form and the files it cites: those kept from before and those uploaded now.
pub struct Posted {
    pub form: Form,
    /// `{sha256, name}` of every file, for the write's `files`.
    pub files: Vec<Value>,
    /// The API's refusal of an upload: the write is not sent, and the refusal is shown at the field.
    pub refused: Option<Failure>,
}

impl Posted {
    /// The files as the write's `files` member.
    pub fn files(&self) -> Value {
        Value::Array(self.files.clone())
    }

    /// The fields to show again after a refusal, with the uploaded files kept.
    pub fn fields(&self) -> BTreeMap<String, String> {
        let mut fields = self.form.map();
        fields.insert(KEPT.to_owned(), self.files().to_string());
        fields
    }

    /// Sends the write unless an upload was refused: as [`super::forms::send`].
    pub async fn send<T: serde::de::DeserializeOwned>(
        &mut self,
        session: &Session,
        method: Method,
        uri: &str,
        body: &Value,
        if_match: Option<u64>,
    ) -> Result<Result<T, Failure>, Failure> {
        if let Some(refused) = self.refused.take() {
            return Ok(Err(refused));
        }
        super::forms::send::<T>(session, method, uri, body, if_match).await
    }
}

/// The most a console form may carry beside its files.
const FIELDS_MAX: u64 = 1024 * 1024;

/// Reads a posted form, `application/x-www-form-urlencoded` or `multipart/form-data`, and uploads
/// its files through the API.
pub async fn read(
    session: &Session,
    limits: EvidenceLimits,
    request: Request,
) -> Result<Posted, Failure> {
    let lang = session.lang;
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        let body = axum::body::to_bytes(request.into_body(), FIELDS_MAX as usize)
            .await
            .map_err(|e| unreadable(lang, e))?;
        let form = Form::parse(lang, &body)?;
        let files = kept(&form);
        return Ok(Posted {
            form,
            files,
            refused: None,
        });
    }
    let mut parts = Multipart::from_request(request, &())
        .await
        .map_err(|e| unreadable(lang, e))?;
    let mut pairs = Vec::new();
    let mut uploads: Vec<(String, Bytes)> = Vec::new();
    let mut total = 0u64;
    // The API checks each file and the total exactly; this bound only keeps a huge post from
    // being held in memory before the API refuses it.
    let cap = limits.max_request + FIELDS_MAX;
    while let Some(field) = parts.next_field().await.map_err(|e| unreadable(lang, e))? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|e| unreadable(lang, e))?;
        total += bytes.len() as u64;
        if total > cap {
            return Ok(Posted {
                form: Form::from_pairs(pairs),
                files: Vec::new(),
                refused: Some(Failure::bad_request(
                    lang,
                    "files",
                    format!(
                        "{} {} MiB",
                        lang.t("文件合计超过上限", "The files together exceed the limit of"),
                        limits.max_request / (1024 * 1024)
                    ),
                )),
            });
        }
        match file_name {
            // A file input left empty sends a part with an empty name and no bytes.
            Some(file) if file.is_empty() && bytes.is_empty() => {}
            Some(file) => uploads.push((file, bytes)),
            None => pairs.push((name, String::from_utf8_lossy(&bytes).into_owned())),
        }
    }
    let form = Form::from_pairs(pairs);
    let mut files = kept(&form);
    let mut refused = None;
    if !uploads.is_empty() {
        match upload(session, uploads).await? {
            Ok(uploaded) => files.extend(
                uploaded
                    .files
                    .into_iter()
                    .map(|f| json!({"sha256": f.sha256, "name": f.name})),
            ),
            Err(failure) => refused = Some(failure),
        }
    }
    Ok(Posted {
        form,
        files,
        refused,
    })
}

fn unreadable(lang: Lang, e: impl std::fmt::Display) -> Failure {
    Failure::bad_request(
        lang,
        "body",
        format!("{}: {e}", lang.t("表单无法读取", "The form cannot be read")),
    )
}

/// The files a refused form kept.
fn kept(form: &Form) -> Vec<Value> {
    serde_json::from_str::<Vec<Value>>(&form.get(KEPT))
        .unwrap_or_default()
        .into_iter()
        .filter(|v| v["sha256"].is_string() && v["name"].is_string())
        .collect()
}

/// Uploads files through the API: `Ok(Err(refusal))` when it refuses one (nothing is stored then).
async fn upload(
    session: &Session,
    files: Vec<(String, Bytes)>,
) -> Result<Result<Uploaded, Failure>, Failure> {
    let boundary = format!("ledger-console-{}", uuid::Uuid::now_v7().simple());
    let mut body = Vec::new();
    for (name, bytes) in &files {
        // The API sanitises the name; here it only must not break the part's header.
        let quoted: String = name
            .chars()
            .map(|c| match c {
                '"' => '\'',
                '\\' | '\r' | '\n' => '_',
                c => c,
            })
            .collect();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{quoted}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    match session
        .send_typed(Method::POST, "/api/v1/evidence", &content_type, body)
        .await
    {
        Ok(answer) => serde_json::from_slice::<Uploaded>(&answer.body)
            .map(Ok)
            .map_err(|e| Failure::internal(session.lang, format!("/api/v1/evidence: {e}"))),
        Err(failure) if failure.status.is_client_error() => Ok(Err(failure)),
        Err(failure) => Err(failure),
    }
}

/// The file field of an entry form keyed `key`: several files, dropped or chosen, and the files
/// kept from a refused post.
pub fn field(lang: Lang, entered: Option<&Entered>, key: &str, id: &str) -> Markup {
    let kept_json = super::forms::kept(entered, key, KEPT);
    let kept: Vec<Value> = serde_json::from_str(&kept_json).unwrap_or_default();
    html! {
        div.dropzone data-dropzone {
            label for=(id) { (lang.t("佐证文件 (可多选, 也可拖放到此处)", "Evidence files (choose several, or drop them here)")) }
            input #(id) type="file" name="files" multiple accept=(ACCEPT);
            p.hint { (lang.t("接受 PDF、图片、Word 与 Excel 文档、纯文本; 按文件内容识别类型.", "PDF, images (PNG, JPEG, GIF, WebP), Word and Excel documents, plain text; the type is read from the content.")) }
            ul.dropped {}
            @if !kept.is_empty() {
                input type="hidden" name=(KEPT) value=(kept_json);
                p.kept { (lang.t("已上传: ", "Uploaded already: ")) @for f in &kept { span.file-name { (f["name"].as_str().unwrap_or_default()) } " " } }
            }
            (field_error(entered, key, "files"))
        }
    }
}

/// A file size for people, the unit joined to the figure as Chinese pages write it (`1.5KB`), so
/// that no unit stands alone as a Latin word on a Chinese page.
fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b}B"),
        b if b < 1024 * 1024 => format!("{:.1}KB", b as f64 / 1024.0),
        b => format!("{:.1}MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// The files a record cites: images as thumbnails, PDFs opened in the browser, other types
/// downloaded; each with its size, its SHA-256 (short, the whole on opening), who uploaded it
/// (their name) and when (Beijing time).
pub fn cited(lang: Lang, files: &[EvidenceFileView], people: &Names) -> Markup {
    html! {
        @if !files.is_empty() {
            ul.files {
                @for f in files {
                    @let kind = Kind::of_media_type(&f.media_type);
                    @let href = format!("/evidence/{}", seg(&f.sha256));
                    @let inline = kind.is_some_and(Kind::inline);
                    li.file data-sha256=(f.sha256) data-media-type=(f.media_type) {
                        @if kind.is_some_and(Kind::image) {
                            a.thumb href=(href) target="_blank" rel="noopener" {
                                img.thumb src=(href) alt=(f.name) loading="lazy";
                            }
                        }
                        @if inline {
                            a.file-name href=(href) target="_blank" rel="noopener" { (f.name) }
                        } @else {
                            a.file-name href=(href) download=(f.name) { (f.name) }
                        }
                        " "
                        span.file-meta {
                            (size(f.size))
                            " · " (lang.t("上传人 ", "uploaded by ")) (people.show(f.uploaded_by.as_str()))
                            " · " (format::time(&f.recorded_at))
                        }
                        details.sha {
                            summary { "SHA-256 " code { (f.sha256.get(..12).unwrap_or(&f.sha256)) "…" } }
                            code.full { (f.sha256) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /evidence/{sha256}`: the file, through the API as the signed-in person, with the API's
/// headers (type, `Content-Disposition`, the sandbox policy, `nosniff`).
pub async fn serve(session: Session, Path(sha256): Path<String>) -> Result<Response, Failure> {
    let answer = session
        .fetch(&format!("/api/v1/evidence/{}", seg(&sha256)))
        .await?;
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = StatusCode::OK;
    for name in [
        header::CONTENT_TYPE,
        header::CONTENT_DISPOSITION,
        header::CONTENT_SECURITY_POLICY,
        header::X_CONTENT_TYPE_OPTIONS,
        header::CACHE_CONTROL,
    ] {
        if let Some(value) = answer.headers.get(&name) {
            response.headers_mut().insert(name, value.clone());
        }
    }
    Ok(response.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_units() {
        assert_eq!(size(12), "12B");
        assert_eq!(size(1536), "1.5KB");
        assert_eq!(size(20 * 1024 * 1024), "20.0MB");
    }
}
