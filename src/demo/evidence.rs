//! The demo's evidence files (佐证材料), made here rather than shipped: branch meeting minutes and a
//! study-hours statement as one-page PDFs, and meeting sign-in sheets as PNG images. The bytes are
//! deterministic (no dates of the run, no randomness), so every demo ledger cites the same digests.
//!
//! Both formats are written by hand because they are small: a PDF 1.4 file with the standard
//! Helvetica fonts (no font to embed, so the text is Latin: the standard fonts carry no Chinese) and
//! a cross-reference table whose offsets are counted as the objects are written; a PNG of 8-bit grey
//! pixels, its image data deflated with `flate2` and every chunk's CRC-32 from the same crate. The
//! sign-in sheet's letters come from a 5×7 pixel font below.

use std::io::Write as _;

/// Which demo command cites a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CitedBy {
    /// SH-CZ-B1's self-assessment of A2 (「三会一课」落实) in 2026Q3.
    SelfAssessment,
    /// SH-CZ-B1's appeal AP-2026Q3-01 on C1 (study hours).
    Appeal,
    /// SH-NY-B2's submission of rectification ZG-2026Q3-01 (committee meetings missed).
    Rectification,
}

/// One evidence file of the demo.
pub struct Document {
    pub cited_by: CitedBy,
    /// The name it was uploaded under.
    pub name: &'static str,
    pub media_type: &'static str,
    /// The person who uploaded it (the citing unit's secretary).
    pub uploaded_by: &'static str,
    pub bytes: Vec<u8>,
}

/// Every evidence file the demo cites.
pub fn documents() -> Vec<Document> {
    let doc = |cited_by, name, media_type, uploaded_by, bytes| Document {
        cited_by,
        name,
        media_type,
        uploaded_by,
        bytes,
    };
    vec![
        doc(
            CitedBy::SelfAssessment,
            "支委会会议记录-2026年9月.pdf",
            "application/pdf",
            "sec-sh-cz-b1",
            pdf(
                "Minutes of the Branch Committee Meeting",
                &[
                    "Shenghe Urban Branch (SH-CZ-B1), Shenghe Urban Construction Co., Ltd.",
                    "Date: 2026-09-15, 14:30-16:10. Place: meeting room 302, office building.",
                    "Chair: Ma Xiaoyan, branch secretary. Minutes: Huang Li.",
                    "Present: 5 of 5 committee members; 2 members attending as observers.",
                    "",
                    "1. Study of the first topic: the group party committee's notice on",
                    "   integrating party building with the third-quarter business targets.",
                    "2. Review of the three meetings and one lesson in the quarter: three",
                    "   committee meetings, one general meeting, one party lesson held (July",
                    "   lesson given by the secretary on the responsibility letter).",
                    "3. Member development: one activist's file reviewed; interview set for",
                    "   October. Dues for July-September collected in full.",
                    "4. Decisions: the fourth-quarter study plan is adopted; the sign-in sheets",
                    "   and these minutes are filed with the assessment ledger.",
                    "",
                    "Signed: Ma Xiaoyan (chair); Huang Li (minutes).",
                ],
            ),
        ),
        doc(
            CitedBy::SelfAssessment,
            "签到表-2026年9月.png",
            "image/png",
            "sec-sh-cz-b1",
            png_sign_in(
                "SIGN-IN SHEET  BRANCH COMMITTEE MEETING",
                "SH-CZ-B1  2026-09-15  ROOM 302",
                &["MA XIAOYAN", "HUANG LI", "ZHOU JIAN", "LIN NA", "XU MING"],
                1,
            ),
        ),
        doc(
            CitedBy::Appeal,
            "线上学习学时统计.pdf",
            "application/pdf",
            "sec-sh-cz-b1",
            pdf(
                "Online Study Hours, Third Quarter 2026",
                &[
                    "Shenghe Urban Branch (SH-CZ-B1). Source: the group's study platform export.",
                    "Required: 8 hours per member per quarter (item C1 of the rubric).",
                    "",
                    "Member            Classroom   Online   Total   Met",
                    "Ma Xiaoyan            4.0       6.5     10.5   yes",
                    "Huang Li              4.0       5.0      9.0   yes",
                    "Zhou Jian             2.0       6.0      8.0   yes",
                    "Lin Na                4.0       4.5      8.5   yes",
                    "Xu Ming               2.0       7.0      9.0   yes",
                    "",
                    "All 5 members met the required hours (100%). The online hours were not",
                    "counted in the assessment; this statement supports appeal AP-2026Q3-01.",
                    "",
                    "Certified: Ma Xiaoyan, branch secretary, 2026-10-20",
                ],
            ),
        ),
        doc(
            CitedBy::Rectification,
            "整改补开支委会会议记录.pdf",
            "application/pdf",
            "sec-sh-ny-b2",
            pdf(
                "Minutes of the Make-up Committee Meeting",
                &[
                    "New Energy Marketing Service Branch (SH-NY-B2).",
                    "Date: 2026-10-28, 15:00-16:30. Place: branch activity room.",
                    "Chair: He Fang, branch secretary. Present: 5 of 5 committee members.",
                    "",
                    "1. Rectification ZG-2026Q3-01: two committee meetings and the party",
                    "   lesson of the third quarter were not held as planned.",
                    "2. The missed meetings are made up: the quarter's agenda is reviewed",
                    "   and the party lesson given by the secretary on the same day.",
                    "3. A reminder ledger of the three meetings and one lesson is set up:",
                    "   the organisation member checks it on the 20th of every month.",
                    "4. Decision: the rectification report is submitted to the group.",
                    "",
                    "Signed: He Fang (chair)",
                ],
            ),
        ),
        doc(
            CitedBy::Rectification,
            "整改会议签到表.png",
            "image/png",
            "sec-sh-ny-b2",
            png_sign_in(
                "SIGN-IN SHEET  MAKE-UP COMMITTEE MEETING",
                "SH-NY-B2  2026-10-28  ACTIVITY ROOM",
                &["HE FANG", "SUN QIANG", "GAO YAN", "DENG WEI", "CAI JING"],
                2,
            ),
        ),
    ]
}

// ---- PDF ----

/// A one-page A4 PDF: a bold title, a rule, and `lines` of text (ASCII; anything else becomes `?`),
/// in Helvetica, or in Courier when a line holds a table (two spaces in a row), so columns align.
pub fn pdf(title: &str, lines: &[&str]) -> Vec<u8> {
    let body = if lines.iter().any(|l| l.trim_start().contains("  ")) {
        "Courier"
    } else {
        "Helvetica"
    };
    let mut content = String::new();
    content.push_str("0.4 w 56 752 m 539 752 l S\n");
    content.push_str(&format!(
        "BT /F2 16 Tf 56 766 Td ({}) Tj ET\n",
        pdf_text(title)
    ));
    content.push_str("BT /F1 10.5 Tf 15 TL 56 728 Td\n");
    for line in lines {
        content.push_str(&format!("({}) Tj T*\n", pdf_text(line)));
    }
    content.push_str("ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>".to_owned(),
        format!("<< /Type /Font /Subtype /Type1 /BaseFont /{body} /Encoding /WinAnsiEncoding >>"),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()),
        format!("<< /Title ({}) /Producer (ledger demo) >>", pdf_text(title)),
    ];
    // The header's second line holds bytes above 127, as the specification advises for a file
    // with binary content, so that transfer programs treat it as binary.
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    // Every entry is exactly 20 bytes: ten digits, space, five digits, space, keyword, space, LF.
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        table.push_str(&format!("{offset:010} 00000 n \n"));
    }
    table.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R /Info 7 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.extend_from_slice(table.as_bytes());
    out
}

/// `text` as a PDF literal string's content: ASCII, with `\`, `(` and `)` escaped.
fn pdf_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

// ---- PNG ----

const WIDTH: usize = 640;
const ROW: usize = 40;
const INK: u8 = 25;
const RULE: u8 = 110;

/// A sign-in sheet as a grey PNG: title, subtitle, a table of number, name and signature, one row
/// per name with a pen-like scribble for each signature (shaped by `seed` and the row).
pub fn png_sign_in(title: &str, subtitle: &str, names: &[&str], seed: u64) -> Vec<u8> {
    let top = 96;
    let height = top + ROW * (names.len() + 1) + 40;
    let mut image = Canvas {
        width: WIDTH,
        pixels: vec![255; WIDTH * height],
    };
    image.text(24, 20, title, 2);
    image.text(24, 54, subtitle, 2);
    let columns = [20, 80, 300, 620];
    let bottom = top + ROW * (names.len() + 1);
    for r in 0..=names.len() + 1 {
        image.hline(columns[0], columns[3], top + r * ROW, RULE);
    }
    for x in columns {
        image.vline(x, top, bottom, RULE);
    }
    image.text(32, top + 13, "NO", 2);
    image.text(92, top + 13, "NAME", 2);
    image.text(312, top + 13, "SIGNATURE", 2);
    for (i, name) in names.iter().enumerate() {
        let y = top + ROW * (i + 1);
        image.text(32, y + 13, &format!("{}", i + 1), 2);
        image.text(92, y + 13, name, 2);
        image.scribble(320, y + 6, seed * 31 + i as u64);
    }
    png_grey(WIDTH, height, &image.pixels)
}

struct Canvas {
    width: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    fn set(&mut self, x: usize, y: usize, value: u8) {
        if x < self.width
            && let Some(p) = self.pixels.get_mut(y * self.width + x)
        {
            *p = (*p).min(value);
        }
    }

    fn hline(&mut self, x0: usize, x1: usize, y: usize, value: u8) {
        (x0..=x1).for_each(|x| self.set(x, y, value));
    }

    fn vline(&mut self, x: usize, y0: usize, y1: usize, value: u8) {
        (y0..=y1).for_each(|y| self.set(x, y, value));
    }

    /// Writes `text` (upper-case letters, digits, a few signs) at `scale` pixels per font pixel.
    fn text(&mut self, x: usize, y: usize, text: &str, scale: usize) {
        for (i, c) in text.chars().enumerate() {
            let glyph = glyph(c);
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..5 {
                    if bits & (0b10000 >> col) != 0 {
                        for dy in 0..scale {
                            for dx in 0..scale {
                                self.set(
                                    x + i * 6 * scale + col * scale + dx,
                                    y + row * scale + dy,
                                    INK,
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// A signature-like stroke in a 260 × 28 box at (x, y): a few loops of varying height along a
    /// baseline, drawn two pixels wide.
    fn scribble(&mut self, x: usize, y: usize, seed: u64) {
        let mut state = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut next = || {
            // SplitMix64, as the demo's values use.
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        let length = 140.0 + 100.0 * next();
        let loops = 3.0 + (4.0 * next()).floor();
        let heights: Vec<f64> = (0..8).map(|_| 5.0 + 8.0 * next()).collect();
        let steps = (length * 4.0) as usize;
        for s in 0..steps {
            let t = s as f64 / steps as f64;
            let phase = t * loops * std::f64::consts::TAU;
            let amp = heights[((t * 8.0) as usize).min(7)];
            let px = t * length + 6.0 * phase.cos();
            let py = 14.0 - amp * phase.sin() + 4.0 * (t - 0.5);
            let (px, py) = (x as f64 + px, y as f64 + py);
            if px >= 0.0 && py >= 0.0 {
                let (px, py) = (px as usize, py as usize);
                self.set(px, py, INK);
                self.set(px + 1, py, INK);
                self.set(px, py + 1, INK);
            }
        }
    }
}

/// An 8-bit greyscale PNG of `pixels` (row by row, `width` per row).
pub fn png_grey(width: usize, height: usize, pixels: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity((width + 1) * height);
    for row in pixels.chunks(width).take(height) {
        raw.push(0); // filter type 0: the row as it is
        raw.extend_from_slice(row);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&raw).expect("writing to memory");
    let data = z.finish().expect("writing to memory");
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&(width as u32).to_be_bytes());
    header.extend_from_slice(&(height as u32).to_be_bytes());
    // Bit depth 8, colour type 0 (grey), deflate, adaptive filtering, no interlace.
    header.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, body) in [
        (b"IHDR", header.as_slice()),
        (b"IDAT", data.as_slice()),
        (b"IEND", &[][..]),
    ] {
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(body);
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    out
}

/// The 5×7 pixels of `c`, one row per byte, the leftmost pixel in bit 4. Unknown characters are
/// blank.
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_uppercase() {
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        '/' => [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00],
        _ => [0; 7],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    /// Every object the cross-reference table names starts exactly at its offset, `startxref`
    /// points at the table, and every entry is 20 bytes: what a viewer needs to open the file
    /// without repairing it.
    #[test]
    fn the_pdf_cross_reference_table_is_exact() {
        for doc in documents()
            .iter()
            .filter(|d| d.media_type == "application/pdf")
        {
            let bytes = &doc.bytes;
            let text = String::from_utf8_lossy(bytes);
            assert!(bytes.starts_with(b"%PDF-1.4\n"), "{}", doc.name);
            assert!(text.ends_with("%%EOF\n"));
            let start: usize = text
                .rsplit("startxref\n")
                .next()
                .and_then(|t| t.lines().next())
                .and_then(|n| n.parse().ok())
                .expect("startxref");
            assert!(bytes[start..].starts_with(b"xref\n0 8\n"), "{}", doc.name);
            // From the table on the file is ASCII (the header's second line is not, so `text`'s
            // offsets differ from the file's).
            let table = std::str::from_utf8(&bytes[start..]).unwrap();
            let entries: Vec<&str> = table.lines().skip(2).take(8).collect();
            assert_eq!(entries[0], "0000000000 65535 f ");
            for (i, entry) in entries.iter().enumerate().skip(1) {
                assert_eq!(entry.len() + 1, 20, "{entry:?}");
                let offset: usize = entry[..10].parse().unwrap();
                let head = format!("{i} 0 obj\n");
                assert!(bytes[offset..].starts_with(head.as_bytes()), "object {i}");
            }
            // The content stream's declared length is its length.
            let stream = text.find("stream\n").unwrap() + "stream\n".len();
            let end = text.find("endstream").unwrap();
            assert!(text.contains(&format!("/Length {} >>", end - stream)));
        }
    }

    /// The PNGs have the signature, every chunk's CRC-32 checks, and the image data inflates to
    /// one filter byte plus the width for every row of the header's height.
    #[test]
    fn the_png_chunks_check_and_inflate_to_the_image() {
        for doc in documents().iter().filter(|d| d.media_type == "image/png") {
            let bytes = &doc.bytes;
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
            let mut at = 8;
            let (mut size, mut data) = ((0, 0), Vec::new());
            let mut kinds = Vec::new();
            while at < bytes.len() {
                let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
                let kind = &bytes[at + 4..at + 8];
                let body = &bytes[at + 8..at + 8 + len];
                let crc =
                    u32::from_be_bytes(bytes[at + 8 + len..at + 12 + len].try_into().unwrap());
                let mut check = flate2::Crc::new();
                check.update(kind);
                check.update(body);
                assert_eq!(check.sum(), crc, "{}", String::from_utf8_lossy(kind));
                match kind {
                    b"IHDR" => {
                        size = (
                            u32::from_be_bytes(body[..4].try_into().unwrap()) as usize,
                            u32::from_be_bytes(body[4..8].try_into().unwrap()) as usize,
                        );
                        assert_eq!(&body[8..], &[8, 0, 0, 0, 0]);
                    }
                    b"IDAT" => data.extend_from_slice(body),
                    _ => {}
                }
                kinds.push(String::from_utf8_lossy(kind).into_owned());
                at += 12 + len;
            }
            assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
            let mut raw = Vec::new();
            flate2::read::ZlibDecoder::new(data.as_slice())
                .read_to_end(&mut raw)
                .unwrap();
            assert_eq!(raw.len(), size.1 * (size.0 + 1));
            // Ink was drawn: a sheet of blank paper would be a poor sign-in sheet.
            assert!(raw.iter().filter(|&&p| p == INK).count() > 2_000);
        }
    }

    /// The same bytes every time, so every demo ledger cites the same digests.
    #[test]
    fn the_documents_are_deterministic() {
        let a: Vec<Vec<u8>> = documents().into_iter().map(|d| d.bytes).collect();
        let b: Vec<Vec<u8>> = documents().into_iter().map(|d| d.bytes).collect();
        assert_eq!(a, b);
    }
}
