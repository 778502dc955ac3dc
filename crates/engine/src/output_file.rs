//! A staged output file, optionally gzip- or zstd-compressed, that can be
//! finished (flushing the compressor) and then committed or aborted.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::compression::{Compression, compression_of};
use crate::staging::StagedFile;
use crate::write_behind::WriteBehindFile;

const WRITE_BUFFER_BYTES: usize = 1 << 20;

pub enum Compressed {
    Plain(BufWriter<WriteBehindFile>),
    Gzip(flate2::write::GzEncoder<BufWriter<WriteBehindFile>>),
    Zstd(zstd::Encoder<'static, BufWriter<WriteBehindFile>>),
}

impl Write for Compressed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(w) => w.write(buf),
            Self::Gzip(w) => w.write(buf),
            Self::Zstd(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(w) => w.flush(),
            Self::Gzip(w) => w.flush(),
            Self::Zstd(w) => w.flush(),
        }
    }
}

impl Compressed {
    /// `compression` = `gzip` | `zstd` | `none`, or `auto`/absent: by the
    /// target's extension (`.gz`, `.zst`).
    pub fn open(
        target: &Path,
        run_id: &str,
        compression: Option<&str>,
    ) -> io::Result<(StagedFile, Self)> {
        let (staged, file) = StagedFile::create(target, run_id)?;
        let buffered = BufWriter::with_capacity(WRITE_BUFFER_BYTES, file);
        let writer = match compression_of(compression, &target.to_string_lossy()) {
            Compression::Gzip => Self::Gzip(flate2::write::GzEncoder::new(
                buffered,
                flate2::Compression::default(),
            )),
            Compression::Zstd => Self::Zstd(zstd::Encoder::new(buffered, 3)?),
            Compression::None => Self::Plain(buffered),
        };
        Ok((staged, writer))
    }

    /// Writes out everything the compressor still holds.
    pub fn finish(self) -> io::Result<()> {
        let inner = match self {
            Self::Plain(w) => w,
            Self::Gzip(w) => w.finish()?,
            Self::Zstd(w) => w.finish()?,
        };
        finish_buffered(inner)
    }
}

/// Writes out a buffered output file and waits for its background syncs.
pub fn finish_buffered(buffered: BufWriter<WriteBehindFile>) -> io::Result<()> {
    buffered
        .into_inner()
        .map_err(io::IntoInnerError::into_error)?
        .finish()
}
