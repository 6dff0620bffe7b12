//! The one integration-test binary: black-box tests of the `ledger` library and program.
//!
//! Each module is one area; every test makes its own temporary ledger.

mod app;
mod audit_bundle;
mod audit_http;
mod audit_snapshots;
mod audit_tamper;
mod browser;
mod browser_support;
mod browser_work;
mod browser_workplace;
mod cli_demo;
mod cli_import;
mod cli_read;
mod cli_support;
mod cli_token;
mod console_http;
mod console_work;
mod crash;
mod exports;
mod http_annual;
mod http_authz;
mod http_bad_input;
mod http_bench;
mod http_concurrency;
mod http_lifecycle;
mod http_limits;
mod http_openapi;
mod http_serve_cli;
mod http_support;
mod http_todo;
mod kurrent;
mod kurrent_cluster;
mod kurrent_faults;
mod kurrent_serve;
mod ops_backup;
mod ops_serve;
mod reads_as_of;
mod reads_follow;
mod reads_rebuild_cli;
mod reads_snapshots;
mod rubric_cli;
mod store_cli;
mod store_contract;
mod store_sqlite;
mod store_support;
