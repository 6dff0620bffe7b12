//! Pure folds of the ledger's events: the write side's decisions and every read model.
//!
//! No IO, no clock, no randomness: time, ids and the acting person are inputs.
//!
//! - [`rubric`]: checking and applying rubric definitions and adjustments, diffs between versions,
//!   the default template;
//! - [`scoring`]: what a score value is worth on an item, and a whole sheet's base, bonus, deductions,
//!   veto, party-building score, dual combined score and grade;
//! - [`domain`]: the write model folded from events, commands, and `decide` (command → events or a
//!   typed rejection);
//! - [`read`]: the read models (standings, histories, the change log, accountability, rubric
//!   versions), as of now or any past position or time, with structure-shared checkpoints.
pub mod domain;
pub mod read;
pub mod rubric;
pub mod scoring;
