//! Pure folds of the ledger's events: the write side's decisions and every read model.
