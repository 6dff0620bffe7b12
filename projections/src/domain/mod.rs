//! The write side: commands decided by pure functions on state folded from events.
//!
//! - [`state`]: [`State`], the write model, folded by [`State::evolve`] from each event and the
//!   [`Meta`] of its envelope; it tracks every stream's revision so decisions can be appended with
//!   optimistic concurrency. Derived facts (overdue rectifications, a sheet's gaps) are queries, not
//!   events.
//! - [`command`]: [`Command`] (what is asked) and [`Context`] (who asks, and the time: inputs, never
//!   read from a clock here).
//! - [`decide()`]: `decide(&State, &Context, Command) -> Result<Decision, Rejection>`. A [`Decision`]
//!   holds the events to append (each to its `Event::stream()`), the reason for their envelopes, and
//!   the expected revision of each stream it touches.
//! - [`rejection`]: [`Rejection`], one variant per refusal, worded zh-CN first, then English.
//! - [`shared`]: [`SharedMap`](shared::SharedMap), the ordered map with O(1) structure-sharing
//!   clones that every map of the state is, so that snapshots (the read side's checkpoints) are cheap.
//!
//! The rules themselves (stage machine, rubric moves, re-scoring, who may do what) are written down in
//! `projections/DOMAIN-RULES.md`. Rubric checks and score values are not decided here: they come from
//! [`crate::rubric`] and [`crate::scoring`].
//!
//! Not here: IO, clocks, randomness, id generation, authentication (the caller turns a token into an
//! [`Actor`](ledger_schemas::envelope::Actor); `decide` checks that the person holds the role).

pub mod command;
pub mod decide;
pub mod rejection;
pub mod shared;
pub mod state;

pub use command::{Command, Context, Revision};
pub use decide::{Decision, Expected, StreamExpectation, decide, next_stage};
pub use rejection::{Rejection, SheetGap};
pub use state::{
    AppealOutcome, Cited, CitedFile, ItemScore, Meta, RectificationState, RectificationStatus,
    ReviewStatus, SheetKey, SheetState, Standing, State,
};
