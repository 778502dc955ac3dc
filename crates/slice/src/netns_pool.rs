//! Fresh network namespaces made ahead of time. Creating one is the largest
//! single cost of starting a slice (~0.3 ms: the loopback device, its sysfs
//! and sysctl entries); a background thread makes them before they are
//! needed, and a slice joins one with `setns` instead of `CLONE_NEWNET`.
//!
//! Every namespace is used by exactly one slice and then dropped: nothing a
//! slice did in it can reach the next. Like one made by `clone`, it is owned
//! by the host user namespace, so the slice (in its own user namespace) has
//! no capability over it and its loopback stays down.
#![allow(unsafe_code)]

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

/// Namespaces kept ready. A run starts a handful of slices at once; more
/// would only hold kernel memory.
pub(crate) const NETNS_READY_LEN_MAX: usize = 4;

#[derive(Debug, Default)]
struct Ready {
    namespaces: VecDeque<OwnedFd>,
    /// Set when the pool is dropped, or when the kernel refused a namespace.
    stopped: bool,
}

#[derive(Debug, Default)]
struct Shared {
    ready: Mutex<Ready>,
    /// Signalled when a namespace is taken, and on stop.
    taken: Condvar,
}

/// Hands out fresh network namespaces, refilled by a background thread.
#[derive(Debug)]
pub(crate) struct NetnsPool {
    shared: Arc<Shared>,
    maker: Option<JoinHandle<()>>,
}

impl NetnsPool {
    /// Starts the thread that keeps [`NETNS_READY_LEN_MAX`] namespaces ready.
    /// Without a thread the pool is simply always empty.
    pub(crate) fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let for_maker = Arc::clone(&shared);
        let maker = std::thread::Builder::new()
            .name("runink-netns".into())
            .spawn(move || keep_ready(&for_maker))
            .map_err(|e| tracing::debug!(error = %e, "no network namespace pool"))
            .ok();
        Self { shared, maker }
    }

    /// A fresh namespace, or `None` when none is ready: the caller then
    /// creates one itself.
    pub(crate) fn take(&self) -> Option<OwnedFd> {
        let mut ready = self.lock();
        let namespace = ready.namespaces.pop_front();
        drop(ready);
        self.shared.taken.notify_one();
        namespace
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ready> {
        self.shared
            .ready
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for NetnsPool {
    fn drop(&mut self) {
        self.lock().stopped = true;
        self.shared.taken.notify_one();
        if let Some(maker) = self.maker.take() {
            let _ = maker.join();
        }
    }
}

/// The maker thread: moves itself into a new namespace, keeps a descriptor
/// of it, and repeats whenever fewer than the bound are ready.
fn keep_ready(shared: &Shared) {
    loop {
        {
            let mut ready = shared.ready.lock().unwrap_or_else(PoisonError::into_inner);
            while !ready.stopped && ready.namespaces.len() >= NETNS_READY_LEN_MAX {
                ready = shared
                    .taken
                    .wait(ready)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if ready.stopped {
                return;
            }
        }
        match new_namespace() {
            Ok(namespace) => {
                let mut ready = shared.ready.lock().unwrap_or_else(PoisonError::into_inner);
                ready.namespaces.push_back(namespace);
            }
            Err(e) => {
                // Not fatal: slices then create their namespace in `clone`,
                // which reports the refusal where it matters.
                tracing::debug!(error = %e, "cannot prepare network namespaces");
                shared
                    .ready
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .stopped = true;
                return;
            }
        }
    }
}

/// Moves the calling thread into a new network namespace and returns a
/// descriptor that keeps it alive.
fn new_namespace() -> io::Result<OwnedFd> {
    // SAFETY: unshare with an integer flag; it changes only this thread's
    // network namespace, and this thread does no networking.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // Rust opens files close-on-exec.
    Ok(File::open("/proc/thread-self/ns/net")?.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn inode(fd: &OwnedFd) -> u64 {
        File::from(fd.try_clone().unwrap())
            .metadata()
            .unwrap()
            .ino()
    }

    #[test]
    fn each_namespace_is_new_and_handed_out_once() {
        if let Some(missing) = crate::probe::probe().missing() {
            assert!(
                std::env::var_os("RUNINK_REQUIRE_ISOLATION").is_none(),
                "{} is missing; RUNINK_REQUIRE_ISOLATION is set",
                missing.feature
            );
            eprintln!("SKIPPED: {} is missing", missing.feature);
            return;
        }
        let host = std::fs::metadata("/proc/self/ns/net").unwrap().ino();
        let pool = NetnsPool::start();
        // Held until the end: a freed namespace's inode number can be reused.
        let mut held = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while held.len() < 2 * NETNS_READY_LEN_MAX {
            match pool.take() {
                Some(fd) => held.push(fd),
                None => {
                    assert!(!pool.lock().stopped, "the pool's thread stopped");
                    assert!(std::time::Instant::now() < deadline, "no namespace in 10 s");
                    std::thread::yield_now();
                }
            }
        }
        let seen: Vec<u64> = held.iter().map(inode).collect();
        assert!(!seen.contains(&host), "{seen:?} holds the host's {host}");
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            seen.len(),
            "a namespace was handed out twice: {seen:?}"
        );
    }

    #[test]
    fn dropping_the_pool_stops_its_thread() {
        let pool = NetnsPool::start();
        drop(pool);
    }
}
