//! Slices: a program confined by kernel primitives, with no container daemon.
//!
//! A slice runs in new pid, mount, ipc, uts and (unless asked otherwise)
//! network namespaces, inside a user namespace that maps its ephemeral host
//! uid/gid to an unprivileged id, on a minimal read-only root (its program,
//! the library directories, explicit binds, `/dev/{null,zero,urandom}`,
//! a fresh `/proc` with `/proc/sys` read-only, a private tmpfs `/tmp`), with
//! no capabilities, no_new_privs, a seccomp filter, only the descriptors it
//! was given, and cgroup limits on memory, processes and CPU (v1 or v2,
//! chosen per controller).
//!
//! Start one with [`Slice::spawn`] (or a [`Slicer`]), talk to it through its
//! pipes and data descriptors, and [`RunningSlice::wait`] for its
//! [`SliceExit`]. [`Slice::spawn_unconfined`] starts the same spec as a plain
//! child process, for an explicit `--isolation none`. [`probe`] reports
//! which features the kernel offers; when
//! one is missing, spawning fails with [`SliceError::Unsupported`], which
//! names it and the explicit opt-out. There is no silent fallback.
//!
//! The security boundary is described in `docs/slice-security.md`.

mod cgroup;
mod child;
mod clone;
mod error;
mod ids;
mod lending_pipe;
mod netns_pool;
mod probe;
mod running;
pub mod seccomp;
mod spawn;
mod spec;
mod sys;
mod template;
mod tree;
mod unconfined;

pub use cgroup::layout::{CgroupVersion, Controller};
pub use error::{Result, SliceError};
pub use lending_pipe::{DRAIN_WAIT_MAX, LendingPipeWriter, SPARE_BUFFERS_MAX};
pub use probe::{FeatureStatus, Probe, probe};
pub use running::{RunningSlice, SliceExit};
pub use spawn::{STAGING_DIR_DEFAULT, Slice, Slicer, release_process_cgroups};
pub use spec::{INNER_ID, IdRange, LIBRARY_PATHS, Limits, SliceSpec, Stdio};
pub use sys::{keep_freed_heap_memory, set_pipe_buffer_bytes};
