//! How `runi` talks to people and machines: colour only on a terminal and
//! never with NO_COLOR, errors as `error: ...` with their causes, logs on
//! stderr at the level `-q`/`-v` ask for.

use std::io::IsTerminal;

use runink_dsl::Colour;
use tracing::{Level, Metadata};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::cli::{ColourChoice, GlobalOptions};

/// Whether text for stderr carries colour.
pub fn stderr_colour(global: &GlobalOptions) -> Colour {
    let enabled = match global.color {
        ColourChoice::Always => true,
        ColourChoice::Never => false,
        ColourChoice::Auto => {
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    if enabled {
        Colour::Always
    } else {
        Colour::Never
    }
}

/// The crates whose logs `-v` and `-vv` show.
const OUR_LOG_TARGETS: [&str; 6] = [
    "runink_engine",
    "runi",
    "runink_dsl",
    "runink_plan",
    "runink_contract",
    "runink_model",
];

/// Whether log lines carry the time: a server's do (`runi barn start`
/// runs for days, and its lines are read beside other nodes' and clients'),
/// a command's do not (its lines are read as it runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTime {
    Stamped,
    Unstamped,
}

pub fn init_logging(global: &GlobalOptions, time: LogTime) {
    // -v and -vv open up Runink's own logs; -vvv everything, dependencies too.
    let ours = |level: &str| {
        let targets: Vec<String> = OUR_LOG_TARGETS
            .iter()
            .map(|t| format!("{t}={level}"))
            .collect();
        format!("warn,{}", targets.join(","))
    };
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error".to_owned(),
        (false, 0) => "warn".to_owned(),
        (false, 1) => ours("info"),
        (false, 2) => ours("debug"),
        (false, _) => "trace".to_owned(),
    };
    let filter = std::env::var("RUNINK_LOG").unwrap_or(level);
    let ansi = stderr_colour(global) == Colour::Always;
    let lines = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false);
    let not_expected = filter_fn(|meta| !is_expected_initialize_refusal(meta));
    let _ = match time {
        // UTC, to the microsecond (RFC 3339).
        LogTime::Stamped => lines.finish().with(not_expected).try_init(),
        LogTime::Unstamped => lines.without_time().finish().with(not_expected).try_init(),
    };
}

/// openraft's ERROR "Can not initialize" (with the node's `last_log_id`
/// and `vote`): every node of a new cluster asks to initialize it, and one
/// that another node's vote reached first is refused, which the Barn takes
/// as done (`form_or_join`). On a healthy start it is no error for anyone
/// to act on, so it is not shown.
fn is_expected_initialize_refusal(meta: &Metadata<'_>) -> bool {
    meta.is_event()
        && *meta.level() == Level::ERROR
        && meta.target() == "openraft::engine::engine_impl"
        && meta.fields().field("last_log_id").is_some()
        && meta.fields().field("vote").is_some()
}

/// The word `error` for stderr, red when stderr is coloured.
pub fn error_label(global: &GlobalOptions) -> &'static str {
    match stderr_colour(global) {
        Colour::Always => "\x1b[1;31merror\x1b[0m",
        Colour::Never => "error",
    }
}

/// `error: what happened` then one `caused by:` line per cause.
pub fn print_error(global: &GlobalOptions, error: &anyhow::Error) {
    eprintln!("{}: {error}", error_label(global));
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    outln!("{text}");
    Ok(())
}

/// Prints a value as JSON on one line of stdout: for commands that print
/// one value per item (`run`: one per scenario), so that the output is
/// JSON lines.
pub fn print_json_line(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string(value)?;
    outln!("{text}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tracing::{Event, Subscriber};
    use tracing_subscriber::filter::filter_fn;
    use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

    /// Counts the events that reach it.
    struct Seen(Arc<AtomicUsize>);

    impl<S: Subscriber> Layer<S> for Seen {
        fn on_event(&self, _: &Event<'_>, _: Context<'_, S>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn shown(emit: impl FnOnce()) -> usize {
        let seen = Arc::new(AtomicUsize::new(0));
        let subscriber = tracing_subscriber::registry()
            .with(filter_fn(|meta| {
                !super::is_expected_initialize_refusal(meta)
            }))
            .with(Seen(Arc::clone(&seen)));
        tracing::subscriber::with_default(subscriber, emit);
        seen.load(Ordering::SeqCst)
    }

    #[test]
    fn only_openraft_refusing_a_second_initialize_is_hidden() {
        let refusal = || {
            tracing::error!(
                target: "openraft::engine::engine_impl",
                last_log_id = "None",
                vote = "T1-N3:uncommitted",
                "Can not initialize"
            );
        };
        assert_eq!(shown(refusal), 0);
        let other_openraft_error = || {
            tracing::error!(target: "openraft::engine::engine_impl", "the log is damaged");
        };
        assert_eq!(shown(other_openraft_error), 1);
        let same_fields_lower_level = || {
            tracing::warn!(
                target: "openraft::engine::engine_impl",
                last_log_id = "None",
                vote = "T1",
                "Can not initialize"
            );
        };
        assert_eq!(shown(same_fields_lower_level), 1);
        assert_eq!(shown(|| tracing::error!("a runi error")), 1);
    }
}
