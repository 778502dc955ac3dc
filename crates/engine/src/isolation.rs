//! Whether a run confines step code in slices (the default) or, when the
//! user opts out explicitly with `--isolation none`, runs it unconfined.

/// How a run isolates step code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Isolation {
    /// Every `exec` step's program runs as a slice (namespaces, cgroup
    /// limits, seccomp). A machine that cannot give that fails the run,
    /// naming the missing feature.
    #[default]
    Slice,
    /// Programs run as ordinary child processes: no confinement, no
    /// limits. Only ever by the user's explicit choice, and logged.
    None,
}

/// Removes the cgroups this process's slices leave for reuse; call as the
/// process ends, when no run of it goes on.
pub fn release_slice_cgroups() {
    runink_slice::release_process_cgroups();
}
