//! Free text: names, notes, reasons and evidence references, and the rules every new one obeys.
//!
//! Text reaches the ledger from people and spreadsheets and leaves it on screens, terminals, CSV files
//! and printed pages. Two kinds of character make it say something other than what it shows, and are
//! refused wherever text is written:
//!
//! - **control characters**: C0 (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F). A terminal
//!   obeys ESC sequences, BEL rings, NUL cuts strings short in other programs, a lone CR returns to the
//!   start of the line and lets later text overwrite earlier text. Multi-line text ([`Note`],
//!   [`Reason`]) may hold line feeds, CR LF pairs (what browsers send from a text area) and tabs (what
//!   a spreadsheet cell pastes); single-line text may hold none of them.
//! - **bidirectional formatting characters**: the embeddings and overrides U+202A–U+202E, the
//!   isolates U+2066–U+2069, and the invisible marks U+200E, U+200F and U+061C. An override reorders
//!   what follows it ("Trojan Source", CVE-2021-42574), so a name could read differently from what it
//!   holds; the marks are refused too, since the ledger's languages (Chinese, English) never need
//!   them and they are as invisible as the rest. Single-line text also refuses the line and
//!   paragraph separators U+2028 and U+2029.
//!
//! Not refused: zero-width spaces and joiners (emoji sequences need U+200D), the byte-order mark,
//! private-use and unassigned characters. They cannot reorder or hide other text.
//!
//! Lengths are counted in Unicode scalar values (what JSON Schema's `maxLength` counts), so that a
//! Chinese name and an English one have the same limit. The limits: names and labels [`NAME_MAX`],
//! notes and reasons [`NOTE_MAX`], one evidence reference [`EVIDENCE_REF_MAX`], an evidence list
//! [`EVIDENCE_MAX`] entries.
//!
//! The types here ([`Name`], [`Label`], [`Note`], [`Reason`], [`EvidenceRef`], [`Evidence`]) cannot
//! hold text that breaks their rule: requests are parsed into them at the edge. Event payloads keep
//! plain `String`s, because an event recorded before these rules must stay readable exactly as it was
//! hashed; their JSON Schemas name these types, and the domain checks every event it decides with
//! [`crate::events::Event::check_text`]. See the schemas README, "Text".

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The longest name or label, in characters.
pub const NAME_MAX: usize = 200;
/// The longest note, comment, reason or description, in characters.
pub const NOTE_MAX: usize = 4000;
/// The longest single evidence reference (a file name, a document number, a link), in characters.
pub const EVIDENCE_REF_MAX: usize = 500;
/// The most evidence references one entry may carry.
pub const EVIDENCE_MAX: usize = 100;

/// Whether a text is one line or may hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// The rule a kind of text obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    /// The kind's name, as its schema is named.
    pub kind: &'static str,
    pub lines: Lines,
    pub max_chars: usize,
    /// Whether blank text (empty, or only whitespace) is refused.
    pub required: bool,
    description: &'static str,
}

/// Why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    /// A character the rule refuses.
    Forbidden {
        ch: char,
        /// 1-based, counted in characters.
        at: usize,
        multiline: bool,
    },
    TooLong {
        chars: usize,
        max: usize,
    },
    Blank,
    TooMany {
        entries: usize,
        max: usize,
    },
    /// Not a media type of the shape `type/subtype` in lowercase (`application/pdf`).
    NotMediaType,
}

impl TextError {
    /// What is wrong, in Chinese.
    pub fn zh(&self) -> String {
        match self {
            TextError::Forbidden { ch, at, multiline } => format!(
                "第 {at} 个字符 {} 不允许出现{}, 请删除",
                describe(*ch),
                if *multiline { "" } else { "在单行文字中" }
            ),
            TextError::TooLong { chars, max } => format!("超过 {max} 个字符 (共 {chars} 个)"),
            TextError::Blank => "不能为空".to_owned(),
            TextError::TooMany { entries, max } => format!("最多 {max} 条 (共 {entries} 条)"),
            TextError::NotMediaType => "不是“类型/子类型”形式的媒体类型".to_owned(),
        }
    }

    /// What is wrong, in English, as a predicate: "contains U+202E ... at character 5".
    pub fn en(&self) -> String {
        match self {
            TextError::Forbidden { ch, at, multiline } => format!(
                "contains {} at character {at}, which is not allowed{}; remove it",
                describe(*ch),
                if *multiline { "" } else { " in a single line" }
            ),
            TextError::TooLong { chars, max } => {
                format!("is longer than {max} characters ({chars})")
            }
            TextError::Blank => "must not be empty or blank".to_owned(),
            TextError::TooMany { entries, max } => {
                format!("has more than {max} entries ({entries})")
            }
            TextError::NotMediaType => "is not a media type of the shape type/subtype".to_owned(),
        }
    }
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.zh(), self.en())
    }
}

impl std::error::Error for TextError {}

/// A text field of a request or an event that breaks its rule, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextRefusal {
    /// The field's path, e.g. `note`, `evidence[3]`, `definition.aspects[0].title.zh`.
    pub field: String,
    pub error: TextError,
}

impl fmt::Display for TextRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = &self.field;
        write!(
            f,
            "字段 {field} {} ({field} {})",
            self.error.zh(),
            self.error.en()
        )
    }
}

impl std::error::Error for TextRefusal {}

/// `U+202E RIGHT-TO-LEFT OVERRIDE`.
pub fn describe(ch: char) -> String {
    match char_name(ch) {
        Some(name) => format!("U+{:04X} {name}", ch as u32),
        None => format!("U+{:04X}", ch as u32),
    }
}

/// The Unicode name (or, for controls, the name alias) of every character a rule can refuse.
fn char_name(ch: char) -> Option<&'static str> {
    const C0: [&str; 32] = [
        "NULL",
        "START OF HEADING",
        "START OF TEXT",
        "END OF TEXT",
        "END OF TRANSMISSION",
        "ENQUIRY",
        "ACKNOWLEDGE",
        "BELL",
        "BACKSPACE",
        "CHARACTER TABULATION",
        "LINE FEED",
        "LINE TABULATION",
        "FORM FEED",
        "CARRIAGE RETURN",
        "SHIFT OUT",
        "SHIFT IN",
        "DATA LINK ESCAPE",
        "DEVICE CONTROL ONE",
        "DEVICE CONTROL TWO",
        "DEVICE CONTROL THREE",
        "DEVICE CONTROL FOUR",
        "NEGATIVE ACKNOWLEDGE",
        "SYNCHRONOUS IDLE",
        "END OF TRANSMISSION BLOCK",
        "CANCEL",
        "END OF MEDIUM",
        "SUBSTITUTE",
        "ESCAPE",
        "INFORMATION SEPARATOR FOUR",
        "INFORMATION SEPARATOR THREE",
        "INFORMATION SEPARATOR TWO",
        "INFORMATION SEPARATOR ONE",
    ];
    const C1: [&str; 32] = [
        "PADDING CHARACTER",
        "HIGH OCTET PRESET",
        "BREAK PERMITTED HERE",
        "NO BREAK HERE",
        "INDEX",
        "NEXT LINE",
        "START OF SELECTED AREA",
        "END OF SELECTED AREA",
        "CHARACTER TABULATION SET",
        "CHARACTER TABULATION WITH JUSTIFICATION",
        "LINE TABULATION SET",
        "PARTIAL LINE FORWARD",
        "PARTIAL LINE BACKWARD",
        "REVERSE LINE FEED",
        "SINGLE SHIFT TWO",
        "SINGLE SHIFT THREE",
        "DEVICE CONTROL STRING",
        "PRIVATE USE ONE",
        "PRIVATE USE TWO",
        "SET TRANSMIT STATE",
        "CANCEL CHARACTER",
        "MESSAGE WAITING",
        "START OF GUARDED AREA",
        "END OF GUARDED AREA",
        "START OF STRING",
        "SINGLE GRAPHIC CHARACTER INTRODUCER",
        "SINGLE CHARACTER INTRODUCER",
        "CONTROL SEQUENCE INTRODUCER",
        "STRING TERMINATOR",
        "OPERATING SYSTEM COMMAND",
        "PRIVACY MESSAGE",
        "APPLICATION PROGRAM COMMAND",
    ];
    let code = ch as u32;
    Some(match ch {
        '\u{0}'..='\u{1F}' => C0[code as usize],
        '\u{7F}' => "DELETE",
        '\u{80}'..='\u{9F}' => C1[(code - 0x80) as usize],
        '\u{061C}' => "ARABIC LETTER MARK",
        '\u{200E}' => "LEFT-TO-RIGHT MARK",
        '\u{200F}' => "RIGHT-TO-LEFT MARK",
        '\u{2028}' => "LINE SEPARATOR",
        '\u{2029}' => "PARAGRAPH SEPARATOR",
        '\u{202A}' => "LEFT-TO-RIGHT EMBEDDING",
        '\u{202B}' => "RIGHT-TO-LEFT EMBEDDING",
        '\u{202C}' => "POP DIRECTIONAL FORMATTING",
        '\u{202D}' => "LEFT-TO-RIGHT OVERRIDE",
        '\u{202E}' => "RIGHT-TO-LEFT OVERRIDE",
        '\u{2066}' => "LEFT-TO-RIGHT ISOLATE",
        '\u{2067}' => "RIGHT-TO-LEFT ISOLATE",
        '\u{2068}' => "FIRST STRONG ISOLATE",
        '\u{2069}' => "POP DIRECTIONAL ISOLATE",
        _ => return None,
    })
}

/// Whether `ch` may stand in text of `lines` (a CR is decided by what follows it, see [`TextRule::check`]).
fn allowed(ch: char, lines: Lines) -> bool {
    match ch {
        '\t' | '\n' | '\u{2028}' | '\u{2029}' => lines == Lines::Many,
        '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}' => false,
        '\u{061C}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => false,
        _ => true,
    }
}

// The same rules as regular expressions (ECMA-262, as JSON Schema and OpenAPI use them; the `regex`
// crate and Python's `re` read them alike). `\u` escapes keep the patterns ASCII. The contract tests
// check that these and `TextRule::check` agree on every string drawn from the characters that matter.

/// A character of single-line text.
const ONE_LINE_CHAR: &str =
    r"[^\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]";
/// A character (or CR LF) of multi-line text: tab and line feed allowed, CR only before LF.
const MANY_LINES_CHAR: &str = r"(?:[^\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]|\r\n)";
/// An allowed character that is not whitespace (`char::is_whitespace`): what makes text not blank.
const VISIBLE_CHAR: &str = r"[^\u0000-\u0020\u007F-\u00A0\u061C\u1680\u2000-\u200A\u200E\u200F\u2028\u2029\u202A-\u202F\u205F\u2066-\u2069\u3000]";

impl TextRule {
    /// A name of a unit, a person or a period; where a figure comes from. One line, not blank.
    pub const NAME: TextRule = TextRule {
        kind: "Name",
        lines: Lines::One,
        max_chars: NAME_MAX,
        required: true,
        description: "名称: 单行, 非空, 最多 200 个字符, 不含控制字符与双向文字控制符 (a name: one line, not blank, at most 200 characters, no control or bidirectional formatting characters)",
    };
    /// A title or label of the rubric, an award's title. One line, may be blank.
    pub const LABEL: TextRule = TextRule {
        kind: "Label",
        lines: Lines::One,
        max_chars: NAME_MAX,
        required: false,
        description: "标题: 单行, 最多 200 个字符, 不含控制字符与双向文字控制符 (a title or label: one line, at most 200 characters, no control or bidirectional formatting characters)",
    };
    /// A note, a comment, an optional reason, a description. Several lines, may be blank.
    pub const NOTE: TextRule = TextRule {
        kind: "Note",
        lines: Lines::Many,
        max_chars: NOTE_MAX,
        required: false,
        description: "说明: 可多行 (换行、CR LF、制表符), 最多 4000 个字符, 不含其他控制字符与双向文字控制符 (a note: may span lines (LF, CR LF, tab), at most 4000 characters, no other control characters, no bidirectional formatting characters)",
    };
    /// A required reason, appeal grounds, a decision, a finding. Several lines, not blank.
    pub const REASON: TextRule = TextRule {
        kind: "Reason",
        lines: Lines::Many,
        max_chars: NOTE_MAX,
        required: true,
        description: "理由: 可多行 (换行、CR LF、制表符), 非空, 最多 4000 个字符, 不含其他控制字符与双向文字控制符 (a reason: may span lines (LF, CR LF, tab), not blank, at most 4000 characters, no other control characters, no bidirectional formatting characters)",
    };
    /// One evidence reference (佐证材料): a file name, a document number, a link. One line.
    pub const EVIDENCE_REF: TextRule = TextRule {
        kind: "EvidenceRef",
        lines: Lines::One,
        max_chars: EVIDENCE_REF_MAX,
        required: false,
        description: "佐证材料: 单行, 最多 500 个字符, 不含控制字符与双向文字控制符 (an evidence reference: one line, at most 500 characters, no control or bidirectional formatting characters)",
    };

    /// Checks `text`: its characters first (naming the first refused one), then its length, then
    /// (for a required kind) that it is not blank.
    pub fn check(&self, text: &str) -> Result<(), TextError> {
        let mut chars = text.chars().peekable();
        let mut count = 0;
        while let Some(ch) = chars.next() {
            count += 1;
            let ok = match ch {
                '\r' => self.lines == Lines::Many && chars.peek() == Some(&'\n'),
                _ => allowed(ch, self.lines),
            };
            if !ok {
                return Err(TextError::Forbidden {
                    ch,
                    at: count,
                    multiline: self.lines == Lines::Many,
                });
            }
        }
        if count > self.max_chars {
            return Err(TextError::TooLong {
                chars: count,
                max: self.max_chars,
            });
        }
        if self.required && text.chars().all(char::is_whitespace) {
            return Err(TextError::Blank);
        }
        Ok(())
    }

    /// [`TextRule::check`], naming the field.
    pub fn check_field(&self, field: impl fmt::Display, text: &str) -> Result<(), TextRefusal> {
        self.check(text).map_err(|error| TextRefusal {
            field: field.to_string(),
            error,
        })
    }

    /// The regular expression (ECMA-262) that accepts exactly the characters [`TextRule::check`]
    /// accepts (the length is `maxLength`'s).
    pub fn pattern(&self) -> String {
        let any = match self.lines {
            Lines::One => ONE_LINE_CHAR,
            Lines::Many => MANY_LINES_CHAR,
        };
        if self.required {
            format!("^{any}*{VISIBLE_CHAR}{any}*$")
        } else {
            format!("^{any}*$")
        }
    }

    /// The JSON Schema of text of this kind.
    pub fn schema(&self) -> schemars::Schema {
        let mut schema = schemars::json_schema!({
            "type": "string",
            "maxLength": self.max_chars,
            "pattern": self.pattern(),
            "description": self.description,
        });
        if self.required {
            schema.insert("minLength".into(), 1.into());
        }
        schema
    }
}

/// Checks every reference of an evidence list and their number.
pub fn check_evidence(field: &str, evidence: &[String]) -> Result<(), TextRefusal> {
    for (i, entry) in evidence.iter().enumerate() {
        TextRule::EVIDENCE_REF.check_field(format_args!("{field}[{i}]"), entry)?;
    }
    if evidence.len() > EVIDENCE_MAX {
        return Err(TextRefusal {
            field: field.to_owned(),
            error: TextError::TooMany {
                entries: evidence.len(),
                max: EVIDENCE_MAX,
            },
        });
    }
    Ok(())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $rule:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        pub struct $name(String);

        impl $name {
            /// The rule this kind of text obeys.
            pub const RULE: TextRule = $rule;

            /// Accepts text that obeys [`Self::RULE`].
            pub fn new(text: impl Into<String>) -> Result<Self, TextError> {
                let text = text.into();
                Self::RULE.check(&text)?;
                Ok(Self(text))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(text: $name) -> String {
                text.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = TextError;
            fn try_from(text: String) -> Result<Self, TextError> {
                Self::new(text)
            }
        }

        impl std::str::FromStr for $name {
            type Err = TextError;
            fn from_str(text: &str) -> Result<Self, TextError> {
                Self::new(text)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::new(text).map_err(serde::de::Error::custom)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                Self::RULE.schema()
            }
        }
    };
}

text_type!(
    /// A name of a unit, a person or a period (see [`TextRule::NAME`]).
    Name,
    TextRule::NAME
);
text_type!(
    /// A title or label (see [`TextRule::LABEL`]).
    Label,
    TextRule::LABEL
);
text_type!(
    /// A note, a comment, an optional reason (see [`TextRule::NOTE`]).
    Note,
    TextRule::NOTE
);
text_type!(
    /// A required reason, appeal grounds, a decision, a finding (see [`TextRule::REASON`]).
    Reason,
    TextRule::REASON
);
text_type!(
    /// One evidence reference (see [`TextRule::EVIDENCE_REF`]).
    EvidenceRef,
    TextRule::EVIDENCE_REF
);

/// An evidence list (佐证材料): at most [`EVIDENCE_MAX`] references.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Evidence(Vec<EvidenceRef>);

impl Evidence {
    /// Accepts up to [`EVIDENCE_MAX`] references, each of which obeys [`TextRule::EVIDENCE_REF`].
    pub fn new(entries: Vec<String>) -> Result<Self, TextRefusal> {
        check_evidence("evidence", &entries)?;
        Ok(Self(entries.into_iter().map(EvidenceRef).collect()))
    }

    pub fn entries(&self) -> &[EvidenceRef] {
        &self.0
    }

    pub fn into_strings(self) -> Vec<String> {
        self.0.into_iter().map(String::from).collect()
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = Evidence;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "a list of at most {EVIDENCE_MAX} evidence references (strings)"
                )
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Evidence, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = seq.next_element::<EvidenceRef>()? {
                    if entries.len() == EVIDENCE_MAX {
                        // Past the limit the entries are only counted (for the message), not kept.
                        let mut count = EVIDENCE_MAX + 1;
                        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                            count += 1;
                        }
                        return Err(serde::de::Error::custom(TextError::TooMany {
                            entries: count,
                            max: EVIDENCE_MAX,
                        }));
                    }
                    entries.push(entry);
                }
                Ok(Evidence(entries))
            }
        }
        deserializer.deserialize_seq(Entries)
    }
}

impl JsonSchema for Evidence {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Evidence".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let entry = generator.subschema_for::<EvidenceRef>();
        schemars::json_schema!({
            "type": "array",
            "items": entry,
            "maxItems": EVIDENCE_MAX,
            "description": "佐证材料: 最多 100 条 (evidence references: at most 100)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_refused_by_name_and_place() {
        let err = TextRule::REASON.check("abcd\u{202E}ef").unwrap_err();
        assert_eq!(
            err,
            TextError::Forbidden {
                ch: '\u{202E}',
                at: 5,
                multiline: true
            }
        );
        let message = err.to_string();
        assert!(
            message.contains("U+202E RIGHT-TO-LEFT OVERRIDE at character 5"),
            "{message}"
        );
        for (text, ch) in [
            ("a\u{0}", '\u{0}'),
            ("a\u{7}", '\u{7}'),
            ("\u{1b}[31m", '\u{1b}'),
            ("a\u{85}", '\u{85}'),
            ("a\u{9b}", '\u{9b}'),
            ("x\u{2066}y", '\u{2066}'),
            ("x\u{2069}", '\u{2069}'),
            ("x\u{200F}", '\u{200F}'),
            ("a\rb", '\r'),
            ("a\r", '\r'),
        ] {
            for rule in [TextRule::NAME, TextRule::NOTE] {
                match rule.check(text) {
                    Err(TextError::Forbidden { ch: found, .. }) => {
                        assert_eq!(found, ch, "{text:?}")
                    }
                    other => panic!("{text:?} under {}: {other:?}", rule.kind),
                }
            }
        }
        assert!(describe('\u{1b}').ends_with("ESCAPE"));
    }

    #[test]
    fn line_breaks_and_tabs_only_where_text_spans_lines() {
        for text in ["a\nb", "a\r\nb", "a\tb", "a\u{2028}b"] {
            assert!(TextRule::NOTE.check(text).is_ok(), "{text:?}");
            assert!(TextRule::NAME.check(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn lengths_are_counted_in_characters_and_blank_is_refused_where_required() {
        assert!(TextRule::NAME.check(&"党".repeat(200)).is_ok());
        assert_eq!(
            TextRule::NAME.check(&"党".repeat(201)),
            Err(TextError::TooLong {
                chars: 201,
                max: 200
            })
        );
        assert_eq!(TextRule::NAME.check(" \u{3000}"), Err(TextError::Blank));
        assert_eq!(TextRule::REASON.check("\r\n\t"), Err(TextError::Blank));
        assert!(TextRule::NOTE.check("").is_ok());
        assert!(TextRule::LABEL.check("").is_ok());
    }

    #[test]
    fn evidence_lists_are_bounded_and_parsed_entry_by_entry() {
        let many = serde_json::to_string(&vec!["x"; EVIDENCE_MAX + 1]).unwrap();
        assert!(serde_json::from_str::<Evidence>(&many).is_err());
        let ok = serde_json::to_string(&vec!["x"; EVIDENCE_MAX]).unwrap();
        assert_eq!(
            serde_json::from_str::<Evidence>(&ok)
                .unwrap()
                .entries()
                .len(),
            100
        );
        assert!(serde_json::from_str::<Evidence>(r#"["a\nb"]"#).is_err());
        let refusal = check_evidence("evidence", &["ok".into(), "\u{202E}".into()]).unwrap_err();
        assert_eq!(refusal.field, "evidence[1]");
    }
}
