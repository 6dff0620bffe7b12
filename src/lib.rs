//! The `ledger` program's library.
//!
//! Layout:
//! - [`store`]: the event-store port ([`store::EventStore`]) and its adapters; the only code that
//!   knows SQL;
//! - [`cli`]: the command line, one module per subcommand.
pub mod cli;
pub mod store;
