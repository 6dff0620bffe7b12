//! Identifiers. Every id is a short, human-readable code (`SH-01`, `B3`, `2026Q1`) so that the CSV
//! files assessment offices keep can name things directly; the parsing constructors make an invalid
//! id impossible past the edge.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use smol_str::SmolStr;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} 标识“{value}”无效 (invalid {kind} id {value:?}): {why}")]
pub struct InvalidId {
    pub kind: &'static str,
    pub value: String,
    pub why: &'static str,
}

/// What every identifier looks like.
pub const ID_PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

/// The longest identifier accepted, in bytes.
pub const MAX_ID_LEN: usize = 64;

fn check_code(kind: &'static str, value: &str) -> Result<(), InvalidId> {
    let err = |why| InvalidId {
        kind,
        value: value.to_owned(),
        why,
    };
    if value.is_empty() {
        return Err(err("must not be empty / 不能为空"));
    }
    if value.len() > MAX_ID_LEN {
        return Err(err("longer than 64 characters / 超过 64 个字符"));
    }
    let mut chars = value.chars();
    let first = chars.next().expect("non-empty");
    if !first.is_ascii_alphanumeric() {
        return Err(err(
            "must start with a letter or digit / 必须以字母或数字开头",
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(err(
            "only letters, digits, '-', '_' and '.' are allowed / 只能包含字母、数字、-、_、.",
        ));
    }
    Ok(())
}

/// Builds an identifier from a string slice (the deserialiser borrows the input where it can, so a
/// short id costs no allocation at all).
trait ParseId: Sized {
    fn parse(value: &str) -> Result<Self, InvalidId>;
}

/// Deserialises an identifier from a JSON string, checked like [`ParseId::parse`].
struct IdVisitor<T> {
    kind: &'static str,
    _id: std::marker::PhantomData<T>,
}

impl<T> IdVisitor<T> {
    fn new(kind: &'static str) -> Self {
        Self {
            kind,
            _id: std::marker::PhantomData,
        }
    }
}

impl<T: ParseId> serde::de::Visitor<'_> for IdVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} identifier (a string)", self.kind)
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<T, E> {
        T::parse(value).map_err(E::custom)
    }
}

macro_rules! code_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(SmolStr);

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(IdVisitor::<$name>::new($kind))
            }
        }

        impl ParseId for $name {
            fn parse(value: &str) -> Result<Self, InvalidId> {
                check_code($kind, value)?;
                Ok(Self(SmolStr::new(value)))
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "pattern": ID_PATTERN,
                    "description": concat!(
                        $kind,
                        " identifier: a letter or digit, then up to 63 letters, digits, '.', '_' or '-'"
                    )
                })
            }
        }

        impl $name {
            /// Parses an identifier, refusing anything outside `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`.
            pub fn new(value: impl AsRef<str>) -> Result<Self, InvalidId> {
                <Self as ParseId>::parse(value.as_ref())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(value: String) -> Result<Self, InvalidId> {
                Self::new(value)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;
            fn from_str(value: &str) -> Result<Self, InvalidId> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.into()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

code_id!(
    /// A unit under assessment (考核对象): a branch or a company.
    UnitId,
    "unit"
);
code_id!(
    /// A person: a user of the ledger, a responsible person (责任人), or both.
    PersonId,
    "person"
);
code_id!(
    /// A rubric (考评细则); its versions are numbered from 1.
    RubricId,
    "rubric"
);
code_id!(
    /// An aspect (大方面) of a rubric, e.g. `A`.
    AspectCode,
    "aspect"
);
code_id!(
    /// An item (子项目) of a rubric, e.g. `B3`.
    ItemCode,
    "item"
);
code_id!(
    /// An assessment period (考核周期), e.g. `2026Q1`.
    PeriodId,
    "period"
);
code_id!(
    /// An appeal (申诉).
    AppealId,
    "appeal"
);
code_id!(
    /// A rectification item (整改).
    RectificationId,
    "rectification"
);
code_id!(
    /// An access token (its secret is never recorded, only its hash).
    TokenId,
    "token"
);

code_id!(
    /// A level of a qualitative ladder, e.g. `good` (好).
    LevelCode,
    "level"
);
code_id!(
    /// A grade band, e.g. `excellent` (优秀).
    GradeCode,
    "grade"
);

/// The kind of aggregate a stream belongs to. The stream name is `{category}-{id}`, so that an
/// EventStoreDB `$ce-{category}` projection sees every stream of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamCategory {
    Unit,
    Person,
    Rubric,
    Period,
    Sheet,
    Appeal,
    Rectification,
    Token,
    Settings,
}

impl StreamCategory {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unit => "unit",
            Self::Person => "person",
            Self::Rubric => "rubric",
            Self::Period => "period",
            Self::Sheet => "sheet",
            Self::Appeal => "appeal",
            Self::Rectification => "rectification",
            Self::Token => "token",
            Self::Settings => "settings",
        }
    }
}

/// Stream names of the ledger's aggregates.
pub mod stream {
    use super::*;

    /// A stream's name in parts, `{category}-{id}` or `{category}-{id}~{sub}`, so that it can be
    /// hashed and compared without being built (the read models look a stream up for every event).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Parts<'a> {
        /// The category and its dash, e.g. `sheet-`.
        pub prefix: &'static str,
        pub id: &'a str,
        /// After a `~`: the unit of a sheet (`sheet-{period}~{unit}`).
        pub sub: Option<&'a str>,
    }

    impl Parts<'_> {
        /// The pieces of the name, in order (empty pieces where there is no `~{sub}`).
        pub fn pieces(&self) -> [&str; 4] {
            match self.sub {
                Some(sub) => [self.prefix, self.id, "~", sub],
                None => [self.prefix, self.id, "", ""],
            }
        }

        /// Orders the stream name `name` against the name these parts make.
        pub fn cmp_name(&self, name: &str) -> std::cmp::Ordering {
            let mut rest = name.as_bytes();
            for piece in self.pieces() {
                let piece = piece.as_bytes();
                let n = piece.len().min(rest.len());
                match rest[..n].cmp(&piece[..n]) {
                    std::cmp::Ordering::Equal if n == piece.len() => rest = &rest[n..],
                    std::cmp::Ordering::Equal => return std::cmp::Ordering::Less,
                    other => return other,
                }
            }
            if rest.is_empty() {
                std::cmp::Ordering::Equal
            } else {
                std::cmp::Ordering::Greater
            }
        }
    }

    impl fmt::Display for Parts<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.pieces()
                .iter()
                .try_for_each(|piece| f.write_str(piece))
        }
    }

    pub fn unit(id: &UnitId) -> String {
        unit_parts(id).to_string()
    }
    pub fn unit_parts(id: &UnitId) -> Parts<'_> {
        Parts {
            prefix: "unit-",
            id: id.as_str(),
            sub: None,
        }
    }
    pub fn person(id: &PersonId) -> String {
        person_parts(id).to_string()
    }
    pub fn person_parts(id: &PersonId) -> Parts<'_> {
        Parts {
            prefix: "person-",
            id: id.as_str(),
            sub: None,
        }
    }
    pub fn rubric(id: &RubricId) -> String {
        rubric_parts(id).to_string()
    }
    pub fn rubric_parts(id: &RubricId) -> Parts<'_> {
        Parts {
            prefix: "rubric-",
            id: id.as_str(),
            sub: None,
        }
    }
    pub fn period(id: &PeriodId) -> String {
        period_parts(id).to_string()
    }
    pub fn period_parts(id: &PeriodId) -> Parts<'_> {
        Parts {
            prefix: "period-",
            id: id.as_str(),
            sub: None,
        }
    }
    /// One score sheet: a unit within a period. `~` cannot occur in an id, so the name is unambiguous.
    pub fn sheet(period: &PeriodId, unit: &UnitId) -> String {
        sheet_parts(period, unit).to_string()
    }
    pub fn sheet_parts<'a>(period: &'a PeriodId, unit: &'a UnitId) -> Parts<'a> {
        Parts {
            prefix: "sheet-",
            id: period.as_str(),
            sub: Some(unit.as_str()),
        }
    }
    pub fn appeal(id: &AppealId) -> String {
        appeal_parts(id).to_string()
    }
    pub fn appeal_parts(id: &AppealId) -> Parts<'_> {
        Parts {
            prefix: "appeal-",
            id: id.as_str(),
            sub: None,
        }
    }
    pub fn rectification(id: &RectificationId) -> String {
        rectification_parts(id).to_string()
    }
    pub fn rectification_parts(id: &RectificationId) -> Parts<'_> {
        Parts {
            prefix: "rectification-",
            id: id.as_str(),
            sub: None,
        }
    }
    /// The ledger's own settings (its business zone): one stream, `settings-ledger`.
    pub fn settings_parts() -> Parts<'static> {
        Parts {
            prefix: "settings-",
            id: "ledger",
            sub: None,
        }
    }
    pub fn token(id: &TokenId) -> String {
        token_parts(id).to_string()
    }
    pub fn token_parts(id: &TokenId) -> Parts<'_> {
        Parts {
            prefix: "token-",
            id: id.as_str(),
            sub: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_what_they_cannot_carry() {
        assert!(UnitId::new("SH-01").is_ok());
        assert!(ItemCode::new("B3").is_ok());
        for bad in ["", "-x", "a b", "a~b", "甲", &"x".repeat(65)] {
            let err = UnitId::new(bad).unwrap_err();
            assert_eq!(err.value, bad);
        }
        let parsed: Result<UnitId, _> = serde_json::from_str("\"a/b\"");
        assert!(parsed.unwrap_err().to_string().contains("a/b"));
    }

    /// Comparing a name with parts agrees with comparing it with the name they build, for names
    /// that are shorter, longer, equal, or differ inside any piece.
    #[test]
    fn stream_parts_order_like_the_name_they_build() {
        let period = PeriodId::new("2026Q1").unwrap();
        let unit = UnitId::new("SH-01").unwrap();
        let parts = stream::sheet_parts(&period, &unit);
        let built = stream::sheet(&period, &unit);
        assert_eq!(built, "sheet-2026Q1~SH-01");
        for name in [
            "",
            "s",
            "sheet-",
            "sheet-2026Q1",
            "sheet-2026Q1~",
            "sheet-2026Q1~SH-0",
            "sheet-2026Q1~SH-01",
            "sheet-2026Q1~SH-010",
            "sheet-2026Q1~SH-02",
            "sheet-2026Q2",
            "sheet-2026Q1-",
            "period-2026Q1",
            "token-x",
            "sheet-2026Q1~SH-01~",
            "zzz",
        ] {
            assert_eq!(parts.cmp_name(name), name.cmp(built.as_str()), "{name:?}");
        }
        let unit_parts = stream::unit_parts(&unit);
        assert_eq!(unit_parts.to_string(), "unit-SH-01");
        assert_eq!(unit_parts.cmp_name("unit-SH-01"), std::cmp::Ordering::Equal);
        assert_eq!(unit_parts.cmp_name("unit-SH-0"), std::cmp::Ordering::Less);
    }
}
