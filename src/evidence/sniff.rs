//! What a file is, read from its bytes: the media types the ledger accepts as evidence, each known
//! by its magic number (and, for the Office formats, by the parts inside the ZIP), and the check
//! that a file's name does not claim another type than its bytes are.
//!
//! A table of our own rather than a crate: the list is short, and the two Office formats (docx,
//! xlsx) are told apart by opening the ZIP with the `zip` crate the ledger already has, which is
//! surer than guessing from the first kilobytes.

use std::io::Cursor;

/// A kind of file the ledger accepts as evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Png,
    Jpeg,
    Gif,
    Webp,
    Docx,
    Xlsx,
    Text,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Pdf,
        Kind::Png,
        Kind::Jpeg,
        Kind::Gif,
        Kind::Webp,
        Kind::Docx,
        Kind::Xlsx,
        Kind::Text,
    ];

    /// The media type recorded in the event and sent when the file is served.
    pub fn media_type(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Gif => "image/gif",
            Kind::Webp => "image/webp",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Kind::Text => "text/plain",
        }
    }

    /// The kind a recorded media type names.
    pub fn of_media_type(media_type: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.media_type() == media_type)
    }

    /// The file name extensions (lowercase) that belong to this kind.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Kind::Pdf => &["pdf"],
            Kind::Png => &["png"],
            Kind::Jpeg => &["jpg", "jpeg", "jpe"],
            Kind::Gif => &["gif"],
            Kind::Webp => &["webp"],
            Kind::Docx => &["docx"],
            Kind::Xlsx => &["xlsx"],
            Kind::Text => &["txt", "csv", "md", "log"],
        }
    }

    /// Whether a browser may show the file inside the page (images and PDF, which browsers render
    /// without running anything of the file's); everything else is served as a download.
    pub fn inline(self) -> bool {
        matches!(
            self,
            Kind::Pdf | Kind::Png | Kind::Jpeg | Kind::Gif | Kind::Webp
        )
    }

    /// Whether the console shows the file as a picture.
    pub fn image(self) -> bool {
        matches!(self, Kind::Png | Kind::Jpeg | Kind::Gif | Kind::Webp)
    }
}

/// The accepted kinds, for messages, in Chinese and in English (no parentheses: messages are
/// "中文 (English)").
pub const ACCEPTED_ZH: &str = "PDF、PNG、JPEG、GIF、WebP 图片, Word 与 Excel 文档, UTF-8 纯文本";
pub const ACCEPTED_EN: &str =
    "PDF, PNG, JPEG, GIF, WebP, Word .docx, Excel .xlsx, UTF-8 plain text";

/// What the bytes of a file are, or `None` when they are none of the accepted kinds.
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"%PDF-") {
        Some(Kind::Pdf)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Kind::Jpeg)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(Kind::Gif)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(Kind::Webp)
    } else if bytes.starts_with(b"PK\x03\x04") {
        office(bytes)
    } else if is_text(bytes) {
        Some(Kind::Text)
    } else {
        None
    }
}

/// A Word or Excel document: a ZIP holding the main part of one of them.
fn office(bytes: &[u8]) -> Option<Kind> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let has = |name: &str| archive.index_for_name(name).is_some();
    if !has("[Content_Types].xml") {
        return None;
    }
    if has("word/document.xml") {
        Some(Kind::Docx)
    } else if has("xl/workbook.xml") {
        Some(Kind::Xlsx)
    } else {
        None
    }
}

/// UTF-8 text (a byte-order mark allowed) without NUL or other control characters than tab,
/// line breaks and form feed.
fn is_text(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            !text.is_empty()
                && text
                    .chars()
                    .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
        }
        Err(_) => false,
    }
}

/// The kind a file name's extension claims: `Ok(None)` when the name has no extension,
/// `Err(ext)` when it has one that belongs to no accepted kind.
pub fn claimed(name: &str) -> Result<Option<Kind>, String> {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return Ok(None);
    };
    if stem.is_empty() || ext.is_empty() || ext.chars().count() > 8 {
        return Ok(None);
    }
    let ext = ext.to_lowercase();
    Kind::ALL
        .into_iter()
        .find(|k| k.extensions().contains(&ext.as_str()))
        .map(Some)
        .ok_or(ext)
}

/// Why a file is not accepted as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    /// The bytes are none of the accepted kinds.
    UnknownType,
    /// The name ends in an extension of no accepted kind.
    UnknownExtension {
        ext: String,
    },
    /// The name claims one kind, the bytes are another.
    Disguised {
        claimed: Kind,
        actual: Kind,
    },
}

/// The kind of a file named `name` with these bytes, or why it is refused.
pub fn check(name: &str, bytes: &[u8]) -> Result<Kind, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    let actual = sniff(bytes).ok_or(Refusal::UnknownType)?;
    match claimed(name) {
        Ok(None) => Ok(actual),
        Ok(Some(claimed)) if claimed == actual => Ok(actual),
        Ok(Some(claimed)) => Err(Refusal::Disguised { claimed, actual }),
        Err(ext) => Err(Refusal::UnknownExtension { ext }),
    }
}

/// Small valid files of each kind, for tests here and in `tests/it` (a PNG of one pixel, a PDF of
/// one empty page).
pub mod samples {
    /// A 1×1 PNG (a red pixel).
    pub const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90,
        0x77, 0x53, 0xDE, 0x00, 0x00, 0x00, 0x0C, 0x49, 0x44, 0x41, 0x54, 0x08, 0xD7, 0x63, 0xF8,
        0xCF, 0xC0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xDD, 0x8D, 0xB0, 0x00, 0x00, 0x00,
        0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];

    /// A PDF of one empty A4 page.
    pub fn pdf() -> Vec<u8> {
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        ];
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for offset in offsets {
            out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_with(names: &[&str]) -> Vec<u8> {
        use std::io::Write as _;
        let mut out = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        for name in names {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(b"<x/>").unwrap();
        }
        zip.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn kinds_are_read_from_the_bytes() {
        assert_eq!(sniff(samples::PNG), Some(Kind::Png));
        assert_eq!(sniff(&samples::pdf()), Some(Kind::Pdf));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some(Kind::Jpeg));
        assert_eq!(sniff(b"GIF89a\x01\x00"), Some(Kind::Gif));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(Kind::Webp));
        assert_eq!(sniff("会议纪要\r\n第一项\tok".as_bytes()), Some(Kind::Text));
        assert_eq!(sniff(b"\xEF\xBB\xBFbom text"), Some(Kind::Text));
        let docx = zip_with(&["[Content_Types].xml", "word/document.xml"]);
        let xlsx = zip_with(&["[Content_Types].xml", "xl/workbook.xml"]);
        assert_eq!(sniff(&docx), Some(Kind::Docx));
        assert_eq!(sniff(&xlsx), Some(Kind::Xlsx));
        // Not accepted: a plain ZIP, an executable, text with NUL, Latin-1 bytes, RIFF that is not WebP.
        assert_eq!(sniff(&zip_with(&["a.txt"])), None);
        assert_eq!(sniff(b"MZ\x90\x00\x03\x00"), None);
        assert_eq!(sniff(b"abc\0def"), None);
        assert_eq!(sniff(b"caf\xe9"), None);
        assert_eq!(sniff(b"RIFF\x10\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"PK\x03\x04broken"), None);
    }

    #[test]
    fn a_name_may_not_claim_another_kind_than_the_bytes() {
        assert_eq!(check("scan.PNG", samples::PNG), Ok(Kind::Png));
        assert_eq!(check("签到表", samples::PNG), Ok(Kind::Png));
        assert_eq!(
            check("minutes.pdf", samples::PNG),
            Err(Refusal::Disguised {
                claimed: Kind::Pdf,
                actual: Kind::Png
            })
        );
        assert_eq!(
            check("notes.txt", &samples::pdf()),
            Err(Refusal::Disguised {
                claimed: Kind::Text,
                actual: Kind::Pdf
            })
        );
        assert_eq!(
            check("run.exe", samples::PNG),
            Err(Refusal::UnknownExtension { ext: "exe".into() })
        );
        assert_eq!(check("a.pdf", b""), Err(Refusal::Empty));
        assert_eq!(check("a.bin", b"\x00\x01"), Err(Refusal::UnknownType));
        assert_eq!(check(".hidden", b"text"), Ok(Kind::Text));
    }

    #[test]
    fn only_images_and_pdf_are_inline_and_media_types_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::of_media_type(kind.media_type()), Some(kind));
            assert!(ledger_schemas::values::EvidenceFile::media_type_is_valid(
                kind.media_type()
            ));
        }
        assert!(Kind::Pdf.inline() && Kind::Png.inline());
        assert!(!Kind::Text.inline() && !Kind::Docx.inline() && !Kind::Xlsx.inline());
    }
}
