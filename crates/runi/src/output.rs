//! How `runi` talks to people and machines: colour only on a terminal and
//! never with NO_COLOR, errors as `error: ...` with their causes, logs on
//! stderr at the level `-q`/`-v` ask for.

use std::io::IsTerminal;

use runink_dsl::Colour;

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

pub fn init_logging(global: &GlobalOptions) {
    let level = if global.quiet {
        "error"
    } else {
        match global.verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = std::env::var("RUNINK_LOG").unwrap_or_else(|_| level.to_owned());
    let ansi = stderr_colour(global) == Colour::Always;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .without_time()
        .with_target(false)
        .try_init();
}

/// `error: what happened` then one `caused by:` line per cause.
pub fn print_error(global: &GlobalOptions, error: &anyhow::Error) {
    let colour = stderr_colour(global) == Colour::Always;
    let label = if colour {
        "\x1b[1;31merror\x1b[0m"
    } else {
        "error"
    };
    eprintln!("{label}: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    println!("{text}");
    Ok(())
}
