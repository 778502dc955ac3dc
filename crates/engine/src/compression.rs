//! Which codec a CSV or JSON Lines file is read or written through: the
//! `compression` option of its source or sink, or its file's extension.
//! Sources, sinks and `runi test`'s read-back all decide by this one rule.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// `compression` = `gzip` | `zstd` | `none`, or `auto` (the default): by
/// the file's extension, `.gz` or `.zst`.
pub fn compression_of(compression: Option<&str>, path: &str) -> Compression {
    let auto = matches!(compression, None | Some("auto"));
    if compression == Some("gzip") || (auto && path.ends_with(".gz")) {
        Compression::Gzip
    } else if compression == Some("zstd") || (auto && path.ends_with(".zst")) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_wins_and_auto_goes_by_extension() {
        assert_eq!(compression_of(None, "a.csv.gz"), Compression::Gzip);
        assert_eq!(
            compression_of(Some("auto"), "a.jsonl.zst"),
            Compression::Zstd
        );
        assert_eq!(compression_of(Some("gzip"), "a.jsonl"), Compression::Gzip);
        assert_eq!(compression_of(Some("none"), "a.csv.gz"), Compression::None);
        assert_eq!(compression_of(None, "a.csv"), Compression::None);
    }
}
