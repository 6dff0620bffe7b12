//! The read side's tests: the read models (standings, histories, the change log, accountability,
//! rubric versions) now and as of any past point, with and without checkpoints.
//!
//! One test binary (modules under `read_it/`), reusing the domain tests' fixture world (`dsl`).

#[macro_use]
#[path = "domain_it/dsl.rs"]
mod dsl;

#[path = "read_it/log.rs"]
mod log;

#[path = "read_it/properties.rs"]
mod properties;

#[path = "read_it/example.rs"]
mod example;

#[path = "read_it/golden.rs"]
mod golden;

#[path = "read_it/views.rs"]
mod views;

#[path = "read_it/history.rs"]
mod history;

#[path = "read_it/partition.rs"]
mod partition;

#[path = "read_it/annual.rs"]
mod annual;
