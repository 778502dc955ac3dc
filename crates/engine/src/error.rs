//! Engine errors, grouped by who must act: the scenario's author (a bad
//! option, an expression DataFusion cannot plan), the operator (a file
//! that cannot be read or written), or us (an internal Arrow error).
//! Bad rows are never errors: they go to the DLQ.

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    // `error`, not `source`: the message carries it already, and as a
    // source it was printed a second time as the cause.
    #[error("cannot open source `{uri}` (`{path}`): {error}")]
    SourceOpen {
        uri: String,
        path: String,
        error: std::io::Error,
    },
    #[error("cannot read `{uri}`: {message}")]
    Read { uri: String, message: String },
    #[error("cannot write `{target}`: {message}")]
    Write { target: String, message: String },
    #[error("{0}")]
    Plan(String),
    #[error("step {step} (`{label}`): {message}")]
    Step {
        step: usize,
        label: String,
        message: String,
    },
    /// A step's program failed (a non-zero exit, a kill, unreadable output).
    #[error("step {step} (`{label}`) failed: {message}")]
    StepFailed {
        step: usize,
        label: String,
        message: String,
    },
    /// A slice of built-in steps failed: killed (out of memory, a signal),
    /// or it ended before its steps had finished.
    #[error("slice {slice} (steps {steps}) failed: {message}")]
    SliceFailed {
        slice: usize,
        steps: String,
        message: String,
    },
    /// Isolation was asked for and the machine cannot give it; the
    /// operator must act, or opt out with `--isolation none`.
    #[error("{0}")]
    Isolation(String),
    #[error("contract `{path}`: {message}")]
    Contract { path: String, message: String },
    /// A contract's sql rule that planned failed on the rows (a cast of a
    /// value it cannot read): the data's failure, not the contract's.
    #[error("contract `{path}`: sql rule `{rule}` failed on the data: {message}")]
    RuleFailed {
        path: String,
        rule: String,
        message: String,
    },
    #[error(transparent)]
    Check(#[from] runink_contract::CheckError),
    #[error("internal error (this is a bug in Runink): {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

impl EngineError {
    pub(crate) fn read(uri: &str, error: impl std::fmt::Display) -> Self {
        Self::Read {
            uri: uri.to_owned(),
            message: error.to_string(),
        }
    }

    pub(crate) fn write(target: &str, error: impl std::fmt::Display) -> Self {
        Self::Write {
            target: target.to_owned(),
            message: error.to_string(),
        }
    }
}

impl From<crate::staging::CommitError> for EngineError {
    fn from(error: crate::staging::CommitError) -> Self {
        Self::write(&error.path.display().to_string(), error.source)
    }
}
