//! The Barn's errors, grouped by who must act. Refusals of a request are
//! not errors: they are [`Outcome`](crate::Outcome) values.

use std::io;
use std::path::PathBuf;

/// Why the Barn could not open, write or read.
#[derive(Debug, thiserror::Error)]
pub enum BarnError {
    // The operator must act.
    #[error(
        "the barn folder `{dir}` is in use by {holder}; waited {waited_ms} ms (`lock_wait_ms_max`); let it finish or stop it, then try again",
        dir = dir.display()
    )]
    Locked {
        dir: PathBuf,
        holder: String,
        waited_ms: u64,
    },
    #[error(
        "`{file}` is corrupted ({what}); the barn refuses to start rather than serve bad state. Restore the folder from a backup, or, on a node of a cluster, move the folder aside and add the node again so that it copies the state from the leader",
        file = file.display()
    )]
    Corrupted { file: PathBuf, what: String },
    #[error(
        "`{file}` has format {found}, and this runi reads format {supported}; use the runi that wrote it",
        file = file.display()
    )]
    UnsupportedFormat {
        file: PathBuf,
        found: String,
        supported: String,
    },
    #[error("cannot {action} `{path}`", path = path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the barn database `{file}` failed", file = file.display())]
    Database {
        file: PathBuf,
        /// Boxed: redb's error is large, and this keeps `Result`s small.
        #[source]
        source: Box<redb::Error>,
    },
    #[error("cannot listen on `{addr}`")]
    Listen {
        addr: String,
        #[source]
        source: io::Error,
    },
    #[error("bad certificate file `{file}`: {reason}", file = file.display())]
    Tls { file: PathBuf, reason: String },
    // The user must act.
    #[error("{0}")]
    Config(String),
    #[error("the barn is unavailable: {reason}")]
    Unavailable { reason: String },
    // We must act.
    #[error("internal error in the barn, this is a bug: {0}")]
    Internal(String),
}

impl BarnError {
    pub(crate) fn database(file: &std::path::Path, source: impl Into<redb::Error>) -> Self {
        Self::Database {
            file: file.to_owned(),
            source: Box::new(source.into()),
        }
    }
}
