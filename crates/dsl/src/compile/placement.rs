//! Scenario settings that are not pipeline steps: `@requires`, `@affinity`,
//! `@window`, `@schedule`.

use runink_model::{
    DurationSpec, Resources, SLICE_MEMORY_BYTES_MIN, parse_count, parse_cpu_millis,
    parse_memory_bytes, parse_pids_limit,
};
use runink_plan::{Affinity, Window};

use super::args::{Args, value_text};
use crate::diagnostic::Diagnostic;

pub fn requires(args: &Args<'_>, diagnostics: &mut Vec<Diagnostic>) -> Resources {
    args.no_positional(
        "`@requires(cpu=\"2\", memory=\"512Mi\", gpu=1, pids=256)`",
        diagnostics,
    );
    args.only_keys(&["cpu", "memory", "gpu", "pids"], None, diagnostics);
    let mut resources = Resources::default();
    for (key, value) in &args.named {
        let text = value_text(value);
        let parsed = match key.value.as_str() {
            "cpu" => parse_cpu_millis(text).map(|v| resources.cpu_millis = Some(v)),
            "memory" => match parse_memory_bytes(text) {
                Ok(bytes) if bytes < SLICE_MEMORY_BYTES_MIN => {
                    diagnostics.push(
                        Diagnostic::error(
                            value.span(),
                            format!("`{text}` is less memory than a slice can start with"),
                        )
                        .expected(format!("at least `{}Mi`", SLICE_MEMORY_BYTES_MIN >> 20)),
                    );
                    Ok(())
                }
                parsed => parsed.map(|v| resources.memory_bytes = Some(v)),
            },
            "gpu" => parse_count(text, "gpu count").map(|v| resources.gpus = Some(v)),
            "pids" => parse_pids_limit(text).map(|v| resources.pids_max = Some(v)),
            _ => Ok(()),
        };
        if let Err(error) = parsed {
            diagnostics.push(
                Diagnostic::error(
                    value.span(),
                    format!("`{text}` is not a valid {}", error.what),
                )
                .expected(error.expected),
            );
        }
    }
    resources
}

pub fn affinity(args: &Args<'_>, diagnostics: &mut Vec<Diagnostic>) -> Affinity {
    args.no_positional(
        "`@affinity(label=\"gpu\", colocate_with=\"step:NAME\")`",
        diagnostics,
    );
    args.only_keys(&["label", "colocate_with"], None, diagnostics);
    let label = args.get_str("label", diagnostics).map(|l| l.value.clone());
    let colocate_with = args.get_str("colocate_with", diagnostics).and_then(|c| {
        match c.value.strip_prefix("step:") {
            Some(step) if !step.is_empty() => Some(step.to_owned()),
            _ => {
                diagnostics.push(
                    Diagnostic::error(c.span, format!("`{}` does not name a step", c.value))
                        .expected("`step:NAME`, where NAME is a step's name or `name=`"),
                );
                None
            }
        }
    });
    Affinity {
        label,
        colocate_with,
    }
}

/// `5m`, `tumbling:5m`, `sliding:10m` + `every:2m`, `session:15m`.
pub fn parse_window(words: &[&str]) -> Result<Window, String> {
    const EXPECTED: &str = "`5m` (tumbling), `sliding:10m, every:2m` or `session:15m`";
    // What the caller shows after "expected": a phrase, not a sentence.
    let duration = |text: &str| {
        DurationSpec::parse(text).map_err(|_| {
            format!(
                "a duration where `{text}` is: a whole number above 0 and a unit, like `30s`, `5m`, `2h` or `1d`"
            )
        })
    };
    let window = match words {
        [size] => match size.split_once(':') {
            None => Window::Tumbling {
                size: duration(size)?,
            },
            Some(("tumbling", size)) => Window::Tumbling {
                size: duration(size)?,
            },
            Some(("session", gap)) => Window::Session {
                gap: duration(gap)?,
            },
            _ => return Err(EXPECTED.to_owned()),
        },
        [first, second] => match (first.split_once(':'), second.split_once(':')) {
            (Some(("sliding", size)), Some(("every", every))) => {
                let (size, every) = (duration(size)?, duration(every)?);
                if every.seconds > size.seconds {
                    return Err(
                        "a sliding window whose step (`every`) is at most its size".to_owned()
                    );
                }
                Window::Sliding { size, every }
            }
            _ => return Err(EXPECTED.to_owned()),
        },
        _ => return Err(EXPECTED.to_owned()),
    };
    Ok(window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse() {
        assert!(matches!(parse_window(&["5m"]), Ok(Window::Tumbling { .. })));
        assert!(matches!(
            parse_window(&["sliding:10m", "every:2m"]),
            Ok(Window::Sliding { .. })
        ));
        assert!(matches!(
            parse_window(&["session:15m"]),
            Ok(Window::Session { .. })
        ));
        assert!(parse_window(&["sliding:1m", "every:2m"]).is_err());
        assert!(parse_window(&["hopping:5m"]).is_err());
        assert!(parse_window(&[]).is_err());
    }
}
