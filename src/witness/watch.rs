//! `ledger audit watch`: see below.
