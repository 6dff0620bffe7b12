//! Integrity: the latest signed checkpoint, the last verification (chain, checkpoints, missing ones,
//! read-model snapshots, warnings) and a button that runs one, and
//! an inclusion check the browser does itself: the page's script fetches the proof for an event,
//! recomputes the root from the event's hash and the audit path with the browser's own SHA-256
//! (RFC 9162 §2.1.3.2), and compares it with the signed checkpoint's root.

use axum::extract::Query;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::client::{Failure, Session};
use super::format;
use super::layout::{self, Nav};
use crate::http::views::{CheckpointList, InclusionView, VerificationView};

/// Which event the inclusion form starts at: the change log and histories link here with one.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    position: Option<String>,
}

/// `GET /integrity?position=N`.
pub async fn page(session: Session, Query(q): Query<PageQuery>) -> Result<Response, Failure> {
    let lang = session.lang;
    // Only a whole number is put into the form; anything else starts at the first event.
    let start = q
        .position
        .as_deref()
        .map(str::trim)
        .filter(|p| p.parse::<u64>().is_ok())
        .unwrap_or("1")
        .to_owned();
    let checkpoints = session
        .get::<CheckpointList>("/api/v1/audit/checkpoints")
        .await;
    let last = session
        .get::<VerificationView>("/api/v1/audit/verification")
        .await
        .ok();
    let body = html! {
        section #checkpoint {
            h2 { (lang.t("最新签名检查点", "Latest signed checkpoint")) }
            @match &checkpoints {
                Ok(list) => {
                    @if let Some(c) = list.checkpoints.last() {
                        dl.totals {
                            dt { (lang.t("覆盖事件数", "Tree size")) } dd #tree-size { (c.tree_size) }
                            dt { (lang.t("根哈希", "Root hash")) } dd { code #root { (c.root) } }
                            dt { (lang.t("签名时间", "Signed at")) } dd { (format::time(&c.time)) }
                            dt { (lang.t("账本长度", "Log length")) } dd { (list.log_size) }
                            dt { (lang.t("公钥", "Public key")) } dd { code { (list.public_key.clone().unwrap_or_default()) } }
                        }
                        details { summary { (lang.t("签名文本", "Signed note")) } pre { code { (c.note) } } }
                        (witnesses(lang, &list.checkpoints))
                    } @else {
                        p.empty { (lang.t("尚无签名检查点. 用 ", "No signed checkpoint yet. Sign one with "))
                            code { "ledger audit checkpoint" } (lang.t(" 签发, 或以 ", ", or serve with "))
                            code { "--checkpoint-every" } (lang.t(" 运行服务.", ".")) }
                    }
                }
                Err(f) => { p.problem { (f.problem.title) " — " (f.problem.detail) } }
            }
        }
        section #verification {
            h2 { (lang.t("最近一次验证", "Last verification")) }
            @if let Some(v) = &last {
                p #verification-result class=(if v.intact { "ok" } else { "bad" }) {
                    @if v.intact { "✓ " (lang.t("哈希链、检查点与读模型快照均完好", "The hash chain, every checkpoint and every read-model snapshot hold")) }
                    @else { "✗ " (lang.t("发现问题", "Problems found")) }
                    " · " (format::time(&v.verified_at)) " · "
                    (v.verified) " / " (v.log_size) (lang.t(" 个事件; ", " events; ")) (v.checkpoints_checked) (lang.t(" 个检查点", " checkpoints"))
                }
                @if let Some(b) = &v.chain_break { p.bad { (b) } }
                @for f in &v.checkpoint_faults { p.bad { (f) } }
                @for m in &v.missing_checkpoints { p.bad.missing-checkpoint { (m) } }
                p #snapshot-result class=(if v.snapshots.valid == v.snapshots.checked { "ok" } else { "bad" }) {
                    (lang.t("读模型快照: 核对 ", "Read-model snapshots: ")) (v.snapshots.checked)
                    (lang.t(" 个, 可信 ", " checked, ")) (v.snapshots.valid)
                    (lang.t(" 个", " valid"))
                    @if !v.snapshots.entries.is_empty() {
                        (lang.t("; 记录序号 ", "; positions "))
                        (crate::audit::schedule::sizes(&v.snapshots.entries.iter().map(|e| e.position).collect::<Vec<_>>()))
                    }
                }
                @for f in v.snapshots.faults() { p.bad.snapshot-fault { (f) } }
                @if let Some(k) = &v.key {
                    p.key { (lang.t("所用密钥 (账本旁): ", "Key used (beside the ledger): ")) code { (k.origin) " " (k.key_id) }
                        (lang.t(" — 请与交给您的公钥核对密钥号", " — compare its key id with the public key you were given")) }
                }
                @for w in &v.warnings { p.warning { "⚠ " (w) } }
            } @else {
                p.empty { (lang.t("本服务启动以来尚未验证.", "No verification since this server started.")) }
            }
            // Only the auditor may run a verification (the API's gate); others read the last one.
            @if session.role() == ledger_schemas::envelope::Role::Auditor {
                form.inline method="post" action="/integrity/verify" data-ops="auditVerify" {
                    button #verify-now type="submit" { (lang.t("立即验证全部", "Verify everything now")) }
                }
            }
        }
        section #inclusion {
            h2 { (lang.t("在浏览器中验证事件的包含证明", "Verify an event's inclusion proof in this browser")) }
            p { (lang.t("浏览器取得证明后自行计算 SHA-256, 由事件哈希和审计路径重算根哈希, 与签名检查点的根比对.",
                "The browser fetches the proof, recomputes the root from the event's hash and the audit path with its own SHA-256, and compares it with the signed checkpoint's root.")) }
            form #inclusion-form data-ok=(lang.t("✓ 包含证明成立: 重算的根与签名检查点一致", "✓ The proof holds: the recomputed root equals the signed checkpoint's"))
                data-bad=(lang.t("✗ 包含证明不成立", "✗ The proof does not hold")) {
                label for="position" { (lang.t("记录序号", "Event position")) }
                input #position name="position" inputmode="numeric" value=(start);
                button #check-inclusion type="submit" { (lang.t("验证", "Verify")) }
            }
            div #inclusion-result aria-live="polite" {}
        }
    };
    Ok(layout::page(
        &session,
        Nav::Integrity,
        lang.t("完整性", "Integrity"),
        body,
    ))
}

/// `POST /integrity/verify`: runs a verification through the API, then shows the page again.
pub async fn verify(session: Session) -> Result<Response, Failure> {
    session
        .send(
            Method::POST,
            "/api/v1/audit/verification",
            &serde_json::json!({}),
            None,
        )
        .await?;
    Ok(Redirect::to("/integrity").into_response())
}

#[derive(Debug, Deserialize)]
pub struct ProofQuery {
    position: String,
}

/// `GET /integrity/proof?position=N`: the API's inclusion proof, as JSON, for the page's script.
pub async fn proof(session: Session, Query(q): Query<ProofQuery>) -> Response {
    let position = q.position.trim().to_owned();
    let uri = format!(
        "/api/v1/audit/proofs/inclusion?{}",
        format::query(&[("position", &position)])
    );
    match session.get::<InclusionView>(&uri).await {
        Ok(view) => axum::Json(view).into_response(),
        Err(f) => (
            f.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            serde_json::to_string(&f.problem).unwrap_or_default(),
        )
            .into_response(),
    }
}

/// Which witnesses cosigned which checkpoints: the newest checkpoints that carry a cosignature,
/// newest first, each cosignature with its witness, time and whether it verifies under a witness
/// key the server is configured with (see `ledger witness`, `ledger verify --witness-key`).
fn witnesses(
    lang: super::i18n::Lang,
    checkpoints: &[crate::http::views::CheckpointView],
) -> maud::Markup {
    const SHOWN: usize = 10;
    let cosigned: Vec<_> = checkpoints
        .iter()
        .rev()
        .filter(|c| !c.cosignatures.is_empty())
        .take(SHOWN)
        .collect();
    html! {
        section #witnesses {
            h3 { (lang.t("见证方联署", "Witness cosignatures")) }
            @if cosigned.is_empty() {
                p.empty {
                    (lang.t("尚无见证方联署的检查点. 见证方 (如纪委) 运行 ", "No checkpoint is cosigned by a witness yet. A witness (such as the discipline committee) runs "))
                    code { "ledger witness serve" }
                    (lang.t(", 本服务以 ", "; this server names them with "))
                    code { "--witness" }
                    (lang.t(" 指定它们.", "."))
                }
            } @else {
                div.table-box { table #cosignatures {
                    thead { tr {
                        th.num { (lang.t("检查点 (覆盖记录数)", "Checkpoint (records covered)")) }
                        th { (lang.t("签名时间", "Signed at")) }
                        th { (lang.t("见证方", "Witness")) }
                        th { (lang.t("联署时间", "Cosigned at")) }
                        th { (lang.t("验证", "Verified")) }
                        th { (lang.t("达到法定数", "Quorum met")) }
                    } }
                    tbody {
                        @for c in &cosigned {
                            @for (i, w) in c.cosignatures.iter().enumerate() {
                                tr data-size=(c.tree_size) {
                                    td.num { @if i == 0 { (c.tree_size) } }
                                    td { @if i == 0 { (format::time(&c.time)) } }
                                    td { (w.witness) " " small title=(lang.t("密钥编号", "Key id")) { (w.key_id) } }
                                    td { (format::time(&w.time)) }
                                    td { @if w.valid { "✓" } @else { span.bad { (lang.t("✗ 无效", "✗ invalid")) } } }
                                    td { @if i == 0 { @if c.witnessed { (lang.t("是", "yes")) } @else { (lang.t("否", "no")) } } }
                                }
                            }
                        }
                    }
                } }
                details { summary { (lang.t("联署后的签名文本", "The cosigned note")) } pre { code { (cosigned[0].cosigned_note) } } }
            }
        }
    }
}
