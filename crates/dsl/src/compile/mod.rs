//! The compiler: a parsed scenario file in, one validated `Plan` per
//! scenario out, with every problem found reported as a diagnostic. It reads
//! only through a `Loader` and never touches data.

mod args;
mod contracts;
mod cron;
mod endpoint;
mod io;
mod outline;
mod placement;
mod registry;
mod scenario;
mod schema;
mod slices;
mod sql;
mod steps;
mod tags;

use std::path::{Path, PathBuf};

use runink_plan::Plan;

use crate::diagnostic::Diagnostic;
use crate::loader::Loader;
use crate::parse;
use crate::span::LineIndex;

pub use steps::BUILTIN_STEPS;
pub use tags::KNOWN_TAGS;

/// Settings that come from outside the scenario file.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Extra folders for named steps (`$RUNINK_STEPS_PATH`), searched after `steps/`.
    pub steps_path: Vec<PathBuf>,
}

#[derive(Debug)]
pub struct Compilation {
    /// One plan per scenario that compiled without errors.
    pub plans: Vec<Plan>,
    /// Every error and warning, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// What every part of the compiler may read.
pub(crate) struct Context<'a> {
    pub file: &'a str,
    pub base_dir: &'a Path,
    pub loader: &'a dyn Loader,
    pub options: &'a CompileOptions,
    pub lines: LineIndex<'a>,
    pub contracts: contracts::ContractCache,
}

/// Compiles `source`, the text of the scenario file `file` in folder `base_dir`.
pub fn compile(
    file: &str,
    source: &str,
    base_dir: &Path,
    loader: &dyn Loader,
    options: &CompileOptions,
) -> Compilation {
    let (doc, mut diagnostics) = parse(source);
    let context = Context {
        file,
        base_dir,
        loader,
        options,
        lines: LineIndex::new(source),
        contracts: contracts::ContractCache::default(),
    };
    let outline = outline::outline(&doc, &mut diagnostics);
    let mut plans = Vec::new();
    for draft in &outline.scenarios {
        let errors_before = diagnostics.iter().filter(|d| d.is_error()).count();
        let plan = scenario::compile_scenario(&context, &outline.feature, draft, &mut diagnostics);
        let errors_after = diagnostics.iter().filter(|d| d.is_error()).count();
        if let (Some(plan), true) = (plan, errors_after == errors_before) {
            plans.push((plan, draft.name.span));
        }
    }
    io::check_default_dlqs_distinct(&plans, &mut diagnostics);
    io::check_outputs_distinct_across_scenarios(&plans, &mut diagnostics);
    io::check_golden_dirs_distinct(&plans, &mut diagnostics);
    io::check_outputs_spare_definitions(&plans, file, &mut diagnostics);
    let plans = plans.into_iter().map(|(plan, _)| plan).collect();
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    diagnostics.dedup();
    Compilation { plans, diagnostics }
}
