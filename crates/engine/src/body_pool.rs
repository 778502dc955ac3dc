//! Memory for the bodies of slice frames, used again instead of freed.
//!
//! A body read from a pipe becomes a record batch without a copy: the
//! batch's buffers point into it. When the last of them is dropped (the
//! sink has written the rows) the body goes back to its reader's pool, and
//! the next body is read into memory that is already mapped. Freed instead,
//! a body of a few megabytes goes back to the kernel, and the next one costs
//! a page fault and a zeroed page for every 4 KiB: at 1M rows of workload W
//! about 6,000 faults in the parent's reader thread alone.

use std::sync::{Arc, Mutex};

use arrow::buffer::Buffer;

/// Most idle bodies a pool keeps; more are freed. A reader has at most a
/// queue's worth of batches in flight, and a few idle bodies cover the
/// time between a batch's drop and the next read.
pub const BODY_POOL_LEN_MAX: usize = 16;
/// Fresh memory for a body is its length plus this fraction of it.
const BODY_HEADROOM_DIVISOR: usize = 8;
/// Most memory a pool keeps idle, summed over its bodies' capacities; a
/// body that would pass it is freed.
pub const BODY_POOL_BYTES_MAX: usize = 64 << 20;

/// Idle bodies of one reader, shared with the batches it decoded.
#[derive(Debug, Default)]
pub struct BodyPool {
    idle: Mutex<Vec<Vec<u8>>>,
}

impl BodyPool {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// An empty buffer with room for `len` bytes: an idle body if one is
    /// large enough, else fresh memory with some headroom, since the
    /// bodies of one stream differ a little in length.
    pub fn take(&self, len: usize) -> Vec<u8> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        match idle.iter().position(|body| body.capacity() >= len) {
            Some(at) => idle.swap_remove(at),
            None => Vec::with_capacity(len.saturating_add(len / BODY_HEADROOM_DIVISOR)),
        }
    }

    /// An Arrow buffer over `body`, which comes back to this pool when the
    /// buffer and every slice of it are dropped.
    pub fn lend(self: &Arc<Self>, body: Vec<u8>) -> Buffer {
        Buffer::from(bytes::Bytes::from_owner(LentBody {
            body: Some(body),
            pool: Arc::clone(self),
        }))
    }

    fn give_back(&self, mut body: Vec<u8>) {
        body.clear();
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let kept: usize = idle.iter().map(Vec::capacity).sum();
        if idle.len() < BODY_POOL_LEN_MAX && kept + body.capacity() <= BODY_POOL_BYTES_MAX {
            idle.push(body);
        }
    }

    #[cfg(test)]
    fn idle_len(&self) -> usize {
        self.idle.lock().unwrap().len()
    }
}

/// A body lent to a buffer: owned until the buffer goes, then returned.
struct LentBody {
    body: Option<Vec<u8>>,
    pool: Arc<BodyPool>,
}

impl AsRef<[u8]> for LentBody {
    fn as_ref(&self) -> &[u8] {
        self.body.as_deref().unwrap_or_default()
    }
}

impl Drop for LentBody {
    fn drop(&mut self) {
        if let Some(body) = self.body.take() {
            self.pool.give_back(body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_comes_back_when_its_last_slice_is_dropped_and_is_used_again() {
        let pool = BodyPool::new();
        let mut body = pool.take(1000);
        body.extend_from_slice(&[7u8; 1000]);
        let address = body.as_ptr();
        let buffer = pool.lend(body);
        let slice = buffer.slice(10);
        drop(buffer);
        assert_eq!(pool.idle_len(), 0, "a slice still points into it");
        assert_eq!(slice.as_slice()[0], 7);
        drop(slice);
        assert_eq!(pool.idle_len(), 1);
        let again = pool.take(800);
        assert_eq!((again.as_ptr(), again.len()), (address, 0));
        assert_eq!(pool.idle_len(), 0);
    }

    #[test]
    fn a_body_too_small_is_not_taken_and_the_pool_is_bounded() {
        let pool = BodyPool::new();
        let buffers: Vec<Buffer> = (0..BODY_POOL_LEN_MAX + 3)
            .map(|_| {
                let mut body = pool.take(64);
                body.resize(64, 1);
                pool.lend(body)
            })
            .collect();
        drop(buffers);
        assert_eq!(pool.idle_len(), BODY_POOL_LEN_MAX);
        // Each has room for 64 bytes and its headroom, not for twice that.
        assert!(pool.take(128).capacity() >= 128);
        assert_eq!(
            pool.idle_len(),
            BODY_POOL_LEN_MAX,
            "no idle body was large enough"
        );

        let big = BodyPool::new();
        let mut body = big.take(BODY_POOL_BYTES_MAX + 1);
        body.push(1);
        drop(big.lend(body));
        assert_eq!(big.idle_len(), 0, "over the byte bound");
    }
}
