//! Source, sink and DLQ URIs (`csv://data/orders.csv`) and their options.

use std::collections::BTreeMap;

use runink_plan::{DataFormat, Endpoint, Location, OptionValue};

use super::args::{Args, backticked, value_text};
use crate::ast::{ArgValue, StrLit};
use crate::diagnostic::Diagnostic;
use crate::suggest::did_you_mean;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Read,
    Write,
}

const FILE_SCHEMES: [&str; 5] = ["csv", "jsonl", "json", "parquet", "arrow"];
const LATER_SCHEMES: [&str; 5] = ["postgres", "nats", "s3", "kafka", "http"];

/// Parses `SCHEME://PATH`; reports what is wrong with it.
pub fn parse_endpoint(
    lit: &StrLit,
    direction: Direction,
    format_option: Option<&ArgValue>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Endpoint> {
    let uri = lit.value.as_str();
    let Some((scheme, path)) = uri.split_once("://") else {
        diagnostics.push(
            Diagnostic::error(lit.span, format!("`{uri}` is not a URI"))
                .expected("`SCHEME://PATH`, like `csv://data/orders.csv`")
                .help_opt(guess_scheme(uri)),
        );
        return None;
    };
    let scheme_span = lit.sub_span(0, scheme.len());
    match scheme {
        "stdin" | "stdout" => {
            stream_endpoint(lit, scheme, path, direction, format_option, diagnostics)
        }
        _ if FILE_SCHEMES.contains(&scheme) => {
            let format = match scheme {
                "csv" => DataFormat::Csv,
                "jsonl" | "json" => DataFormat::Jsonl,
                "parquet" => DataFormat::Parquet,
                _ => DataFormat::Arrow,
            };
            if path.ends_with('/') {
                diagnostics.push(
                    Diagnostic::error(lit.span, format!("`{uri}` names a folder, not a file"))
                        .expected(format!(
                            "a file's path, like `{scheme}://{path}input.{}`",
                            format.as_str()
                        )),
                );
                return None;
            }
            if path.is_empty() || path.contains('\0') {
                diagnostics.push(
                    Diagnostic::error(lit.span, format!("`{uri}` names no file")).expected(
                        format!(
                            "a path after `{scheme}://`, like `{scheme}://data/input.{}`",
                            format.as_str()
                        ),
                    ),
                );
                return None;
            }
            Some(Endpoint {
                uri: format!("{}://{path}", format.as_str()),
                format,
                location: Location::File {
                    path: path.to_owned(),
                },
            })
        }
        _ if LATER_SCHEMES.contains(&scheme) => {
            diagnostics.push(
                Diagnostic::error(scheme_span, format!("`{scheme}://` is not supported yet"))
                    .expected(format!("one of {}", backticked(&all_schemes()))),
            );
            None
        }
        _ => {
            diagnostics.push(
                Diagnostic::error(scheme_span, format!("unknown URI scheme `{scheme}`"))
                    .expected(format!("one of {}", backticked(&all_schemes())))
                    .help_opt(did_you_mean(scheme, all_schemes())),
            );
            None
        }
    }
}

fn all_schemes() -> Vec<&'static str> {
    let mut schemes = FILE_SCHEMES.to_vec();
    schemes.extend(["stdin", "stdout"]);
    schemes
}

fn guess_scheme(uri: &str) -> Option<String> {
    // `csv:data/x.csv` or `csv:/data/x.csv`: the scheme is there, its `//`
    // is not.
    if let Some((scheme, path)) = uri.split_once(':')
        && (FILE_SCHEMES.contains(&scheme) || matches!(scheme, "stdin" | "stdout"))
    {
        return Some(format!("write `{scheme}://{path}`"));
    }
    let extension = uri.rsplit('.').next()?;
    let scheme = match extension {
        "csv" | "gz" | "zst" => "csv",
        "jsonl" | "json" | "ndjson" => "jsonl",
        "parquet" => "parquet",
        "arrow" | "ipc" => "arrow",
        _ => return None,
    };
    Some(format!("write `{scheme}://{uri}`"))
}

fn stream_endpoint(
    lit: &StrLit,
    scheme: &str,
    path: &str,
    direction: Direction,
    format_option: Option<&ArgValue>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Endpoint> {
    let (location, wrong) = match (scheme, direction) {
        ("stdin", Direction::Read) => (Location::Stdin, None),
        ("stdout", Direction::Write) => (Location::Stdout, None),
        ("stdin", Direction::Write) => (
            Location::Stdin,
            Some("`stdin://` can only be read; write to `stdout://`"),
        ),
        _ => (
            Location::Stdout,
            Some("`stdout://` can only be written; read from `stdin://`"),
        ),
    };
    if let Some(message) = wrong {
        diagnostics.push(Diagnostic::error(lit.span, message).expected("a file URI here"));
        return None;
    }
    if !path.is_empty() {
        diagnostics.push(
            Diagnostic::error(lit.span, format!("`{scheme}://` takes no path")).expected(format!(
                "`{scheme}://` with `format=\"jsonl\"` or `format=\"csv\"`"
            )),
        );
        return None;
    }
    let format = match format_option.map(value_text) {
        None | Some("jsonl" | "json") => DataFormat::Jsonl,
        Some("csv") => DataFormat::Csv,
        Some("arrow") => DataFormat::Arrow,
        Some(other) => {
            let span = format_option.map_or(lit.span, ArgValue::span);
            diagnostics.push(
                Diagnostic::error(span, format!("unknown stream format `{other}`"))
                    .expected("`jsonl`, `csv` or `arrow`"),
            );
            return None;
        }
    };
    Some(Endpoint {
        uri: format!("{scheme}://"),
        format,
        location,
    })
}

const CSV_READ: [&str; 6] = [
    "delimiter",
    "header",
    "quote",
    "escape",
    "compression",
    "encoding",
];
const CSV_WRITE: [&str; 5] = ["delimiter", "header", "quote", "escape", "compression"];
const JSONL_OPTIONS: [&str; 1] = ["compression"];
const PARQUET_WRITE: [&str; 2] = ["compression", "row_group_size"];

/// The format options an endpoint accepts.
pub fn format_option_keys(endpoint: &Endpoint, direction: Direction) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = match (endpoint.format, direction) {
        (DataFormat::Csv, Direction::Read) => CSV_READ.to_vec(),
        (DataFormat::Csv, Direction::Write) => CSV_WRITE.to_vec(),
        (DataFormat::Jsonl, _) => JSONL_OPTIONS.to_vec(),
        (DataFormat::Parquet, Direction::Write) => PARQUET_WRITE.to_vec(),
        (DataFormat::Parquet | DataFormat::Arrow, _) => Vec::new(),
    };
    if !matches!(endpoint.location, Location::File { .. }) {
        keys.retain(|k| *k != "compression");
        keys.push("format");
    }
    keys
}

/// Checks and collects the format options present among `keys`.
pub fn read_options(
    args: &Args<'_>,
    endpoint: &Endpoint,
    keys: &[&str],
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeMap<String, OptionValue> {
    let mut options = BTreeMap::new();
    for key in keys {
        let Some(value) = args.get(key) else { continue };
        let text = value_text(value);
        let parsed = match *key {
            // The CSV reader and writer split on bytes: one ASCII character.
            "delimiter" | "quote" | "escape" => single_char(text)
                .filter(char::is_ascii)
                .map(|c| OptionValue::Text(c.to_string()))
                .ok_or("a single ASCII character, like `\";\"` or `\"\\t\"`"),
            "header" => match text {
                "true" => Ok(OptionValue::Flag(true)),
                "false" => Ok(OptionValue::Flag(false)),
                _ => Err("`true` or `false`"),
            },
            "compression" => compression(endpoint.format, text),
            "encoding" => match text.to_ascii_lowercase().as_str() {
                "utf-8" | "utf8" => Ok(OptionValue::Text("utf-8".to_owned())),
                _ => Err("`utf-8` (with or without a BOM); other encodings are not read"),
            },
            "row_group_size" => match text.parse::<i64>() {
                Ok(n) if n >= 1 => Ok(OptionValue::Integer(n)),
                _ => Err("a whole number of rows of at least 1"),
            },
            // `format` for stdin/stdout was read with the endpoint.
            _ => Ok(OptionValue::Text(text.to_owned())),
        };
        match parsed {
            Ok(value) => {
                options.insert((*key).to_owned(), value);
            }
            Err(expected) => diagnostics.push(
                Diagnostic::error(value.span(), format!("`{text}` is not a valid `{key}`"))
                    .expected(expected),
            ),
        }
    }
    if endpoint.format == DataFormat::Csv {
        check_csv_dialect(args, &options, diagnostics);
    }
    options
}

/// Refuses a CSV dialect that cannot be read back: a line end as the
/// delimiter, quote or escape, or a delimiter that is also the quote or
/// the escape (every row would split where it should not). The escape
/// may be the quote: that is CSV's doubled quote.
fn check_csv_dialect(
    args: &Args<'_>,
    options: &BTreeMap<String, OptionValue>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let given = |key: &str| match options.get(key) {
        Some(OptionValue::Text(text)) => text.chars().next(),
        _ => None,
    };
    let delimiter = given("delimiter").unwrap_or(',');
    let roles = [
        ("delimiter", Some(delimiter)),
        ("quote", Some(given("quote").unwrap_or('"'))),
        ("escape", given("escape")),
    ];
    for (key, character) in roles {
        if matches!(character, Some('\n' | '\r'))
            && let Some(value) = args.get(key)
        {
            diagnostics.push(
                Diagnostic::error(
                    value.span(),
                    format!("a line end cannot be the CSV `{key}`"),
                )
                .expected("a character that is not `\\n` or `\\r`"),
            );
        }
    }
    for (key, character) in &roles[1..] {
        if *character == Some(delimiter) {
            let at = args.get(key).or_else(|| args.get("delimiter"));
            if let Some(value) = at {
                diagnostics.push(
                    Diagnostic::error(
                        value.span(),
                        format!("the CSV `{key}` is the delimiter, `{delimiter}`"),
                    )
                    .expected("a delimiter that is neither the quote nor the escape"),
                );
            }
        }
    }
}

fn single_char(text: &str) -> Option<char> {
    let mut chars = text.chars();
    let c = chars.next()?;
    chars.next().is_none().then_some(c)
}

fn compression(format: DataFormat, text: &str) -> Result<OptionValue, &'static str> {
    let allowed: &[&str] = match format {
        DataFormat::Parquet => &["snappy", "zstd", "gzip", "lz4", "none"],
        _ => &["auto", "gzip", "zstd", "none"],
    };
    if allowed.contains(&text) || (format == DataFormat::Parquet && parquet_level(text)) {
        Ok(OptionValue::Text(text.to_owned()))
    } else if format == DataFormat::Parquet {
        Err("one of `snappy`, `zstd`, `zstd(1..22)`, `gzip`, `gzip(0..9)`, `lz4`, `none`")
    } else {
        Err("one of `auto` (by file extension), `gzip`, `zstd`, `none`")
    }
}

/// `zstd(LEVEL)` with LEVEL 1 to 22, or `gzip(LEVEL)` with LEVEL 0 to 9.
fn parquet_level(text: &str) -> bool {
    let level = |name: &str| -> Option<u32> {
        text.strip_prefix(name)?
            .strip_prefix('(')?
            .strip_suffix(')')?
            .trim()
            .parse()
            .ok()
    };
    level("zstd").is_some_and(|n| (1..=22).contains(&n)) || level("gzip").is_some_and(|n| n <= 9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;

    fn lit(text: &str) -> StrLit {
        StrLit {
            value: text.to_owned(),
            span: Span::new(0, text.len() + 2),
            verbatim: true,
        }
    }

    #[test]
    fn parses_file_and_stream_uris() {
        let mut d = Vec::new();
        let e = parse_endpoint(&lit("json://out/a.json"), Direction::Write, None, &mut d).unwrap();
        assert_eq!(e.uri, "jsonl://out/a.json");
        assert_eq!(e.format, DataFormat::Jsonl);
        let e = parse_endpoint(&lit("stdin://"), Direction::Read, None, &mut d).unwrap();
        assert_eq!(e.location, Location::Stdin);
        assert!(d.is_empty());
    }

    #[test]
    fn parquet_compression_takes_a_level() {
        assert!(compression(DataFormat::Parquet, "zstd(3)").is_ok());
        assert!(compression(DataFormat::Parquet, "gzip(9)").is_ok());
        assert!(compression(DataFormat::Parquet, "zstd(23)").is_err());
        assert!(compression(DataFormat::Parquet, "zstd(").is_err());
        assert!(compression(DataFormat::Csv, "zstd(3)").is_err());
    }

    #[test]
    fn reports_bad_uris() {
        for (uri, direction, message) in [
            ("data/orders.csv", Direction::Read, "is not a URI"),
            ("cvs://a.csv", Direction::Read, "unknown URI scheme `cvs`"),
            ("csv://", Direction::Read, "names no file"),
            ("s3://bucket/x", Direction::Read, "not supported yet"),
            ("stdout://", Direction::Read, "can only be written"),
            ("stdin://x", Direction::Read, "takes no path"),
        ] {
            let mut d = Vec::new();
            assert!(
                parse_endpoint(&lit(uri), direction, None, &mut d).is_none(),
                "{uri}"
            );
            assert!(d[0].message.contains(message), "{uri}: {}", d[0].message);
        }
    }
}
