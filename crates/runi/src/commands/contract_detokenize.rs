//! `runi contract detokenize TOKEN...`: the values behind `tokenize`
//! tokens, with the herd's key from the local state folder.

use anyhow::Context;
use runink_contract::Masker;

use crate::cli::{ContractDetokenizeArgs, GlobalOptions};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::print_json;
use crate::state_dir::{mask_keys, state_dir};

pub fn detokenize(global: &GlobalOptions, args: &ContractDetokenizeArgs) -> Outcome {
    // A herd is a name, never a path into another folder's keys.
    runink_model::HerdName::new(&args.herd).map_err(|e| {
        Failure::usage(anyhow::anyhow!(
            "`--herd {}` is not a herd name: {e}",
            args.herd
        ))
    })?;
    let state = state_dir().map_err(Failure::infra)?;
    let keys_file = state.join("herds").join(&args.herd).join("mask-keys.json");
    if !keys_file.exists() {
        return Err(Failure::usage(anyhow::anyhow!(
            "herd `{}` has no masking keys (`{}` does not exist); tokens can be reversed only with the state folder that made them (`RUNINK_HOME`)",
            args.herd,
            keys_file.display()
        )));
    }
    let keys = mask_keys(&state, &args.herd, None).map_err(Failure::infra)?;
    let masker = Masker::new(keys);
    let mut values = Vec::with_capacity(args.tokens.len());
    for token in &args.tokens {
        let value = masker
            .detokenize(token)
            .with_context(|| format!("herd `{}` cannot reverse this token", args.herd))
            .map_err(Failure::usage)?;
        values.push(serde_json::json!({ "token": token, "value": value }));
        if !global.json {
            outln!("{value}");
        }
    }
    if global.json {
        print_json(&serde_json::json!({ "herd": args.herd, "values": values }))
            .map_err(Failure::infra)?;
    }
    Ok(Exit::Ok)
}
