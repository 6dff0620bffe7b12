//! Small values carried by events: points, text, stages, score values.
//!
//! **Points are fixed-point decimals, never binary floating point.** A [`Points`] wraps a
//! `rust_decimal::Decimal` with at most two decimal places (the finest step any scoring standard uses is
//! 0.01), within ±100,000, and travels in JSON as a string (`"2.25"`) so that no reader can lose a digit.
//! Sums of recorded points are exact. Derived figures (a ladder level's share of an item's maximum,
//! weighted dual scores) are computed exactly and then rounded **once**, at the end, to two places,
//! half away from zero (四舍五入), by [`Points::round_final`].

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::LevelCode;
use crate::text::{TextRefusal, TextRule};

/// Why a string or number is not a valid amount of points.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("分值“{value}”无效 (invalid points {value:?}): {why}")]
pub struct InvalidPoints {
    pub value: String,
    pub why: &'static str,
}

/// An amount of points: a decimal with at most two places, |x| ≤ 100000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Points(Decimal);

impl Points {
    pub const ZERO: Points = Points(Decimal::ZERO);
    pub const MAX_ABS: i64 = 100_000;
    pub const SCALE: u32 = 2;

    /// Accepts a decimal with at most two places within ±100000.
    pub fn new(value: Decimal) -> Result<Self, InvalidPoints> {
        let err = |why| InvalidPoints {
            value: value.to_string(),
            why,
        };
        let value = value.normalize();
        if value.scale() > Self::SCALE {
            return Err(err("at most two decimal places / 最多两位小数"));
        }
        if value.abs() > Decimal::from(Self::MAX_ABS) {
            return Err(err("out of range ±100000 / 超出 ±100000 范围"));
        }
        Ok(Points(value))
    }

    /// Points from whole hundredths, e.g. `from_cents(225)` is 2.25.
    pub fn from_cents(cents: i64) -> Self {
        Points::new(Decimal::new(cents, 2)).expect("within range")
    }

    pub fn from_int(value: i64) -> Self {
        Points::new(Decimal::from(value)).expect("within range")
    }

    pub fn decimal(self) -> Decimal {
        self.0
    }

    /// Rounds an exactly computed figure to two places, half away from zero (四舍五入): the one
    /// rounding step every derived score goes through.
    pub fn round_final(exact: Decimal) -> Decimal {
        exact
            .round_dp_with_strategy(Self::SCALE, RoundingStrategy::MidpointAwayFromZero)
            .normalize()
    }

    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }
}

/// The shape of points in canonical JSON and in the API: an optional `-`, then `100000` or up to five
/// digits, then at most two decimal places (`100000.00` at most). [`Points::parse_exact`] accepts
/// exactly the strings it matches.
pub const POINTS_PATTERN: &str = r"^-?(100000(\.0{1,2})?|[0-9]{1,5}(\.[0-9]{1,2})?)$";

impl Points {
    /// Parses points written exactly as [`POINTS_PATTERN`] says: no spaces, no `+`, no exponent, no
    /// more than five digits before the point. What the API accepts; reading stored events keeps the
    /// more lenient [`FromStr`].
    pub fn parse_exact(text: &str) -> Result<Points, InvalidPoints> {
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (unsigned, None),
        };
        let digits = |s: &str, max: usize| {
            (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        let shaped = match fraction {
            _ if whole == "100000" => fraction.is_none_or(|f| matches!(f, "0" | "00")),
            None => digits(whole, 5),
            Some(fraction) => digits(whole, 5) && digits(fraction, 2),
        };
        if !shaped {
            return Err(InvalidPoints {
                value: text.to_owned(),
                why: "须为十进制数, 如 2.5: 可带负号, 至多五位整数、两位小数, 不含空格 (must be a decimal such as 2.5: an optional minus sign, at most five digits before the point and two after, no spaces)",
            });
        }
        text.parse()
    }
}

impl FromStr for Points {
    type Err = InvalidPoints;
    fn from_str(s: &str) -> Result<Self, InvalidPoints> {
        let trimmed = s.trim();
        let valid_shape = !trimmed.is_empty()
            && trimmed
                .strip_prefix('-')
                .unwrap_or(trimmed)
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.')
            && trimmed.matches('.').count() <= 1
            && !trimmed.ends_with('.')
            && !trimmed.trim_start_matches('-').starts_with('.');
        if !valid_shape {
            return Err(InvalidPoints {
                value: s.to_owned(),
                why: "not a decimal number such as 2.5 / 不是十进制数, 例如 2.5",
            });
        }
        let d = Decimal::from_str(trimmed).map_err(|_| InvalidPoints {
            value: s.to_owned(),
            why: "out of range ±100000 / 超出 ±100000 范围",
        })?;
        Points::new(d)
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Points {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Points {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Points::from_str(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Points {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Points".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            // Refuses what `Points::from_str` refuses: more than two places, or |x| > 100000.
            "pattern": POINTS_PATTERN,
            "description": "Points as a decimal string with at most two places, |x| <= 100000 (分值)",
            "examples": ["2.5", "3", "0.25"]
        })
    }
}

/// A text in Chinese (zh-CN) with an optional English gloss.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Text {
    #[schemars(with = "crate::text::Label")]
    pub zh: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::text::Label>")]
    pub en: Option<String>,
}

impl Text {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            zh: zh.into(),
            en: Some(en.into()),
        }
    }
}

impl Text {
    /// Checks both languages as [`crate::text::Label`]s; `at` is the field's path.
    pub fn check_text(&self, at: &str) -> Result<(), TextRefusal> {
        TextRule::LABEL.check_field(format_args!("{at}.zh"), &self.zh)?;
        if let Some(en) = &self.en {
            TextRule::LABEL.check_field(format_args!("{at}.en"), en)?;
        }
        Ok(())
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.en {
            Some(en) => write!(f, "{} {}", self.zh, en),
            None => f.write_str(&self.zh),
        }
    }
}

/// Whether a unit is a branch (党支部) or a company (公司).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Branch,
    Company,
}

/// How often a period recurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Monthly,
    Quarterly,
    Annual,
}

/// The stage of a period (考核周期): opened → self-assessment → scoring → review → published.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Opened,
    SelfAssessment,
    Scoring,
    Review,
    Published,
}

impl Stage {
    pub const fn label(self) -> &'static str {
        match self {
            Stage::Opened => "已开启 opened",
            Stage::SelfAssessment => "自评 self-assessment",
            Stage::Scoring => "评分 scoring",
            Stage::Review => "审核 review",
            Stage::Published => "已公示 published",
        }
    }
}

/// Where a score came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScoreSource {
    /// Entered by a person.
    Manual,
    /// Read from a score-sheet file.
    Import,
    /// Revised by an upheld appeal.
    Appeal,
    /// Recomputed after a rubric change.
    Recalculation,
}

/// One award counted by a bonus item (加分).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Award {
    #[schemars(with = "crate::text::Label")]
    pub title: String,
    pub points: Points,
}

/// What a score says about one item. Which shapes an item accepts depends on its kind in the rubric.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum ScoreValue {
    /// A quantitative item: points within [0, max].
    Points { points: Points },
    /// A qualitative item: a level of the rubric's ladder.
    Level { level: LevelCode },
    /// A bonus item: the awards that count towards it.
    Awards { awards: Vec<Award> },
    /// A deduction item: the number of cases.
    Cases { cases: u32 },
    /// A veto item: whether the veto applies.
    Veto { vetoed: bool },
}

impl ScoreValue {
    /// Checks the titles of awards as [`crate::text::Label`]s; `at` is the value's path.
    pub fn check_text(&self, at: &str) -> Result<(), TextRefusal> {
        if let ScoreValue::Awards { awards } = self {
            for (i, award) in awards.iter().enumerate() {
                TextRule::LABEL
                    .check_field(format_args!("{at}.awards[{i}].title"), &award.title)?;
            }
        }
        Ok(())
    }
}

/// The most evidence files one event may cite.
pub const EVIDENCE_FILES_MAX: usize = 20;

/// An evidence file (佐证材料) an event cites. The file itself is stored content-addressed by its
/// SHA-256 (see the ledger's `evidence` module); the event carries the digest, so the hash chain over
/// the event covers the file's bytes too, and an auditor can prove that the file shown today is the
/// one the record was made on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceFile {
    /// The SHA-256 of the file's bytes.
    pub sha256: crate::integrity::Digest,
    /// The file's size in bytes.
    pub size: u64,
    /// The media type read from the file's bytes when it was uploaded (not from its name), e.g.
    /// `application/pdf`.
    #[schemars(regex(pattern = r"^[a-z]+/[a-z0-9.+-]+$"), length(max = 100))]
    pub media_type: String,
    /// The file's name as it was uploaded, sanitised for display (no path, no control characters).
    #[schemars(with = "crate::text::Name")]
    pub name: String,
    /// The person who uploaded it.
    pub uploaded_by: crate::ids::PersonId,
}

impl EvidenceFile {
    /// Whether `media_type` has the shape `type/subtype` in lowercase.
    pub fn media_type_is_valid(media_type: &str) -> bool {
        let Some((kind, sub)) = media_type.split_once('/') else {
            return false;
        };
        media_type.len() <= 100
            && !kind.is_empty()
            && kind.bytes().all(|b| b.is_ascii_lowercase())
            && !sub.is_empty()
            && sub
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".+-".contains(&b))
    }
}

/// Checks the files an event cites: their names as [`crate::text::Name`]s, their media types' shape
/// and their number; `field` is the list's path.
pub fn check_files(field: &str, files: &[EvidenceFile]) -> Result<(), TextRefusal> {
    use crate::text::TextError;
    if files.len() > EVIDENCE_FILES_MAX {
        return Err(TextRefusal {
            field: field.to_owned(),
            error: TextError::TooMany {
                entries: files.len(),
                max: EVIDENCE_FILES_MAX,
            },
        });
    }
    for (i, file) in files.iter().enumerate() {
        TextRule::NAME.check_field(format_args!("{field}[{i}].name"), &file.name)?;
        // A media type is one line of lowercase ASCII: as a label it refuses what a name refuses,
        // and its shape is checked here so that a crafted one is refused by name.
        TextRule::LABEL.check_field(format_args!("{field}[{i}].media_type"), &file.media_type)?;
        if !EvidenceFile::media_type_is_valid(&file.media_type) {
            return Err(TextRefusal {
                field: format!("{field}[{i}].media_type"),
                error: TextError::NotMediaType,
            });
        }
    }
    Ok(())
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Approved,
    Rejected,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_parse_exactly_and_refuse_the_rest() {
        assert_eq!("2.25".parse::<Points>().unwrap(), Points::from_cents(225));
        assert_eq!("3.00".parse::<Points>().unwrap().to_string(), "3");
        assert_eq!(
            serde_json::to_string(&Points::from_cents(50)).unwrap(),
            "\"0.5\""
        );
        for bad in [
            "", "1.234", "abc", "1e3", "100001", ".5", "5.", "NaN", "--1",
        ] {
            assert!(bad.parse::<Points>().is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn exact_points_take_only_the_documented_shape() {
        for good in [
            "0",
            "-0",
            "2.5",
            "3.00",
            "99999.99",
            "100000",
            "-100000.00",
            "00001",
        ] {
            assert!(Points::parse_exact(good).is_ok(), "{good:?}");
        }
        for bad in [
            " 1",
            "1 ",
            "+1",
            "1e3",
            "000001",
            "100000.01",
            "100001",
            "1.",
            ".5",
            "1.234",
            "--1",
            "",
        ] {
            assert!(Points::parse_exact(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn final_rounding_is_half_away_from_zero() {
        assert_eq!(
            Points::round_final(Decimal::new(26175, 3)).to_string(),
            "26.18"
        );
        assert_eq!(
            Points::round_final(Decimal::new(-26175, 3)).to_string(),
            "-26.18"
        );
        assert_eq!(
            Points::round_final(Decimal::new(26174, 3)).to_string(),
            "26.17"
        );
    }
}
