//! The write side's tests: given events, when a command, then events or a rejection, for every
//! command's success and every rejection; then properties over random command sequences.
//!
//! One test binary (modules under `domain_it/`) so that the suite links once.

#[macro_use]
#[path = "domain_it/dsl.rs"]
mod dsl;

#[path = "domain_it/appeals.rs"]
mod appeals;
#[path = "domain_it/org.rs"]
mod org;
#[path = "domain_it/periods.rs"]
mod periods;
#[path = "domain_it/properties.rs"]
mod properties;
#[path = "domain_it/rectifications.rs"]
mod rectifications;
#[path = "domain_it/rubrics.rs"]
mod rubrics;
#[path = "domain_it/sheets.rs"]
mod sheets;
