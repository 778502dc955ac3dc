//! A scenario as it travels to a cluster: the submitter compiles it while
//! [`RecordingLoader`] keeps the text of every file the compiler reads
//! (contracts, named steps' SQL and manifests); the agent that runs it
//! compiles the same text again with [`BundleLoader`], which answers from
//! those texts, and checks that it gets the same `dag_hash`.
//!
//! Programs (an `exec` step's executable) and data are not carried: they
//! are read where the run runs, at the same absolute paths. A program that
//! differs there changes the `dag_hash`, and the agent refuses the run.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::Mutex;

use runink_dsl::{FsLoader, Loader};

/// The real file system, remembering the texts the compiler read.
#[derive(Debug, Default)]
pub struct RecordingLoader {
    texts: Mutex<BTreeMap<String, String>>,
}

impl RecordingLoader {
    /// The texts read, by path.
    pub fn into_texts(self) -> BTreeMap<String, String> {
        self.texts.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

impl Loader for RecordingLoader {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        let text = FsLoader.read_to_string(path)?;
        let mut texts = self.texts.lock().unwrap_or_else(|e| e.into_inner());
        texts.insert(path.display().to_string(), text.clone());
        Ok(text)
    }

    fn read_bytes(&self, path: &Path) -> io::Result<Vec<u8>> {
        FsLoader.read_bytes(path)
    }

    fn is_file(&self, path: &Path) -> bool {
        FsLoader.is_file(path)
    }

    fn is_executable(&self, path: &Path) -> bool {
        FsLoader.is_executable(path)
    }

    fn list_dir(&self, path: &Path) -> Vec<String> {
        FsLoader.list_dir(path)
    }
}

/// The texts of a bundle first, then the file system of this machine.
#[derive(Debug)]
pub struct BundleLoader<'a> {
    texts: &'a BTreeMap<String, String>,
}

impl<'a> BundleLoader<'a> {
    pub fn new(texts: &'a BTreeMap<String, String>) -> Self {
        Self { texts }
    }
}

impl Loader for BundleLoader<'_> {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        self.texts
            .get(&path.display().to_string())
            .cloned()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    "the submitter did not read this file, so the run did not bring it",
                )
            })
    }

    fn read_bytes(&self, path: &Path) -> io::Result<Vec<u8>> {
        FsLoader.read_bytes(path)
    }

    fn is_file(&self, path: &Path) -> bool {
        self.texts.contains_key(&path.display().to_string()) || FsLoader.is_file(path)
    }

    fn is_executable(&self, path: &Path) -> bool {
        FsLoader.is_executable(path)
    }

    fn list_dir(&self, path: &Path) -> Vec<String> {
        let mut names = FsLoader.list_dir(path);
        for file in self.texts.keys() {
            let file = Path::new(file);
            if file.parent() == Some(path)
                && let Some(name) = file.file_name().and_then(|n| n.to_str())
            {
                names.push(name.to_owned());
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_recorder_read_the_bundle_answers_without_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let contract = dir.path().join("c.yaml");
        std::fs::write(&contract, "apiVersion: v3.0.2\n").unwrap();
        let recorder = RecordingLoader::default();
        assert_eq!(
            recorder.read_to_string(&contract).unwrap(),
            "apiVersion: v3.0.2\n"
        );
        let texts = recorder.into_texts();
        std::fs::remove_file(&contract).unwrap();

        let bundle = BundleLoader::new(&texts);
        assert!(bundle.is_file(&contract));
        assert_eq!(
            bundle.read_to_string(&contract).unwrap(),
            "apiVersion: v3.0.2\n"
        );
        assert_eq!(bundle.list_dir(dir.path()), ["c.yaml"]);
        let other = dir.path().join("other.yaml");
        assert!(!bundle.is_file(&other));
        assert_eq!(
            bundle.read_to_string(&other).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
