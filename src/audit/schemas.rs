//! The JSON Schemas the audit bundle carries, compiled into the program so that an export needs no
//! source tree. The list is written out by hand (one line per file) rather than by a build script;
//! the test below fails when it and `schemas/events/` disagree, so a new event version cannot be left
//! out of bundles silently.

/// `(file name, text)` of the envelope schema and every event schema, by file name.
pub const SCHEMAS: &[(&str, &str)] = &[
    (
        "envelope.schema.json",
        include_str!("../../schemas/envelope.schema.json"),
    ),
    (
        "events/AccessGranted.v1.schema.json",
        include_str!("../../schemas/events/AccessGranted.v1.schema.json"),
    ),
    (
        "events/AccessRevoked.v1.schema.json",
        include_str!("../../schemas/events/AccessRevoked.v1.schema.json"),
    ),
    (
        "events/AppealDismissed.v1.schema.json",
        include_str!("../../schemas/events/AppealDismissed.v1.schema.json"),
    ),
    (
        "events/AppealFiled.v1.schema.json",
        include_str!("../../schemas/events/AppealFiled.v1.schema.json"),
    ),
    (
        "events/AppealFiled.v2.schema.json",
        include_str!("../../schemas/events/AppealFiled.v2.schema.json"),
    ),
    (
        "events/AppealUpheld.v1.schema.json",
        include_str!("../../schemas/events/AppealUpheld.v1.schema.json"),
    ),
    (
        "events/BusinessResultRecorded.v1.schema.json",
        include_str!("../../schemas/events/BusinessResultRecorded.v1.schema.json"),
    ),
    (
        "events/BusinessResultRecorded.v2.schema.json",
        include_str!("../../schemas/events/BusinessResultRecorded.v2.schema.json"),
    ),
    (
        "events/BusinessZoneSet.v1.schema.json",
        include_str!("../../schemas/events/BusinessZoneSet.v1.schema.json"),
    ),
    (
        "events/ItemReviewed.v1.schema.json",
        include_str!("../../schemas/events/ItemReviewed.v1.schema.json"),
    ),
    (
        "events/PeriodOpened.v1.schema.json",
        include_str!("../../schemas/events/PeriodOpened.v1.schema.json"),
    ),
    (
        "events/PeriodRubricChanged.v1.schema.json",
        include_str!("../../schemas/events/PeriodRubricChanged.v1.schema.json"),
    ),
    (
        "events/PeriodStageChanged.v1.schema.json",
        include_str!("../../schemas/events/PeriodStageChanged.v1.schema.json"),
    ),
    (
        "events/PersonRegistered.v1.schema.json",
        include_str!("../../schemas/events/PersonRegistered.v1.schema.json"),
    ),
    (
        "events/RectificationRaised.v1.schema.json",
        include_str!("../../schemas/events/RectificationRaised.v1.schema.json"),
    ),
    (
        "events/RectificationSentBack.v1.schema.json",
        include_str!("../../schemas/events/RectificationSentBack.v1.schema.json"),
    ),
    (
        "events/RectificationSubmitted.v1.schema.json",
        include_str!("../../schemas/events/RectificationSubmitted.v1.schema.json"),
    ),
    (
        "events/RectificationSubmitted.v2.schema.json",
        include_str!("../../schemas/events/RectificationSubmitted.v2.schema.json"),
    ),
    (
        "events/RectificationVerified.v1.schema.json",
        include_str!("../../schemas/events/RectificationVerified.v1.schema.json"),
    ),
    (
        "events/RubricAdjusted.v1.schema.json",
        include_str!("../../schemas/events/RubricAdjusted.v1.schema.json"),
    ),
    (
        "events/RubricAdjusted.v2.schema.json",
        include_str!("../../schemas/events/RubricAdjusted.v2.schema.json"),
    ),
    (
        "events/RubricDefined.v1.schema.json",
        include_str!("../../schemas/events/RubricDefined.v1.schema.json"),
    ),
    (
        "events/RubricDefined.v2.schema.json",
        include_str!("../../schemas/events/RubricDefined.v2.schema.json"),
    ),
    (
        "events/ScoreCorrected.v1.schema.json",
        include_str!("../../schemas/events/ScoreCorrected.v1.schema.json"),
    ),
    (
        "events/ScoreCorrected.v2.schema.json",
        include_str!("../../schemas/events/ScoreCorrected.v2.schema.json"),
    ),
    (
        "events/ScoreCorrected.v3.schema.json",
        include_str!("../../schemas/events/ScoreCorrected.v3.schema.json"),
    ),
    (
        "events/ScoreRecorded.v1.schema.json",
        include_str!("../../schemas/events/ScoreRecorded.v1.schema.json"),
    ),
    (
        "events/ScoreRecorded.v2.schema.json",
        include_str!("../../schemas/events/ScoreRecorded.v2.schema.json"),
    ),
    (
        "events/ScoreRecorded.v3.schema.json",
        include_str!("../../schemas/events/ScoreRecorded.v3.schema.json"),
    ),
    (
        "events/ScoreRecorded.v4.schema.json",
        include_str!("../../schemas/events/ScoreRecorded.v4.schema.json"),
    ),
    (
        "events/SelfAssessmentRecorded.v1.schema.json",
        include_str!("../../schemas/events/SelfAssessmentRecorded.v1.schema.json"),
    ),
    (
        "events/SelfAssessmentRecorded.v2.schema.json",
        include_str!("../../schemas/events/SelfAssessmentRecorded.v2.schema.json"),
    ),
    (
        "events/SheetReviewed.v1.schema.json",
        include_str!("../../schemas/events/SheetReviewed.v1.schema.json"),
    ),
    (
        "events/TokenIssued.v1.schema.json",
        include_str!("../../schemas/events/TokenIssued.v1.schema.json"),
    ),
    (
        "events/TokenRevoked.v1.schema.json",
        include_str!("../../schemas/events/TokenRevoked.v1.schema.json"),
    ),
    (
        "events/UnitRegistered.v1.schema.json",
        include_str!("../../schemas/events/UnitRegistered.v1.schema.json"),
    ),
    (
        "events/UnitUpdated.v1.schema.json",
        include_str!("../../schemas/events/UnitUpdated.v1.schema.json"),
    ),
];

#[cfg(test)]
mod tests {
    /// The compiled-in list names exactly the schema files in `schemas/events/`, byte for byte.
    #[test]
    fn list_matches_the_schema_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/events");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".schema.json"))
            .map(|name| format!("events/{name}"))
            .collect();
        on_disk.push("envelope.schema.json".to_owned());
        on_disk.sort();
        let mut listed: Vec<String> = super::SCHEMAS.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(listed, on_disk);
        for (name, text) in super::SCHEMAS {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("schemas")
                .join(name);
            assert_eq!(std::fs::read_to_string(path).unwrap(), *text, "{name}");
        }
    }
}
