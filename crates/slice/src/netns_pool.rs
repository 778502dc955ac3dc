//! Network namespaces made ahead of time and lent to slices. Creating one
//! is the largest single cost of starting a slice (~0.3 ms: the loopback
//! device, its sysfs and sysctl entries), and destroying it costs as much
//! again in a kernel worker; a background thread makes them before they
//! are needed, a slice joins one with `setns` instead of `CLONE_NEWNET`,
//! and once the slice has been reaped its namespace goes back to the pool
//! for the next slice of this process.
//!
//! Lending one namespace to one slice after another leaks nothing between
//! them. A namespace here is owned by the host user namespace, so a slice
//! (in a user namespace of its own) has no capability over it: it cannot
//! change its interfaces, addresses, routes, firewall or sysctls, and its
//! loopback stays down, so no connection, and no connection state, can
//! exist in it. What a slice can make there, sockets, dies with its
//! processes; a namespace is given back only after the slice's first
//! process, its pid namespace's init, has been reaped, and the kernel ends
//! every other process of the slice before that. Slices alive at the same
//! time never share a namespace (`docs/slice-security.md`).
#![allow(unsafe_code)]

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

/// Namespaces the pool holds (ready or lent) at first. Most runs start one
/// slice at a time, and making a namespace costs ~0.5 ms of CPU (and as
/// much again to destroy it), which a short run on two cores feels.
pub(crate) const NETNS_WANTED_FIRST: usize = 1;

/// Namespaces the pool holds at most, ready or lent. Each time a slice
/// finds none ready while all are lent, the pool wants one more, up to
/// this: it grows to the number of slices alive at once. Past it, a slice
/// makes its own in `clone`, and that one is not kept.
pub(crate) const NETNS_HELD_MAX: usize = 8;

#[derive(Debug)]
struct Ready {
    namespaces: VecDeque<OwnedFd>,
    /// Ready and lent.
    held: usize,
    /// How many the thread makes namespaces up to.
    wanted: usize,
    /// Set when the pool is dropped, or when the kernel refused a namespace.
    stopped: bool,
}

impl Default for Ready {
    fn default() -> Self {
        Self {
            namespaces: VecDeque::new(),
            held: 0,
            wanted: NETNS_WANTED_FIRST,
            stopped: false,
        }
    }
}

#[derive(Debug, Default)]
struct Shared {
    ready: Mutex<Ready>,
    /// Signalled when a namespace is taken or dropped, and on stop.
    taken: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Ready> {
        self.ready.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Hands out network namespaces, made by a background thread or given
/// back by reaped slices.
#[derive(Debug)]
pub(crate) struct NetnsPool {
    shared: Arc<Shared>,
    maker: Option<JoinHandle<()>>,
}

/// A namespace lent to one slice. [`NetnsLease::give_back`] returns it to
/// the pool once the slice has been reaped; dropped instead, it is closed
/// (and the kernel frees the namespace when no process is left in it).
#[derive(Debug)]
pub(crate) struct NetnsLease {
    namespace: Option<OwnedFd>,
    shared: Arc<Shared>,
}

impl NetnsPool {
    /// Starts the thread that makes namespaces while the pool holds fewer
    /// than it wants. Without a thread the pool is simply always empty.
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

    /// A namespace no live slice is in, or `None` when none is ready: the
    /// caller then creates one itself, and if the pool holds all it wants
    /// (they are all lent), it wants one more.
    pub(crate) fn take(&self) -> Option<NetnsLease> {
        let mut ready = self.shared.lock();
        let namespace = ready.namespaces.pop_front();
        if namespace.is_none() && ready.held >= ready.wanted {
            ready.wanted = (ready.wanted + 1).min(NETNS_HELD_MAX);
        }
        drop(ready);
        self.shared.taken.notify_one();
        namespace.map(|namespace| NetnsLease {
            namespace: Some(namespace),
            shared: Arc::clone(&self.shared),
        })
    }
}

impl NetnsLease {
    pub(crate) fn as_raw_fd(&self) -> RawFd {
        self.namespace
            .as_ref()
            .expect("a lease holds its namespace until given back or dropped")
            .as_raw_fd()
    }

    /// Returns the namespace to the pool. Only for a namespace whose slice
    /// has been reaped (see the module's documentation).
    pub(crate) fn give_back(mut self) {
        let Some(namespace) = self.namespace.take() else {
            return;
        };
        let mut ready = self.shared.lock();
        if ready.stopped {
            ready.held = ready.held.saturating_sub(1);
            return;
        }
        ready.namespaces.push_back(namespace);
    }
}

impl Drop for NetnsLease {
    fn drop(&mut self) {
        if self.namespace.take().is_some() {
            let mut ready = self.shared.lock();
            ready.held = ready.held.saturating_sub(1);
            drop(ready);
            self.shared.taken.notify_one();
        }
    }
}

impl Drop for NetnsPool {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.taken.notify_one();
        if let Some(maker) = self.maker.take() {
            let _ = maker.join();
        }
    }
}

/// The maker thread: moves itself into a new namespace, keeps a descriptor
/// of it, and repeats whenever the pool holds fewer than it wants.
fn keep_ready(shared: &Shared) {
    loop {
        {
            let mut ready = shared.lock();
            while !ready.stopped && ready.held >= ready.wanted {
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
                let mut ready = shared.lock();
                ready.namespaces.push_back(namespace);
                ready.held += 1;
            }
            Err(e) => {
                // Not fatal: slices then create their namespace in `clone`,
                // which reports the refusal where it matters.
                tracing::debug!(error = %e, "cannot prepare network namespaces");
                shared.lock().stopped = true;
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
    use std::time::{Duration, Instant};

    fn inode(lease: &NetnsLease) -> u64 {
        let fd = lease
            .namespace
            .as_ref()
            .expect("a lease holds its namespace");
        File::from(fd.try_clone().unwrap())
            .metadata()
            .unwrap()
            .ino()
    }

    /// False (after saying why) when the kernel cannot make namespaces
    /// here and isolation is not required.
    fn namespaces_available() -> bool {
        let probe = crate::probe::probe();
        let Some(missing) = probe.missing() else {
            return true;
        };
        assert!(
            std::env::var_os("RUNINK_REQUIRE_ISOLATION").is_none(),
            "{} is missing; RUNINK_REQUIRE_ISOLATION is set",
            missing.feature
        );
        eprintln!("SKIPPED: {} is missing", missing.feature);
        false
    }

    /// The next namespace the pool lends, waiting for its thread.
    fn take(pool: &NetnsPool) -> NetnsLease {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(lease) = pool.take() {
                return lease;
            }
            assert!(!pool.shared.lock().stopped, "the pool's thread stopped");
            assert!(Instant::now() < deadline, "no namespace in 10 s");
            std::thread::yield_now();
        }
    }

    #[test]
    fn each_namespace_is_new_and_lent_to_one_holder_at_a_time() {
        if !namespaces_available() {
            return;
        }
        let host = std::fs::metadata("/proc/self/ns/net").unwrap().ino();
        let pool = NetnsPool::start();
        // Held until the end: a freed namespace's inode number can be reused.
        let held: Vec<NetnsLease> = (0..NETNS_HELD_MAX).map(|_| take(&pool)).collect();
        let seen: Vec<u64> = held.iter().map(inode).collect();
        assert!(!seen.contains(&host), "{seen:?} holds the host's {host}");
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            seen.len(),
            "a namespace was lent twice at once: {seen:?}"
        );
        // At the bound the thread makes no more.
        std::thread::sleep(Duration::from_millis(50));
        assert!(pool.take().is_none(), "more than {NETNS_HELD_MAX} held");
    }

    #[test]
    fn a_namespace_given_back_is_lent_again_and_a_dropped_one_is_not() {
        if !namespaces_available() {
            return;
        }
        let pool = NetnsPool::start();
        let mut held: Vec<NetnsLease> = (0..NETNS_HELD_MAX).map(|_| take(&pool)).collect();
        let given_back = held.pop().unwrap();
        let given_back_inode = inode(&given_back);
        given_back.give_back();
        let again = take(&pool);
        assert_eq!(inode(&again), given_back_inode, "the given-back namespace");
        // A dropped lease frees its place: the thread makes a new one.
        drop(held.pop());
        let fresh = take(&pool);
        let others: Vec<u64> = held.iter().chain([&again]).map(inode).collect();
        assert!(
            !others.contains(&inode(&fresh)),
            "a namespace in use was lent again: {others:?}"
        );
        assert_eq!(pool.shared.lock().held, NETNS_HELD_MAX);
    }

    #[test]
    fn the_pool_holds_one_until_slices_want_more() {
        if !namespaces_available() {
            return;
        }
        let pool = NetnsPool::start();
        let first = take(&pool);
        // Taken from a pool that held one: nothing missed, none made.
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(pool.shared.lock().held, NETNS_WANTED_FIRST);
        // A second slice alive at once finds none ready: the pool wants
        // and makes one more.
        assert!(pool.take().is_none(), "a second namespace was ready");
        let second = take(&pool);
        assert_ne!(inode(&first), inode(&second));
        assert_eq!(pool.shared.lock().held, 2);
    }

    #[test]
    fn dropping_the_pool_stops_its_thread() {
        let pool = NetnsPool::start();
        drop(pool);
    }
}
