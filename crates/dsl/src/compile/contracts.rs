//! Contracts loaded once per compile: many scenarios in one file usually
//! name the same contract, and reading, schema-validating and converting it
//! again for each was most of `runi check`'s time on large files.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use runink_contract::Contract;

use crate::loader::Loader;

/// Why a contract file could not be used.
#[derive(Debug, Clone)]
pub enum LoadFailure {
    Unreadable(String),
    Invalid(String),
}

/// Loaded contracts by resolved path, for the length of one compile. Its
/// size is bounded by the number of distinct contract paths in the file.
#[derive(Default)]
pub struct ContractCache {
    loaded: RefCell<HashMap<PathBuf, Result<Rc<Contract>, LoadFailure>>>,
}

impl ContractCache {
    pub fn load(&self, path: &Path, loader: &dyn Loader) -> Result<Rc<Contract>, LoadFailure> {
        if let Some(found) = self.loaded.borrow().get(path) {
            return found.clone();
        }
        let result = match loader.read_to_string(path) {
            Err(error) => Err(LoadFailure::Unreadable(error.to_string())),
            Ok(text) => Contract::from_yaml(&text)
                .map(Rc::new)
                .map_err(|e| LoadFailure::Invalid(e.to_string())),
        };
        self.loaded
            .borrow_mut()
            .insert(path.to_owned(), result.clone());
        result
    }
}
