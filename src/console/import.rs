//! Score sheets and business results as files from the console (issue 16).
//!
//! - The `.xlsx` template of a rubric version, with the items filled in, offered where an assessor
//!   works on a sheet and on the import page; made from the rubric version the API answers
//!   (`crate::import::template`).
//! - The import page (`/import`): upload a CSV or `.xlsx` file, see every row as it would be
//!   recorded and every error at its row and column (the API's dry run: nothing recorded), then
//!   confirm. The confirmation re-posts the same bytes with the plan's fingerprint the preview
//!   answered; the API checks the file again and records only that same plan, as the signed-in
//!   person, with source `import` and the file's SHA-256.
//! - The same for a period's business results (`/periods/{period}/business/import`, for the roles
//!   that record them, linked from the business-results page), with the period's `.xlsx` template
//!   (one row per unit) at `/periods/{period}/business/template.xlsx`.

use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query};
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use ledger_schemas::envelope::Role;
use ledger_schemas::values::Stage;
use maud::{Markup, html};
use serde::Deserialize;

use super::client::{Failure, Session};
use super::format::seg;
use super::forms::{self, Form};
use super::layout::{self, Nav};
use crate::http::imports::{BusinessImportView, ImportErrorView, ScoreImportView};
use crate::http::views::{BusinessResultList, PeriodList};

#[derive(Debug, Default, Deserialize)]
pub struct TemplateQuery {
    /// Fill every row's unit cell with this unit.
    #[serde(default)]
    pub unit: Option<String>,
}

/// Where the template of `rubric` at `version` is downloaded, for `unit` when given.
pub fn template_href(rubric: &str, version: u32, unit: Option<&str>) -> String {
    let mut href = format!("/rubrics/{}/{version}/template.xlsx", seg(rubric));
    if let Some(unit) = unit {
        href.push_str(&format!("?unit={}", seg(unit)));
    }
    href
}

/// `GET /rubrics/{rubric}/{version}/template.xlsx[?unit=U]`.
pub async fn template(
    session: Session,
    Path((rubric, version)): Path<(String, u32)>,
    Query(q): Query<TemplateQuery>,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let definition = super::sheet::definition(&session, &rubric, version).await?;
    let unit = match q.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => Some(
            u.parse()
                .map_err(|e| Failure::bad_request(lang, "unit", format!("{e}")))?,
        ),
    };
    let rubric_id = rubric
        .parse()
        .map_err(|e| Failure::bad_request(lang, "rubric", format!("{e}")))?;
    // Names beside the responsible persons' ids, from the names directory every role reads.
    let people = super::names::people(&session).await;
    let responsible = |p: &ledger_schemas::ids::PersonId| match people.0.get(p.as_str()) {
        Some(name) => format!("{name} ({p})"),
        None => p.to_string(),
    };
    let bytes = crate::import::template::Template {
        rubric: &rubric_id,
        version,
        definition: &definition,
        unit: unit.as_ref(),
        responsible: &responsible,
    }
    .to_bytes()
    .map_err(|e| Failure::internal(lang, format!("{e}")))?;
    let name = match &unit {
        Some(u) => format!("score-template-{rubric}-v{version}-{u}.xlsx"),
        None => format!("score-template-{rubric}-v{version}.xlsx"),
    };
    Ok(xlsx(&name, bytes))
}

#[derive(Debug, Default, Deserialize)]
pub struct ImportQuery {
    #[serde(default)]
    pub period: Option<String>,
}

/// The periods that take scores now (scoring or review).
async fn open_periods(session: &Session) -> Result<PeriodList, Failure> {
    let mut periods: PeriodList = session.get("/api/v1/periods").await?;
    periods
        .periods
        .retain(|p| matches!(p.stage, Stage::Scoring | Stage::Review));
    Ok(periods)
}

/// `GET /import[?period=P]`: the upload form.
pub async fn page(session: Session, Query(q): Query<ImportQuery>) -> Result<Response, Failure> {
    forms::only(&session, &[Role::Assessor])?;
    let lang = session.lang;
    let periods = open_periods(&session).await?;
    let chosen = q.period.as_deref().unwrap_or_default();
    let body = html! {
        @if periods.periods.is_empty() {
            p.empty { (lang.t("没有处于考评或审核阶段的考核周期.", "No period is in scoring or review.")) }
        }
        p.hint { (lang.t(
            "上传 CSV (UTF-8、GBK 均可) 或 Excel (.xlsx, 工作表名 “评分表”) 评分表. 先预览: 显示将记录的每一行和每处错误, 不记录任何内容; 确认后才记录, 记录人是您.",
            "Upload a score sheet as CSV (UTF-8 or GBK) or Excel (.xlsx, sheet named 评分表). The preview shows every row as it would be recorded and every error, and records nothing; only the confirmation records, as you."
        )) }
        form.entry #import-form method="post" action="/import" enctype="multipart/form-data" data-ops="importScores" {
            label for="period" { (lang.t("考核周期", "Period")) }
            select #period name="period" {
                @for p in &periods.periods {
                    option value=(p.period) selected[p.period.as_str() == chosen] { (p.name) " (" (p.period) ")" }
                }
            }
            label for="file" { (lang.t("评分表文件", "Score sheet file")) }
            input #file type="file" name="file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" required;
            button type="submit" { (lang.t("预览", "Preview")) }
        }
        @if !periods.periods.is_empty() {
            h2 { (lang.t("模板", "Templates")) }
            ul.templates {
                @for p in &periods.periods {
                    li { a.template href=(template_href(p.rubric.as_str(), p.rubric_version, None)) {
                        (p.name) " · " (lang.t("评分细则 ", "rubric ")) (p.rubric) " " (lang.t("第 ", "version ")) (p.rubric_version) (lang.t(" 版 (Excel)", " (Excel)"))
                    } }
                }
            }
        }
    };
    Ok(layout::page(
        &session,
        Nav::Work,
        lang.t("导入评分表", "Import a score sheet"),
        body,
    ))
}

/// What the form sent: the period and the file.
struct Upload {
    period: String,
    file_name: String,
    bytes: Vec<u8>,
}

async fn read_upload(session: &Session, mut multipart: Multipart) -> Result<Upload, Failure> {
    let lang = session.lang;
    let bad = |field: &str, e: String| Failure::bad_request(lang, field, e);
    let (mut period, mut file) = (None, None);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| bad("file", e.to_string()))?
    {
        match field.name() {
            Some("period") => {
                period = Some(
                    field
                        .text()
                        .await
                        .map_err(|e| bad("period", e.to_string()))?,
                )
            }
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| bad("file", e.to_string()))?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let period = period.filter(|p| !p.trim().is_empty()).ok_or_else(|| {
        bad(
            "period",
            lang.t("请选择考核周期", "choose a period").to_owned(),
        )
    })?;
    let (file_name, bytes) = file.filter(|(_, b)| !b.is_empty()).ok_or_else(|| {
        bad(
            "file",
            lang.t("请选择要上传的文件", "choose a file to upload")
                .to_owned(),
        )
    })?;
    Ok(Upload {
        period,
        file_name,
        bytes,
    })
}

fn action_label(lang: super::i18n::Lang, action: &str) -> &'static str {
    match action {
        "record" => lang.t("新录入", "new"),
        "correct" => lang.t("更正", "correction"),
        _ => lang.t("未变", "unchanged"),
    }
}

/// `POST /import` (multipart): the preview; nothing is recorded.
pub async fn preview(session: Session, multipart: Multipart) -> Result<Response, Failure> {
    forms::only(&session, &[Role::Assessor])?;
    let lang = session.lang;
    let upload = read_upload(&session, multipart).await?;
    let content = base64::engine::general_purpose::STANDARD.encode(&upload.bytes);
    let uri = format!("/api/v1/periods/{}/score-imports", seg(&upload.period));
    let view: ScoreImportView = dry_run(&session, &uri, &upload.file_name, &content).await?;
    let count = |a: &str| view.rows.iter().filter(|r| r.action == a).count();
    let body = html! {
        (file_line(lang, &view.file_name, &view.file_sha256, view.period.as_str()))
        @if !view.errors.is_empty() {
            (errors_list(lang, &view.errors, &format!("/import?period={}", seg(view.period.as_str()))))
        } @else {
            p #import-counts data-record=(count("record")) data-correct=(count("correct")) data-unchanged=(count("unchanged")) {
                (lang.t("将新录入 ", "Will record ")) (count("record")) (lang.t(" 项, 更正 ", " new scores, ")) (count("correct"))
                (lang.t(" 项, ", " corrections, ")) (count("unchanged")) (lang.t(" 项未变. 尚未记录.", " unchanged. Nothing is recorded yet."))
            }
            div.scroll {
                table #preview {
                    thead { tr {
                        th { (lang.t("行", "Row")) } th { (lang.t("单位", "Unit")) } th { (lang.t("子项目", "Item")) }
                        th { (lang.t("得分", "Value")) } th { (lang.t("说明", "Note")) } th { (lang.t("佐证材料", "Evidence")) }
                        th { (lang.t("更正原因", "Reason")) } th { (lang.t("操作", "Action")) }
                    } }
                    tbody {
                        @for r in &view.rows {
                            tr data-row=(r.row) data-action=(r.action) {
                                td { (r.row) } td { (r.unit) } td { (r.item) } td.value { (r.value_text) }
                                td.text translate="no" { (r.note) } td.text translate="no" { (r.evidence.join("; ")) } td.text translate="no" { (r.reason) }
                                td { (action_label(lang, &r.action)) }
                            }
                        }
                    }
                }
            }
            (confirm_form(lang, "/import/confirm", "importScores", view.period.as_str(), &view.file_name, &content, view.plan.as_deref()))
        }
    };
    Ok(layout::page(
        &session,
        Nav::Work,
        lang.t("导入预览", "Import preview"),
        body,
    ))
}

/// `POST /import/confirm`: records the previewed plan, or nothing (the API's refusal shown).
pub async fn confirm(session: Session, body: Bytes) -> Result<Response, Failure> {
    forms::only(&session, &[Role::Assessor])?;
    let lang = session.lang;
    let form = Form::parse(lang, &body)?;
    let period = form.get("period");
    let uri = format!("/api/v1/periods/{}/score-imports", seg(&period));
    let view: ScoreImportView = record_plan(&session, &uri, &form).await?;
    let recorded = view.rows.iter().filter(|r| r.action != "unchanged").count();
    let body = html! {
        p.done #imported role="status" data-recorded=(recorded) data-correlation=[view.correlation_id.map(|c| c.to_string())] {
            (lang.t("已记录 ", "Recorded ")) (recorded) (lang.t(" 项; 文件 SHA-256 ", " rows; file SHA-256 ")) code { (view.file_sha256) }
        }
        ul {
            @for unit in view.rows.iter().map(|r| &r.unit).collect::<std::collections::BTreeSet<_>>() {
                li { a href={ "/periods/" (seg(view.period.as_str())) "/units/" (seg(unit.as_str())) } { (unit) } }
            }
        }
        p { a href={ "/import?period=" (seg(view.period.as_str())) } { (lang.t("继续导入", "Import another file")) } }
    };
    Ok(layout::page(
        &session,
        Nav::Work,
        lang.t("已导入", "Imported"),
        body,
    ))
}

/// The errors of a refused file, each at its row and column, in the page's language, and the way
/// back to the upload form (`again`).
fn errors_list(lang: super::i18n::Lang, errors: &[ImportErrorView], again: &str) -> Markup {
    html! {
        div.form-error #import-errors role="alert" data-errors=(errors.len()) {
            p { (lang.t("文件有误, 未记录任何内容. 请改正以下各处后重新上传:", "The file has problems and nothing was recorded. Correct these and upload it again:")) }
            ul {
                @for e in errors {
                    li data-row=(e.row) data-column=[e.column.as_deref()] {
                        (lang.t("第 ", "Row ")) (e.row) (lang.t(" 行", ""))
                        @if let Some(c) = &e.column { " · " (c) (lang.t(" 列 ", " column ")) span translate="no" { (e.header.as_deref().unwrap_or_default()) } }
                        ": " (lang.said(&e.message))
                    }
                }
            }
        }
        p { a href=(again) { (lang.t("重新上传", "Upload again")) } }
    }
}

/// The confirmation: the same bytes again, with the plan's fingerprint the preview answered.
fn confirm_form(
    lang: super::i18n::Lang,
    action: &str,
    ops: &str,
    period: &str,
    file_name: &str,
    content: &str,
    plan: Option<&str>,
) -> Markup {
    html! {
        form.entry #confirm-form method="post" action=(action) data-ops=(ops) {
            input type="hidden" name="period" value=(period);
            input type="hidden" name="file_name" value=(file_name);
            input type="hidden" name="content" value=(content);
            input type="hidden" name="plan" value=(plan.unwrap_or_default());
            button type="submit" { (lang.t("确认记录", "Confirm and record")) }
        }
    }
}

/// The API's dry run of a file (base64 `content`): nothing is recorded.
async fn dry_run<V: serde::de::DeserializeOwned>(
    session: &Session,
    uri: &str,
    file_name: &str,
    content: &str,
) -> Result<V, Failure> {
    session
        .send_for(
            Method::POST,
            uri,
            &serde_json::json!({"file_name": file_name, "content": content, "dry_run": true}),
            None,
        )
        .await
}

/// Records the plan a preview answered (the confirmation form's fields), or nothing.
async fn record_plan<V: serde::de::DeserializeOwned>(
    session: &Session,
    uri: &str,
    form: &Form,
) -> Result<V, Failure> {
    let lang = session.lang;
    let plan = form.get("plan");
    if plan.is_empty() {
        return Err(Failure::bad_request(
            lang,
            "plan",
            lang.t(
                "缺少预览结果, 请先预览",
                "no preview: preview the file first",
            ),
        ));
    }
    session
        .send_for(
            Method::POST,
            uri,
            &serde_json::json!({
                "file_name": form.get("file_name"),
                "content": form.get("content"),
                "expected_plan": plan,
            }),
            None,
        )
        .await
}

// ---- business results ----

/// The roles that record business results (the API's gate).
const BUSINESS_ROLES: &[Role] = &[Role::Admin, Role::Assessor];

/// Where a period's business results are imported.
pub fn business_import_href(period: &str) -> String {
    format!("/periods/{}/business/import", seg(period))
}

fn xlsx(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /periods/{period}/business/template.xlsx`: one row per unit of the period the reader may
/// record for (code and name), the rest to fill in.
pub async fn business_template(
    session: Session,
    Path(period): Path<String>,
) -> Result<Response, Failure> {
    forms::only(&session, BUSINESS_ROLES)?;
    let lang = session.lang;
    let p = super::print::period_view(&session, &period).await?;
    let list: BusinessResultList = session
        .get(&format!(
            "/api/v1/periods/{}/business-results",
            seg(&period)
        ))
        .await?;
    let names = super::standings::unit_names(&session).await?;
    let mine =
        |u: &ledger_schemas::ids::UnitId| session.me.units.as_ref().is_none_or(|m| m.contains(u));
    let units: Vec<(String, String)> = list
        .units
        .iter()
        .filter(|u| mine(&u.unit))
        .map(|u| {
            let name = names.get(&u.unit).cloned().unwrap_or_default();
            (u.unit.to_string(), name)
        })
        .collect();
    let bytes = crate::import::template::BusinessTemplate {
        period: &period,
        period_name: &p.name,
        units: &units,
    }
    .to_bytes()
    .map_err(|e| Failure::internal(lang, format!("{e}")))?;
    Ok(xlsx(&format!("business-template-{period}.xlsx"), bytes))
}

/// `GET /periods/{period}/business/import`: the upload form.
pub async fn business_page(
    session: Session,
    Path(period): Path<String>,
) -> Result<Response, Failure> {
    forms::only(&session, BUSINESS_ROLES)?;
    let lang = session.lang;
    let action = business_import_href(&period);
    let body = html! {
        p.hint { (lang.t(
            "上传 CSV 文件 (Excel 另存的中文 CSV 也可) 或 Excel 工作簿 (工作表名 “经营业绩”, 可用下方模板), 每行一个单位: 单位、得分 (0–100)、否决 (是/否)、依据; 修改已记录的结果须填写原因. 先预览: 显示将记录的每一行和每处错误, 不记录任何内容; 确认后才记录, 记录人是您.",
            "Upload a CSV file (as Excel saves it, in any of its encodings) or an Excel workbook (the sheet named as in the template below), one row a unit: unit, score (0–100), vetoed (yes/no), source; replacing a recorded result needs a reason. The preview shows every row as it would be recorded and every error, and records nothing; only the confirmation records, as you."
        )) }
        form.entry #import-form method="post" action=(action) enctype="multipart/form-data" data-ops="importBusinessResults" {
            input type="hidden" name="period" value=(period);
            label for="file" { (lang.t("经营业绩文件", "Business results file")) }
            input #file type="file" name="file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" required;
            button type="submit" { (lang.t("预览", "Preview")) }
        }
        h2 { (lang.t("模板", "Template")) }
        p { a.template #business-template href={ "/periods/" (seg(&period)) "/business/template.xlsx" } {
            (lang.t("经营业绩模板 (Excel, 已列出本周期的单位)", "Business results template (Excel, with the period's units)"))
        } }
        p { a href={ "/periods/" (seg(&period)) "/business" } { (lang.t("返回经营业绩", "Back to the business results")) } }
    };
    let title = format!(
        "{period} · {}",
        lang.t("导入经营业绩", "import business results")
    );
    Ok(layout::page(&session, Nav::Work, &title, body))
}

fn business_action_label(lang: super::i18n::Lang, action: &str) -> &'static str {
    match action {
        "record" => lang.t("新录入", "new"),
        "replace" => lang.t("修改", "replacement"),
        _ => lang.t("未变", "unchanged"),
    }
}

/// `POST /periods/{period}/business/import` (multipart): the preview; nothing is recorded.
pub async fn business_preview(
    session: Session,
    Path(period): Path<String>,
    multipart: Multipart,
) -> Result<Response, Failure> {
    forms::only(&session, BUSINESS_ROLES)?;
    let lang = session.lang;
    let upload = read_upload(&session, multipart).await?;
    let content = base64::engine::general_purpose::STANDARD.encode(&upload.bytes);
    let uri = format!("/api/v1/periods/{}/business-result-imports", seg(&period));
    let view: BusinessImportView = dry_run(&session, &uri, &upload.file_name, &content).await?;
    let names = super::standings::unit_names(&session).await?;
    let count = |a: &str| view.rows.iter().filter(|r| r.action == a).count();
    let body = html! {
        (file_line(lang, &view.file_name, &view.file_sha256, view.period.as_str()))
        @if !view.errors.is_empty() {
            (errors_list(lang, &view.errors, &business_import_href(&period)))
        } @else {
            p #import-counts data-record=(count("record")) data-replace=(count("replace")) data-unchanged=(count("unchanged")) {
                (lang.t("将新录入 ", "Will record ")) (count("record")) (lang.t(" 项, 修改 ", " new results, replace ")) (count("replace"))
                (lang.t(" 项, ", ", leave ")) (count("unchanged")) (lang.t(" 项未变. 尚未记录.", " unchanged. Nothing is recorded yet."))
            }
            div.scroll {
                table #preview {
                    thead { tr {
                        th { (lang.t("行", "Row")) } th { (lang.t("单位", "Unit")) } th.num { (lang.t("得分", "Score")) }
                        th { (lang.t("否决", "Vetoed")) } th { (lang.t("依据", "Source")) } th { (lang.t("原因", "Reason")) }
                        th { (lang.t("操作", "Action")) }
                    } }
                    tbody {
                        @for r in &view.rows {
                            tr data-row=(r.row) data-action=(r.action) {
                                td { (r.row) }
                                td title=(r.unit) { (names.get(&r.unit).cloned().unwrap_or_else(|| r.unit.to_string())) }
                                td.num { (super::format::points(&r.score.to_string())) }
                                td { (if r.vetoed { lang.t("是", "yes") } else { lang.t("否", "no") }) }
                                td.text translate="no" { (r.source) } td.text translate="no" { (r.reason) }
                                td { (business_action_label(lang, &r.action)) }
                            }
                        }
                    }
                }
            }
            (confirm_form(lang, &format!("{}/confirm", business_import_href(&period)), "importBusinessResults", view.period.as_str(), &view.file_name, &content, view.plan.as_deref()))
        }
    };
    let title = format!(
        "{period} · {}",
        lang.t("经营业绩导入预览", "business results import preview")
    );
    Ok(layout::page(&session, Nav::Work, &title, body))
}

/// `POST /periods/{period}/business/import/confirm`: records the previewed plan, or nothing.
pub async fn business_confirm(
    session: Session,
    Path(period): Path<String>,
    body: Bytes,
) -> Result<Response, Failure> {
    forms::only(&session, BUSINESS_ROLES)?;
    let lang = session.lang;
    let form = Form::parse(lang, &body)?;
    let uri = format!("/api/v1/periods/{}/business-result-imports", seg(&period));
    let view: BusinessImportView = record_plan(&session, &uri, &form).await?;
    let recorded = view.rows.iter().filter(|r| r.action != "unchanged").count();
    let body = html! {
        p.done #imported role="status" data-recorded=(recorded) data-correlation=[view.correlation_id.map(|c| c.to_string())] {
            (lang.t("已记录 ", "Recorded ")) (recorded) (lang.t(" 项; 文件 SHA-256 ", " results; file SHA-256 ")) code { (view.file_sha256) }
        }
        p { a href={ "/periods/" (seg(&period)) "/business" } { (lang.t("查看经营业绩", "See the business results")) } }
        p { a href=(business_import_href(&period)) { (lang.t("继续导入", "Import another file")) } }
    };
    let title = format!(
        "{period} · {}",
        lang.t("经营业绩已导入", "business results imported")
    );
    Ok(layout::page(&session, Nav::Work, &title, body))
}

/// The uploaded file a preview is of: its name, SHA-256 and period.
fn file_line(lang: super::i18n::Lang, file_name: &str, sha256: &str, period: &str) -> Markup {
    html! {
        p.meta #import-file data-sha256=(sha256) {
            (lang.t("文件 ", "File ")) strong translate="no" { (file_name) } " · SHA-256 " code { (sha256) }
            " · " (lang.t("考核周期 ", "period ")) (period)
        }
    }
}
