//! Exit codes, the same for every command (documented in README.md):
//! 0 ok; 1 the run or check found failures; 2 usage or input error;
//! 3 infrastructure error.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    /// The command worked and found failures: a failed run, a file that needs formatting.
    Failures = 1,
    /// The user must act: bad arguments, a scenario or contract with errors.
    Usage = 2,
    /// The operator must act: a disk, a permission, a missing capability.
    Infra = 3,
}

/// An error that ends a command, with the exit code that says who must act.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn usage(error: impl Into<anyhow::Error>) -> Self {
        Self {
            exit: Exit::Usage,
            error: error.into(),
        }
    }

    pub fn infra(error: impl Into<anyhow::Error>) -> Self {
        Self {
            exit: Exit::Infra,
            error: error.into(),
        }
    }
}

pub type Outcome = Result<Exit, Failure>;
