//! Named steps: a step name that is not built in is looked up as a file in
//! `steps/` beside the scenario, then in each folder of `$RUNINK_STEPS_PATH`.

use std::path::{Path, PathBuf};

use runink_model::Resources;

use crate::loader::Loader;

/// What a named step's file says.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Sql { path: PathBuf, text: String },
    Executable { path: PathBuf, bytes: Vec<u8> },
    Manifest { path: PathBuf, text: String },
}

impl Found {
    pub fn path(&self) -> &Path {
        match self {
            Found::Sql { path, .. }
            | Found::Executable { path, .. }
            | Found::Manifest { path, .. } => path,
        }
    }
}

/// The `NAME.toml` form of an exec step.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub cmd: String,
    pub format: Option<String>,
    #[serde(default)]
    pub network: bool,
    pub requires: Option<ManifestResources>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestResources {
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub gpu: Option<u32>,
    pub pids: Option<u32>,
}

impl ManifestResources {
    /// The limits, held to what `@requires` accepts: a slice cannot start
    /// with no pids or under `SLICE_MEMORY_BYTES_MIN` of memory.
    pub fn to_resources(&self) -> Result<Resources, runink_model::ParseQuantityError> {
        let memory_bytes = self
            .memory
            .as_deref()
            .map(runink_model::parse_memory_bytes)
            .transpose()?;
        if let (Some(bytes), Some(text)) = (memory_bytes, &self.memory)
            && bytes < runink_model::SLICE_MEMORY_BYTES_MIN
        {
            return Err(runink_model::ParseQuantityError {
                text: text.clone(),
                what: "memory limit",
                expected: "at least `4Mi`",
            });
        }
        let pids_max = self
            .pids
            .map(|pids| runink_model::parse_pids_limit(&pids.to_string()))
            .transpose()?;
        Ok(Resources {
            cpu_millis: self
                .cpu
                .as_deref()
                .map(runink_model::parse_cpu_millis)
                .transpose()?,
            memory_bytes,
            gpus: self.gpu,
            pids_max,
        })
    }
}

/// The folders searched, in order.
pub fn search_folders(base_dir: &Path, steps_path: &[PathBuf]) -> Vec<PathBuf> {
    let mut folders = vec![base_dir.join("steps")];
    folders.extend(steps_path.iter().cloned());
    folders
}

/// Looks `name` up; the first folder holding any of its forms wins.
pub fn find(name: &str, folders: &[PathBuf], loader: &dyn Loader) -> Option<Result<Found, String>> {
    for folder in folders {
        let sql = folder.join(format!("{name}.sql"));
        if loader.is_file(&sql) {
            return Some(
                loader
                    .read_to_string(&sql)
                    .map(|text| Found::Sql {
                        path: sql.clone(),
                        text,
                    })
                    .map_err(|e| format!("cannot read `{}`: {e}", sql.display())),
            );
        }
        let executable = folder.join(name);
        if loader.is_file(&executable) {
            if !loader.is_executable(&executable) {
                return Some(Err(format!(
                    "`{}` exists but is not executable; run `chmod +x {}`",
                    executable.display(),
                    executable.display()
                )));
            }
            return Some(
                loader
                    .read_bytes(&executable)
                    .map(|bytes| Found::Executable {
                        path: executable.clone(),
                        bytes,
                    })
                    .map_err(|e| format!("cannot read `{}`: {e}", executable.display())),
            );
        }
        let manifest = folder.join(format!("{name}.toml"));
        if loader.is_file(&manifest) {
            return Some(
                loader
                    .read_to_string(&manifest)
                    .map(|text| Found::Manifest {
                        path: manifest.clone(),
                        text,
                    })
                    .map_err(|e| format!("cannot read `{}`: {e}", manifest.display())),
            );
        }
    }
    None
}

/// Names of every named step in `folders`, for "did you mean" hints.
pub fn known_names(folders: &[PathBuf], loader: &dyn Loader) -> Vec<String> {
    let mut names: Vec<String> = folders
        .iter()
        .flat_map(|folder| loader.list_dir(folder))
        .map(|file| {
            file.strip_suffix(".sql")
                .or_else(|| file.strip_suffix(".toml"))
                .unwrap_or(&file)
                .to_owned()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}
