//! Reading and compiling one scenario file for any command, and printing
//! its diagnostics.

use std::path::{Path, PathBuf};

use anyhow::Context;
use runink_dsl::diagnostic::{LocatedDiagnostic, locate, render};
use runink_dsl::{Compilation, CompileOptions, FsLoader, Loader, compile};

use crate::cli::GlobalOptions;
use crate::exit::Failure;
use crate::output::stderr_colour;

pub struct ScenarioFile {
    pub path: PathBuf,
    /// The path as shown in messages: as the user gave it.
    pub shown: String,
    pub source: String,
}

impl ScenarioFile {
    /// Reads `path`; a file that cannot be read is the user's to fix.
    pub fn read(path: &Path) -> Result<Self, Failure> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read scenario file `{}`", path.display()))
            .map_err(Failure::usage)?;
        let source = String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            let column = valid.len() - valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
            Failure::usage(anyhow::anyhow!(
                "{}:{line}:{column}: the scenario file is not UTF-8 text (byte {} of the file); save it as UTF-8",
                path.display(),
                valid.len() + 1
            ))
        })?;
        Ok(Self {
            path: path.to_owned(),
            shown: path.display().to_string(),
            source,
        })
    }

    pub fn base_dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        }
    }

    pub fn compile(&self) -> Compilation {
        self.compile_with(&FsLoader)
    }

    /// Compiles, reading the files the scenario names through `loader`.
    pub fn compile_with(&self, loader: &dyn Loader) -> Compilation {
        let options = compile_options();
        tracing::debug!(file = %self.shown, steps_path = ?options.steps_path, "compiling");
        let started = std::time::Instant::now();
        let compilation = compile(
            &self.shown,
            &self.source,
            &self.base_dir(),
            loader,
            &options,
        );
        tracing::info!(
            file = %self.shown,
            scenarios = compilation.plans.len(),
            diagnostics = compilation.diagnostics.len(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "compiled"
        );
        compilation
    }

    /// Prints every diagnostic to stderr in the rendered form.
    pub fn print_diagnostics(&self, global: &GlobalOptions, compilation: &Compilation) {
        let colour = stderr_colour(global);
        for diagnostic in &compilation.diagnostics {
            if global.quiet && !diagnostic.is_error() {
                continue;
            }
            eprint!("{}", render(&self.shown, &self.source, diagnostic, colour));
        }
    }

    pub fn located(&self, compilation: &Compilation) -> Vec<LocatedDiagnostic> {
        compilation
            .diagnostics
            .iter()
            .map(|d| locate(&self.shown, &self.source, d))
            .collect()
    }
}

/// `$RUNINK_STEPS_PATH`'s folders, in order.
pub fn steps_path() -> Vec<PathBuf> {
    compile_options().steps_path
}

fn compile_options() -> CompileOptions {
    let steps_path = std::env::var_os("RUNINK_STEPS_PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    CompileOptions { steps_path }
}

/// Compiles for commands that need plans: diagnostics go to stderr (or into
/// the JSON error), and any error ends the command with exit 2.
pub fn compile_or_fail(
    global: &GlobalOptions,
    path: &Path,
) -> Result<(ScenarioFile, Compilation), Failure> {
    let file = ScenarioFile::read(path)?;
    compile_file_or_fail(global, file, &FsLoader)
}

/// As [`compile_or_fail`], for a file already read, through `loader`.
pub fn compile_file_or_fail(
    global: &GlobalOptions,
    file: ScenarioFile,
    loader: &dyn Loader,
) -> Result<(ScenarioFile, Compilation), Failure> {
    let compilation = file.compile_with(loader);
    if global.json && compilation.has_errors() {
        let _ = crate::output::print_json(&serde_json::json!({
            "file": file.shown,
            "ok": false,
            "diagnostics": file.located(&compilation),
        }));
    } else {
        file.print_diagnostics(global, &compilation);
    }
    if compilation.has_errors() {
        let errors = compilation
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .count();
        return Err(Failure::usage(anyhow::anyhow!(
            "`{}` has {errors} error{}",
            file.shown,
            if errors == 1 { "" } else { "s" }
        )));
    }
    Ok((file, compilation))
}

/// The plans to act on: all, or the one named by `--scenario`.
pub fn select_plans(
    compilation: Compilation,
    scenario: Option<&str>,
    file: &ScenarioFile,
) -> Result<Vec<runink_plan::Plan>, Failure> {
    let Some(name) = scenario else {
        return Ok(compilation.plans);
    };
    let names: Vec<String> = compilation
        .plans
        .iter()
        .map(|p| format!("`{}`", p.scenario))
        .collect();
    let chosen: Vec<_> = compilation
        .plans
        .into_iter()
        .filter(|p| p.scenario == name)
        .collect();
    if chosen.is_empty() {
        return Err(Failure::usage(anyhow::anyhow!(
            "`{}` has no scenario named `{name}`; it has {}",
            file.shown,
            names.join(", ")
        )));
    }
    Ok(chosen)
}
