//! The one error type of the slice crate, grouped by who must act.

use std::io;
use std::path::PathBuf;

/// Why a slice could not be started or waited for.
#[derive(Debug, thiserror::Error)]
pub enum SliceError {
    /// The kernel or the process's privileges cannot give the confinement a
    /// slice needs. The operator must act, or opt out explicitly.
    #[error(
        "isolation is not available: {feature} ({detail}); \
         run with `--isolation none` to opt out of isolation explicitly"
    )]
    Unsupported {
        /// The missing feature, e.g. `user namespaces` or `cgroup memory controller`.
        feature: &'static str,
        /// What was found instead.
        detail: String,
    },

    /// The caller asked for something invalid (the spec is wrong).
    #[error("invalid slice spec: {0}")]
    InvalidSpec(String),

    /// A path the slice must see does not exist or cannot be read.
    #[error("cannot prepare `{path}` for the slice: {error}")]
    Path {
        /// The path named in the spec.
        path: PathBuf,
        /// The underlying error (named so that it is not printed a second
        /// time as the cause: the message carries it).
        error: io::Error,
    },

    /// Creating, configuring or removing a cgroup failed.
    #[error("cgroup `{path}`: {action}: {error}")]
    Cgroup {
        /// The cgroup directory or file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The underlying error (named so that it is not printed a second
        /// time as the cause: the message carries it).
        error: io::Error,
    },

    /// Every ephemeral id of the range is in use.
    #[error("no free ephemeral uid/gid in `{first}..{end}`")]
    IdsExhausted {
        /// First id of the range.
        first: u32,
        /// One past the last id of the range.
        end: u32,
    },

    /// The confined child failed while setting itself up, before the program
    /// started. `step` names the setup step.
    #[error("slice setup failed at `{step}`: {error}")]
    Setup {
        /// The setup step that failed, e.g. `pivot_root` or `execve`.
        step: &'static str,
        /// The error the kernel returned (in the message, not a cause).
        error: io::Error,
    },

    /// A system call in the parent failed (clone, waitpid, pipe).
    #[error("{call}: {error}")]
    Os {
        /// The call that failed.
        call: &'static str,
        /// The underlying error (named so that it is not printed a second
        /// time as the cause: the message carries it).
        error: io::Error,
    },
}

/// The crate's result type.
pub type Result<T, E = SliceError> = std::result::Result<T, E>;
