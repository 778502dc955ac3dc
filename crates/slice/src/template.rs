//! Root templates: a slice's read-only tree, built once and reused by every
//! slice with the same program, libraries and binds.
//!
//! A template is a mount namespace whose root is that tree. A short-lived
//! thread makes it: it moves into a private copy of the mount namespace,
//! builds the tree, `pivot_root`s into it, detaches the host's tree (see
//! [`crate::child::enter_template_root`]) and leaves a descriptor of the
//! namespace behind. A slice's child joins that namespace with `setns` and
//! at once makes a private copy of it with `unshare(CLONE_NEWNS)`, so each
//! slice starts in its own copy of the small tree and only mounts its own
//! `/tmp` and `/proc`: about a third of a slice's start was building its
//! root, and copying the host's mount tree to then detach it.
//!
//! A template holds its binds as they were when it was built (a file
//! replaced since by a rename is still the old one in it), so it is rebuilt
//! after [`TEMPLATE_AGE_MAX`].
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::child::RootPlan;
use crate::error::{Result, SliceError};

/// Templates kept; the least recently used goes first. A run uses one per
/// distinct program (runi itself, each exec step's).
pub(crate) const TEMPLATES_LEN_MAX: usize = 8;
/// Age after which a template is rebuilt, so a long-lived process sees a
/// program or library replaced since.
pub(crate) const TEMPLATE_AGE_MAX: Duration = Duration::from_secs(60);

/// What identifies a tree: the spec fields it is planned from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TreeKey {
    pub program: PathBuf,
    pub libraries: Vec<PathBuf>,
    pub binds_ro: Vec<PathBuf>,
    pub binds_ro_at: Vec<(PathBuf, PathBuf)>,
}

/// One template: the mount namespace that holds the tree.
#[derive(Debug)]
pub(crate) struct RootTemplate {
    /// The namespace; its root is the tree.
    pub mount_namespace: OwnedFd,
    /// The program's path inside the tree, where it is exec'd from.
    pub program: CString,
}

impl RootTemplate {
    /// Builds `root` in a new mount namespace, on a thread of its own.
    fn build(root: RootPlan, program: CString) -> Result<Self> {
        let builder = std::thread::Builder::new()
            .name("runink-root".into())
            .spawn(move || enter_new_root(&root))
            .map_err(|source| SliceError::Os {
                call: "start the thread that builds a slice root",
                error: source,
            })?;
        let mount_namespace = builder.join().unwrap_or_else(|_| {
            Err(SliceError::Os {
                call: "build a slice root",
                error: io::Error::other("the thread building it panicked"),
            })
        })?;
        Ok(Self {
            mount_namespace,
            program,
        })
    }
}

/// On a thread that ends right after: a private mount namespace whose root
/// is the tree, returned as a descriptor.
fn enter_new_root(root: &RootPlan) -> Result<OwnedFd> {
    // SAFETY: unshare with an integer flag; it gives this thread its own
    // file system context and a copy of the mount namespace, nothing else.
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
        return Err(SliceError::Os {
            call: "unshare a mount namespace for a slice root",
            error: io::Error::last_os_error(),
        });
    }
    // Opened before the host's tree (and its /proc) is detached.
    let namespace = File::open("/proc/thread-self/ns/mnt").map_err(|source| SliceError::Os {
        call: "open the slice root's mount namespace",
        error: source,
    })?;
    crate::child::enter_template_root(root).map_err(|(step, errno)| SliceError::Setup {
        step: step.name(),
        error: io::Error::from_raw_os_error(errno),
    })?;
    Ok(namespace.into())
}

#[derive(Debug)]
struct Entry {
    key: TreeKey,
    template: Arc<RootTemplate>,
    built: Instant,
    last_used: u64,
}

/// The cache of templates, at most [`TEMPLATES_LEN_MAX`].
#[derive(Debug, Default)]
pub(crate) struct RootTemplates {
    entries: Mutex<(Vec<Entry>, u64)>,
}

impl RootTemplates {
    /// The template for `key`, built from what `plan` returns (the tree and
    /// the program's path inside it) when there is none, or when it is older
    /// than [`TEMPLATE_AGE_MAX`].
    pub(crate) fn get(
        &self,
        key: &TreeKey,
        plan: impl FnOnce() -> Result<(RootPlan, CString)>,
    ) -> Result<Arc<RootTemplate>> {
        let mut guard = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (entries, clock) = &mut *guard;
        *clock += 1;
        entries.retain(|e| e.built.elapsed() < TEMPLATE_AGE_MAX);
        if let Some(entry) = entries.iter_mut().find(|e| e.key == *key) {
            entry.last_used = *clock;
            return Ok(Arc::clone(&entry.template));
        }
        let (root, program) = plan()?;
        let template = Arc::new(RootTemplate::build(root, program)?);
        if entries.len() >= TEMPLATES_LEN_MAX
            && let Some(oldest) = entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(i, _)| i)
        {
            entries.swap_remove(oldest);
        }
        entries.push(Entry {
            key: key.clone(),
            template: Arc::clone(&template),
            built: Instant::now(),
            last_used: *clock,
        });
        Ok(template)
    }
}
