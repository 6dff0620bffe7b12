//! CSV files as Excel and other programs save them: the text's encoding found (`decode_text`), then
//! the rows read with the `csv` crate, keeping each row's line number.

use anyhow::{Context as _, bail};

use super::{Column, Header, Row, RowError, Table, column_letter};

/// The file's text: UTF-8 (with or without a byte-order mark), UTF-16 with one (Excel's "Unicode
/// text"), or else GB18030, which includes GBK (what Excel's "CSV (逗号分隔)" writes on Chinese
/// Windows). A file that is none of these is refused as a whole, naming the line.
fn decode_text(bytes: &[u8]) -> anyhow::Result<String> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, malformed) = encoding.decode_without_bom_handling(&bytes[bom..]);
        if malformed {
            bail!(
                "文件以 {0} 的字节顺序标记开头, 但内容不是有效的 {0} (the file starts with a {0} byte-order mark but is not valid {0}); 请在 Excel 中另存为 CSV UTF-8 (save it again as CSV UTF-8)",
                encoding.name()
            );
        }
        return Ok(text.into_owned());
    }
    let utf8_error = match std::str::from_utf8(bytes) {
        Ok(text) => return Ok(text.to_owned()),
        Err(e) => e,
    };
    // Where reading it as UTF-8 stopped: the stray bytes of a UTF-8 file, or the first character
    // of a file in some other encoding.
    let upto = utf8_error.valid_up_to();
    let line = bytes[..upto].iter().filter(|b| **b == b'\n').count() + 1;
    // Chinese text in UTF-8 before that point: a UTF-8 file with bad bytes, not a GBK file (whose
    // Chinese characters are almost never valid UTF-8), so it is not read as GBK into mojibake.
    if bytes[..upto].iter().any(|b| !b.is_ascii()) {
        bail!(
            "第 {line} 行: 文件是 UTF-8 编码, 但此行有无效字节 (line {line}: the file is UTF-8 but this line has bytes that are not); 请在 Excel 中另存为 CSV UTF-8 (save it again as CSV UTF-8)"
        );
    }
    let (text, malformed) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if malformed {
        bail!(
            "第 {line} 行: 文件既不是 UTF-8 也不是 GBK/GB18030 编码 (line {line}: the file is neither UTF-8 nor GBK/GB18030); 请在 Excel 中另存为 CSV UTF-8 (save it again as CSV UTF-8)"
        );
    }
    Ok(text.into_owned())
}

/// Reads the file's rows under its header row.
pub(super) fn read<C: Column>(bytes: &[u8]) -> anyhow::Result<Table<C>> {
    let text = decode_text(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header = Header::<C>::parse(
        reader
            .headers()
            .context("无法读取首行 (cannot read the header row)")?
            .iter(),
    )?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for result in reader.records() {
        match result {
            Ok(record) => rows.push(Row {
                row: record.position().map_or(0, |p| p.line()),
                cells: record.iter().map(str::to_owned).collect(),
            }),
            Err(err) => {
                let row = err.position().map_or(0, |p| p.line());
                let column = match err.kind() {
                    csv::ErrorKind::Utf8 { err, .. } => header
                        .names
                        .get(err.field())
                        .map(|name| (column_letter(err.field()), name.clone())),
                    _ => None,
                };
                errors.push(RowError {
                    row,
                    column,
                    message: format!("无法读取 (unreadable): {err}"),
                });
            }
        }
    }
    Ok(Table {
        header,
        rows,
        errors,
    })
}
