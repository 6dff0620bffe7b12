//! The write side: commands decided against state folded from events (in progress).
