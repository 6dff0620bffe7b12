//! File names as people see them: what an uploaded file's name becomes before it is recorded,
//! shown, or sent back in `Content-Disposition`.
//!
//! [`sanitise`] keeps what a person reads (Chinese and every other script, spaces, the extension)
//! and drops what could mislead or break something: any path (`/`, `\`), control characters,
//! bidirectional formatting characters (an override can make `exe.pdf` read as `fdp.exe`),
//! zero-width characters, leading dots (hidden files), and anything past [`NAME_CHARS`] characters.
//! The result always passes the ledger's rule for names (`TextRule::NAME`).

/// The longest file name kept, in characters (the ledger's names allow 200; file names stay
/// shorter so that a page's list of files stays readable).
pub const NAME_CHARS: usize = 120;

/// What a name with nothing left becomes.
const UNNAMED: &str = "未命名文件";

/// Characters dropped from names: controls, bidirectional formatting, zero-width and line or
/// paragraph separators.
fn dropped(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// The name `raw` as the ledger records and shows it.
pub fn sanitise(raw: &str) -> String {
    // The last path segment: browsers on some systems send `C:\Users\...\名单.xlsx`.
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let mut name = String::with_capacity(base.len());
    for c in base.chars() {
        // Runs of blanks of any kind (tabs and line breaks included) become one space; other
        // controls and the formatting characters go.
        if c.is_whitespace() {
            if !name.ends_with(' ') {
                name.push(' ');
            }
        } else if !dropped(c) {
            name.push(c);
        }
    }
    let name = name
        .trim_matches(|c: char| c == ' ')
        .trim_start_matches('.');
    let name = name.trim_end_matches(['.', ' ']);
    let name = shorten(name);
    if name.chars().any(|c| !c.is_whitespace()) {
        name
    } else {
        UNNAMED.to_owned()
    }
}

/// At most [`NAME_CHARS`] characters, the extension kept.
fn shorten(name: &str) -> String {
    if name.chars().count() <= NAME_CHARS {
        return name.to_owned();
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.chars().count() <= 8);
    match ext {
        Some(ext) => {
            let keep = NAME_CHARS - ext.chars().count() - 1;
            let stem: String = name.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end())
        }
        None => name.chars().take(NAME_CHARS).collect(),
    }
}

/// A `Content-Disposition` value for a file named `name` (already sanitised): `inline` or
/// `attachment`, an ASCII fallback `filename` for old clients, and the real name as RFC 6266 /
/// RFC 8187 `filename*=UTF-8''…`.
pub fn content_disposition(inline: bool, name: &str) -> String {
    let kind = if inline { "inline" } else { "attachment" };
    format!(
        "{kind}; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_fallback(name),
        percent_encode(name)
    )
}

/// The name with every character outside printable ASCII (and `"`, `\`, `%`) replaced by `_`,
/// keeping the extension readable: `会议纪要.pdf` → `____.pdf`.
fn ascii_fallback(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%' | ';') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// RFC 8187 `value-chars`: attr-char kept, every other byte of the UTF-8 percent-encoded.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger_schemas::text::TextRule;

    #[test]
    fn names_lose_paths_controls_and_bidi_but_keep_chinese() {
        assert_eq!(sanitise("C:\\Users\\张三\\会议纪要.pdf"), "会议纪要.pdf");
        assert_eq!(sanitise("../../etc/passwd"), "passwd");
        assert_eq!(sanitise("签到表\u{202E}gpj.exe"), "签到表gpj.exe");
        assert_eq!(sanitise("a\u{0}b\r\nc\t d.png"), "ab c d.png");
        assert_eq!(sanitise("纪要\u{2028}第二行.pdf"), "纪要 第二行.pdf");
        assert_eq!(sanitise("..hidden.txt"), "hidden.txt");
        assert_eq!(sanitise("  名单  .xlsx "), "名单 .xlsx");
        assert_eq!(sanitise("zero\u{200B}width\u{FEFF}.pdf"), "zerowidth.pdf");
        assert_eq!(sanitise("/"), UNNAMED);
        assert_eq!(sanitise("\u{202E}\u{200F}"), UNNAMED);
        let long = format!("{}.pdf", "长".repeat(300));
        let short = sanitise(&long);
        assert_eq!(short.chars().count(), NAME_CHARS);
        assert!(short.ends_with("长.pdf"), "{short}");
        for raw in ["a/b\\c.pdf", "\u{2028}x", &long, "…", "  .  "] {
            assert!(TextRule::NAME.check(&sanitise(raw)).is_ok(), "{raw:?}");
        }
    }

    #[test]
    fn content_disposition_has_an_ascii_fallback_and_the_utf8_name() {
        assert_eq!(
            content_disposition(true, "会议纪要 1.pdf"),
            "inline; filename=\"____ 1.pdf\"; filename*=UTF-8''%E4%BC%9A%E8%AE%AE%E7%BA%AA%E8%A6%81%201.pdf"
        );
        assert_eq!(
            content_disposition(false, "a\"b;c%.txt"),
            "attachment; filename=\"a_b_c_.txt\"; filename*=UTF-8''a%22b%3Bc%25.txt"
        );
    }
}
