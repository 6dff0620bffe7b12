//! Names where people read: persons and units by name, the id smaller or on hover. Every page that
//! shows a person or a unit takes the name from here, so no page shows a bare id where a name exists.

use std::collections::BTreeMap;

use maud::Markup;

use super::client::{Failure, Session};
use crate::http::views::{PersonNames, UnitList};

/// Names by id (persons or units).
#[derive(Debug, Default, Clone)]
pub struct Names(pub BTreeMap<String, String>);

impl Names {
    /// The name for an id, or the id itself when nobody gave it a name the reader may see.
    pub fn of(&self, id: &str) -> String {
        self.0.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }

    /// A name with its id on hover (`title`) and in `data-id`; a bare id when there is no name.
    pub fn show(&self, id: &str) -> Markup {
        super::todo::named(self.0.get(id).map(String::as_str), id)
    }
}

/// Every person by id, from the names directory every role may read, and the reader by their own
/// name.
pub async fn people(session: &Session) -> Names {
    let mut names: BTreeMap<String, String> = session
        .get::<PersonNames>("/api/v1/people/names")
        .await
        .map(|l| {
            l.people
                .into_iter()
                .map(|p| (p.person.to_string(), p.name))
                .collect()
        })
        .unwrap_or_default();
    if let Some(name) = &session.me.name {
        names.insert(session.me.person.to_string(), name.clone());
    }
    Names(names)
}

/// Every unit, by id.
pub async fn units(session: &Session) -> Result<Names, Failure> {
    let units: UnitList = session.get("/api/v1/units").await?;
    Ok(Names(
        units
            .units
            .into_iter()
            .map(|u| (u.unit.to_string(), u.name))
            .collect(),
    ))
}
