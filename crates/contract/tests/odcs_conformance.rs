//! Runink's verdict on every upstream ODCS example must match the upstream
//! JSON Schema's verdict for the example's declared `apiVersion`.
//!
//! The examples live in the shared conformance folder (`odcs/examples`, see
//! its README). The expected verdicts were computed once with Python
//! `jsonschema` 4.26.0 (`Draft201909Validator`, YAML read by PyYAML's
//! `SafeLoader` with the timestamp resolver removed so that dates stay
//! strings), each file against the schema of its own `apiVersion`: v3.0.0,
//! v3.0.1 and v3.0.2 their own, v3.1.x the v3.1.0 one. Three files on `main`
//! declare v3.0.2 but use v3.1.0 features; like the reference, we judge them
//! by what they declare, so they are invalid here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use runink_contract::{Contract, ContractError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Valid,
    /// Invalid, with the paths the reference validator reported.
    Invalid(&'static [&'static str]),
}

use Verdict::{Invalid, Valid};

/// File (relative to `odcs/examples`) → the reference validator's verdict.
const EXPECTED: [(&str, Verdict); 36] = [
    ("main/all/full-example.odcs.yaml", Valid),
    (
        "main/all/postgresql-adventureworks-contract.odcs.yaml",
        Valid,
    ),
    (
        "main/data-types/all-data-types.odcs.yaml",
        Invalid(&[
            "schema[0].properties[1].logicalTypeOptions.exclusiveMinimum",
            "schema[0].properties[2].logicalType",
            "schema[0].properties[3].logicalType",
            "schema[0].properties[4].logicalType",
            "schema[0].properties[6].logicalTypeOptions.exclusiveMaximum",
        ]),
    ),
    (
        "main/fundamentals/table-column-description.odcs.yaml",
        Valid,
    ),
    ("main/quality/column-accuracy.odcs.yaml", Valid),
    (
        "main/quality/column-completeness.odcs.yaml",
        Invalid(&["schema[0].properties[0].quality[0]"]),
    ),
    ("main/quality/column-custom.odcs.yaml", Valid),
    ("main/quality/column-validity.odcs.yaml", Valid),
    ("main/roles/service-and-operational-roles.odcs.yaml", Valid),
    ("main/schema/all-schema-types.odcs.yaml", Valid),
    ("main/schema/kafka-schema.odcs.yaml", Valid),
    ("main/schema/kafka-schemaregistry.odcs.yaml", Valid),
    ("main/schema/table-column.odcs.yaml", Valid),
    ("main/schema/table-columns-with-partition.odcs.yaml", Valid),
    ("main/server/azure-server.odcs.yaml", Valid),
    ("main/server/kafka-server.odcs.yaml", Valid),
    ("main/sla/database-table-sla.odcs.yaml", Valid),
    (
        "main/stakeholders/basic-four-dpo.odcs.yaml",
        Invalid(&["team"]),
    ),
    ("v3.0.2/all/full-example.odcs.yaml", Valid),
    (
        "v3.0.2/all/postgresql-adventureworks-contract.odcs.yaml",
        Valid,
    ),
    ("v3.0.2/data-types/all-data-types.odcs.yaml", Valid),
    (
        "v3.0.2/fundamentals/table-column-description.odcs.yaml",
        Valid,
    ),
    ("v3.0.2/quality/column-accuracy.odcs.yaml", Valid),
    ("v3.0.2/quality/column-completeness.odcs.yaml", Valid),
    ("v3.0.2/quality/column-custom.odcs.yaml", Valid),
    ("v3.0.2/quality/column-validity.odcs.yaml", Valid),
    (
        "v3.0.2/roles/service-and-operational-roles.odcs.yaml",
        Valid,
    ),
    ("v3.0.2/schema/all-schema-types.odcs.yaml", Valid),
    ("v3.0.2/schema/kafka-schema.odcs.yaml", Valid),
    ("v3.0.2/schema/kafka-schemaregistry.odcs.yaml", Valid),
    ("v3.0.2/schema/table-column.odcs.yaml", Valid),
    (
        "v3.0.2/schema/table-columns-with-partition.odcs.yaml",
        Valid,
    ),
    ("v3.0.2/server/azure-server.odcs.yaml", Valid),
    ("v3.0.2/server/kafka-server.odcs.yaml", Valid),
    ("v3.0.2/sla/database-table-sla.odcs.yaml", Valid),
    ("v3.0.2/stakeholders/basic-four-dpo.odcs.yaml", Valid),
];

fn examples_dir() -> PathBuf {
    let dir = Path::new(
        &std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"),
    )
    .join("../../../shared/conformance/odcs/examples");
    assert!(
        dir.is_dir(),
        "the ODCS conformance examples are missing: expected them at `{}` \
         (the shared folder beside the repository, e.g. /work/shared next to /work/main)",
        dir.display()
    );
    dir
}

/// Every `.yaml` file under `dir`, relative to it, with `/` separators.
fn yaml_files(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current)
            .unwrap_or_else(|e| panic!("cannot list `{}`: {e}", current.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "yaml") {
                let relative = path
                    .strip_prefix(dir)
                    .expect("entries lie under the folder");
                let parts: Vec<_> = relative.iter().map(|p| p.to_string_lossy()).collect();
                found.insert(parts.join("/"));
            }
        }
    }
    found
}

#[test]
fn the_table_covers_every_example() {
    let on_disk = yaml_files(&examples_dir());
    let in_table: BTreeSet<String> = EXPECTED.iter().map(|(f, _)| (*f).to_owned()).collect();
    assert_eq!(
        on_disk, in_table,
        "examples on disk and in the table differ"
    );
}

#[test]
fn verdicts_match_the_upstream_schema() {
    let dir = examples_dir();
    let mut mismatches = Vec::new();
    for (file, expected) in EXPECTED {
        let text = std::fs::read_to_string(dir.join(file))
            .unwrap_or_else(|e| panic!("cannot read `{file}`: {e}"));
        match (Contract::from_yaml(&text), expected) {
            (Ok(_), Valid) => {}
            (Err(ContractError::Invalid { violations, .. }), Invalid(paths)) => {
                let ours: BTreeSet<&str> = violations.iter().map(|v| v.path.as_str()).collect();
                let reference: BTreeSet<&str> = paths.iter().copied().collect();
                if ours != reference {
                    mismatches.push(format!(
                        "{file}: invalid as expected, but at {ours:?} instead of {reference:?}"
                    ));
                }
                for violation in &violations {
                    assert!(violation.line.is_some(), "{file}: {violation} has no line");
                }
            }
            (Ok(_), Invalid(_)) => mismatches.push(format!("{file}: accepted, expected invalid")),
            (Err(error), _) => mismatches.push(format!("{file}: {error}")),
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
