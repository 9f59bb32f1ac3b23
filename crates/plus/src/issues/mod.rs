//! The issues inbox: crashes (an instance that exited with a non-zero code or by a signal,
//! not stopped by a user) and the `process:exception`s apps report, grouped by app and
//! normalised message (`normalise`), with the lines the app printed just before
//! (`recent`), kept bounded and on disk (`store`). `collect` reads the daemon's stream;
//! `remote` takes a linked host's, from its link.

pub mod collect;
pub mod normalise;
pub mod recent;
pub mod remote;
pub mod store;
