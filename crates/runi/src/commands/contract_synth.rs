//! `runi contract synth FILE --rows N --format F`: rows made from a
//! contract. With `--invalid-ratio`, that share of rows each break exactly
//! one rule, listed in a side file (JSON Lines: row, field, rule, value).
//! Files are written atomically; on any error nothing is left behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use runink_contract::{SynthOptions, Synthesizer};
use runink_engine::{DataWriter, Limits};
use runink_plan::DataFormat;

use super::contract::{data_format, load_valid, pick_object};
use crate::cli::{ContractSynthArgs, GlobalOptions};
use crate::exit::{Exit, Failure, Outcome};
use crate::run_id::new_run_id;

pub fn synth(global: &GlobalOptions, args: &ContractSynthArgs) -> Outcome {
    let contract = load_valid(&args.file)?;
    let object = pick_object(&contract, &args.file, args.object.as_deref())?;
    let format = data_format(Path::new(""), Some(args.format))?;
    if args.out.is_none() && format == DataFormat::Parquet {
        return Err(Failure::usage(anyhow::anyhow!(
            "Parquet cannot go to stdout; name a file with `--out`"
        )));
    }
    let broken_path = broken_path(args)?;
    let limits = Limits {
        batch_rows_max: args.batch_rows_max as usize,
        ..Limits::default()
    };
    let mut synth = Synthesizer::new(
        &object,
        SynthOptions {
            rows: args.rows,
            invalid_ratio: args.invalid_ratio,
            seed: args.seed,
            batch_rows_max: limits.batch_rows_max,
            unique_keys_max: limits.unique_keys_max,
        },
    )
    .map_err(Failure::usage)?;
    let typed = format == DataFormat::Parquet;
    let schema = if typed {
        synth.typed_schema()
    } else {
        synth.schema()
    };
    let run_id = new_run_id();
    let mut writer = DataWriter::create(args.out.as_deref(), format, &schema, &run_id, &limits)
        .map_err(Failure::infra)?;
    let mut broken = match &broken_path {
        Some(path) => Some(BrokenFile::create(path).map_err(Failure::infra)?),
        None => None,
    };
    let mut broken_rows = 0u64;
    while let Some(batch) = synth.next_batch().map_err(Failure::usage)? {
        let data = if typed {
            synth
                .typed(&batch.batch)
                .context("typing synthetic rows (this is a bug in Runink)")
                .map_err(Failure::infra)?
        } else {
            batch.batch
        };
        writer.write(&data).map_err(Failure::infra)?;
        broken_rows += batch.broken.len() as u64;
        if let Some(file) = broken.as_mut() {
            file.write(&batch.broken).map_err(Failure::infra)?;
        }
    }
    writer.finish().map_err(Failure::infra)?;
    if let Some(file) = broken {
        file.finish().map_err(Failure::infra)?;
    }
    if !global.quiet && args.out.is_some() {
        eprintln!(
            "synth: {} rows ({broken_rows} broken) to {}{}",
            args.rows,
            args.out
                .as_deref()
                .map(Path::display)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            broken_path
                .as_ref()
                .map(|p| format!(", broken rows listed in {}", p.display()))
                .unwrap_or_default()
        );
    }
    Ok(Exit::Ok)
}

/// Where the broken rows are listed: `--broken`, else beside `--out`.
/// Writing to stdout with broken rows needs `--broken`.
fn broken_path(args: &ContractSynthArgs) -> Result<Option<PathBuf>, Failure> {
    if args.invalid_ratio == 0.0 {
        return Ok(args.broken.clone());
    }
    match (&args.broken, &args.out) {
        (Some(path), _) => Ok(Some(path.clone())),
        (None, Some(out)) => {
            let mut name = out.as_os_str().to_owned();
            name.push(".broken.jsonl");
            Ok(Some(PathBuf::from(name)))
        }
        (None, None) => Err(Failure::usage(anyhow::anyhow!(
            "rows go to stdout; say where the list of broken rows goes with `--broken PATH`"
        ))),
    }
}

/// The side file, written under a temporary name and renamed at the end.
struct BrokenFile {
    file: tempfile::NamedTempFile,
    target: PathBuf,
    line: Vec<u8>,
}

impl BrokenFile {
    fn create(target: &Path) -> anyhow::Result<Self> {
        let folder = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let file = tempfile::NamedTempFile::new_in(folder)
            .with_context(|| format!("cannot create a file in `{}`", folder.display()))?;
        Ok(Self {
            file,
            target: target.to_path_buf(),
            line: Vec::new(),
        })
    }

    fn write(&mut self, rows: &[runink_contract::BrokenRow]) -> anyhow::Result<()> {
        for row in rows {
            self.line.clear();
            serde_json::to_writer(&mut self.line, row)?;
            self.line.push(b'\n');
            self.file
                .write_all(&self.line)
                .with_context(|| format!("cannot write `{}`", self.target.display()))?;
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        self.file.as_file().sync_all()?;
        self.file
            .persist(&self.target)
            .with_context(|| format!("cannot write `{}`", self.target.display()))?;
        Ok(())
    }
}
