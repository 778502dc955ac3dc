//! Times the phases of compiling one scenario file: parse, formatting,
//! contract loading, and the whole compile, each in-process and repeated,
//! so process start-up is left out. Usage: check-phases FILE.dsl [RUNS]

use std::path::Path;
use std::time::{Duration, Instant};

use runink_dsl::{CompileOptions, FsLoader};

fn time<T>(runs: u32, mut f: impl FnMut() -> T) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        std::hint::black_box(f());
        best = best.min(start.elapsed());
    }
    best
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let file = args.next().expect("usage: check-phases FILE.dsl [RUNS]");
    let runs: u32 = args.next().map_or(10, |r| r.parse().expect("RUNS is a number"));
    let source = std::fs::read_to_string(&file).expect("scenario file is readable");
    let base = Path::new(&file).parent().expect("file has a folder");
    let contract_text = std::fs::read_to_string(base.join("contracts/orders.yaml"))
        .expect("the generated contract is beside the file");
    let scenarios = source.lines().filter(|l| l.starts_with("Scenario:")).count();

    let start = Instant::now();
    runink_contract::Contract::from_yaml(&contract_text).expect("contract is valid");
    let first_contract = start.elapsed();
    let one_contract = time(runs * 10, || runink_contract::Contract::from_yaml(&contract_text));
    let yaml_only = time(runs * 10, || serde_yaml_ng_probe(&contract_text));
    let parse = time(runs, || runink_dsl::parse(&source));
    let format = time(runs, || runink_dsl::format::format_source(&source));
    let compile = time(runs, || {
        runink_dsl::compile(&file, &source, base, &FsLoader, &CompileOptions::default())
    });
    let compiled = runink_dsl::compile(&file, &source, base, &FsLoader, &CompileOptions::default());
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);

    println!("{file}: {} lines, {scenarios} scenarios (best of {runs})", source.lines().count());
    println!("  first contract load (schema init) {:8.2} ms", ms(first_contract));
    println!("  one contract load                 {:8.3} ms", ms(one_contract));
    println!("    of which YAML text -> tree      {:8.3} ms", ms(yaml_only));
    println!("  contract loads x {scenarios:<4}           {:8.2} ms", ms(one_contract) * scenarios as f64);
    println!("  parse                             {:8.2} ms", ms(parse));
    println!("  format                            {:8.2} ms", ms(format));
    println!("  compile (parse + everything)      {:8.2} ms", ms(compile));
    println!(
        "  compile minus contract loads      {:8.2} ms",
        ms(compile) - ms(one_contract) * scenarios as f64
    );
}

/// The YAML text to a JSON tree, the first thing `Contract::from_yaml` does.
fn serde_yaml_ng_probe(text: &str) -> serde_json::Value {
    serde_yaml_ng::from_str(text).expect("contract is YAML")
}
