//! The `ledger` program's library.
//!
//! Layout:
//! - [`store`]: the event-store port ([`store::EventStore`]) and its adapters; the only code that
//!   knows SQL;
//! - [`app`]: the application service ([`app::Ledger`]): commands decided against the folded
//!   state and appended with optimistic concurrency;
//! - [`audit`]: the ledger's signing key, its signed checkpoints and their verification against
//!   the recomputed Merkle tree;
//! - [`cli`]: the command line, one module per subcommand;
//! - [`console`]: the web console at `/`, server-rendered pages that call the API in process;
//! - [`csv_out`]: the change log as CSV, shared by the command line and the console;
//! - [`demo`]: the demo ledger, built through the application service only;
//! - [`import`]: score sheets from CSV or .xlsx, checked all or nothing; the xlsx template;
//! - [`http`]: the HTTP API (axum): routes, authentication, problem+json errors, OpenAPI; the only
//!   code that knows HTTP (the console speaks HTTP too, but only to the browser and to the API).
pub mod app;
pub mod audit;
pub mod backup;
pub mod bench;
pub mod cli;
pub mod console;
pub mod csv_out;
pub mod demo;
pub mod evidence;
pub mod export_rows;
pub mod http;
pub mod import;
pub mod metrics;
pub mod server;
pub mod store;
pub mod witness;
pub mod xlsx_out;
