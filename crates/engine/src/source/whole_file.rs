//! A source file must be read to the size it had when the run opened it.
//! A file another program truncates or rewrites while the run reads it
//! would otherwise just end early, and the run would succeed on part of
//! its rows with nothing to say so.

use std::fs::File;
use std::io::{self, Read};

/// A file opened as a source, that fails its read at an end before the
/// size it had when opened. Pipes, FIFOs and devices have no size to
/// hold to and read as they are.
#[derive(Debug)]
pub struct WholeFile {
    file: File,
    /// The regular file's size when opened; 0 for anything else.
    size_at_open: u64,
    bytes_read: u64,
}

impl WholeFile {
    pub fn new(file: File) -> io::Result<Self> {
        let metadata = file.metadata()?;
        let size_at_open = if metadata.is_file() {
            metadata.len()
        } else {
            0
        };
        Ok(Self {
            file,
            size_at_open,
            bytes_read: 0,
        })
    }
}

impl Read for WholeFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.file.read(buf)?;
        self.bytes_read += read as u64;
        if read == 0 && !buf.is_empty() && self.bytes_read < self.size_at_open {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the file ended after {} of the {} bytes it had when the run opened it: \
                     another program truncated or replaced it while it was read; \
                     run again once the file is complete",
                    self.bytes_read, self.size_at_open
                ),
            ));
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_of(bytes: usize) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("source.csv");
        File::create(&path)
            .unwrap()
            .write_all(&vec![b'x'; bytes])
            .unwrap();
        (dir, path)
    }

    #[test]
    fn a_file_read_whole_reads_as_usual() {
        let (_dir, path) = file_of(10_000);
        let mut whole = WholeFile::new(File::open(&path).unwrap()).unwrap();
        let mut all = Vec::new();
        whole.read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 10_000);
    }

    #[test]
    fn a_file_truncated_while_read_fails_naming_both_sizes() {
        let (_dir, path) = file_of(10_000);
        let mut whole = WholeFile::new(File::open(&path).unwrap()).unwrap();
        let mut start = [0u8; 4_000];
        whole.read_exact(&mut start).unwrap();
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(6_000)
            .unwrap();
        let mut rest = Vec::new();
        let error = whole.read_to_end(&mut rest).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        let message = error.to_string();
        assert!(
            message.contains("after 6000 of the 10000 bytes"),
            "{message}"
        );
    }

    #[test]
    fn a_file_that_grows_while_read_reads_what_it_has() {
        let (_dir, path) = file_of(1_000);
        let mut whole = WholeFile::new(File::open(&path).unwrap()).unwrap();
        File::options()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"yy")
            .unwrap();
        let mut all = Vec::new();
        whole.read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 1_002);
    }
}
