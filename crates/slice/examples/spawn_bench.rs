//! Spawn-to-exit latency of a trivial program: a Runink slice beside
//! `bwrap --unshare-all`, `unshare --user … --net` and a plain fork+exec,
//! measured in one run, in interleaved rounds so that drift in the machine's
//! load hits every contender alike. Run through `bench/slice/run.sh`.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::{Command, Stdio as StdStdio};
use std::time::{Duration, Instant};

use runink_slice::{SliceSpec, Slicer};

/// Rounds the runs are split into; each round runs every contender in turn.
const ROUNDS: usize = 20;
/// Pause before each contender's share of a round, so that the kernel work
/// the previous contender left behind (network namespaces are torn down by
/// a kernel worker after their last process exits: ~0.8 ms of CPU each for
/// `unshare --net` and bwrap) is not billed to the next one.
const SETTLE: Duration = Duration::from_millis(200);

struct Contender {
    name: &'static str,
    run: Box<dyn FnMut() -> Result<(), String>>,
    samples: Vec<Duration>,
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let program = PathBuf::from(
        std::env::args()
            .nth(2)
            .unwrap_or_else(|| "/bin/true".into()),
    );
    let slicer = match Slicer::new() {
        Ok(s) => std::sync::Arc::new(s),
        Err(e) => {
            println!("cannot start slices here: {e}\n{}", runink_slice::probe());
            std::process::exit(3);
        }
    };
    let mut contenders = vec![
        slice_contender("runink slice (full confinement)", &slicer, &program, false),
        slice_contender("runink slice, host network", &slicer, &program, true),
        command_contender("fork+exec (std::process)", &program, &[]),
        command_contender(
            "unshare --user --map-root-user --pid --fork --mount --ipc --uts --net",
            PathBuf::from("/usr/bin/unshare").as_path(),
            &[
                "--user",
                "--map-root-user",
                "--pid",
                "--fork",
                "--mount",
                "--ipc",
                "--uts",
                "--net",
                program.to_str().unwrap_or("/bin/true"),
            ],
        ),
    ];
    match which("bwrap") {
        Some(bwrap) => contenders.push(command_contender(
            "bwrap --unshare-all (ro /usr, /proc, /dev)",
            &bwrap,
            &[
                "--unshare-all",
                "--ro-bind",
                "/usr",
                "/usr",
                "--symlink",
                "usr/lib",
                "/lib",
                "--symlink",
                "usr/lib64",
                "/lib64",
                "--symlink",
                "usr/bin",
                "/bin",
                "--proc",
                "/proc",
                "--dev",
                "/dev",
                program.to_str().unwrap_or("/bin/true"),
            ],
        )),
        None => {
            println!("bwrap not found: no bubblewrap figures (install the `bubblewrap` package)")
        }
    }

    // Warm up: page cache, cgroup parents, dynamic loader.
    for c in &mut contenders {
        for _ in 0..20 {
            if let Err(e) = (c.run)() {
                println!("{}: {e}", c.name);
                std::process::exit(1);
            }
        }
    }
    let per_round = runs.div_ceil(ROUNDS);
    for _ in 0..ROUNDS {
        for c in &mut contenders {
            std::thread::sleep(SETTLE);
            for _ in 0..per_round {
                let start = Instant::now();
                if let Err(e) = (c.run)() {
                    println!("{}: {e}", c.name);
                    std::process::exit(1);
                }
                c.samples.push(start.elapsed());
            }
        }
    }

    println!(
        "spawn-to-exit of `{}`, {} runs each, {} cores",
        program.display(),
        per_round * ROUNDS,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<72} {:>9} {:>9} {:>9}",
        "", "p50 ms", "p99 ms", "mean ms"
    );
    let mut p50s = Vec::new();
    for c in &mut contenders {
        c.samples.sort();
        let p50 = percentile(&c.samples, 50.0);
        let p99 = percentile(&c.samples, 99.0);
        let mean = c.samples.iter().sum::<Duration>() / c.samples.len() as u32;
        println!(
            "{:<72} {:>9.3} {:>9.3} {:>9.3}",
            c.name,
            ms(p50),
            ms(p99),
            ms(mean)
        );
        p50s.push((c.name, p50));
    }
    let slice_p50 = p50s[0].1;
    for (name, p50) in &p50s[2..] {
        println!(
            "p50 ratio {name} / runink slice: {:.2}x",
            ms(*p50) / ms(slice_p50)
        );
    }
    let goal = Duration::from_micros(1000);
    println!(
        "goal: runink slice p50 <= 1.000 ms: {} ({:.3} ms)",
        if slice_p50 <= goal { "met" } else { "NOT met" },
        ms(slice_p50)
    );
}

fn slice_contender(
    name: &'static str,
    slicer: &std::sync::Arc<Slicer>,
    program: &std::path::Path,
    network: bool,
) -> Contender {
    let slicer = slicer.clone();
    let program = program.to_owned();
    Contender {
        name,
        samples: Vec::new(),
        run: Box::new(move || {
            let mut spec = SliceSpec::new(&program);
            spec.network = network;
            let exit = slicer
                .spawn(&spec)
                .and_then(|mut s| s.wait())
                .map_err(|e| e.to_string())?;
            if exit.success() {
                Ok(())
            } else {
                Err(format!("{exit:?}"))
            }
        }),
    }
}

fn command_contender(name: &'static str, program: &std::path::Path, args: &[&str]) -> Contender {
    let program = program.to_owned();
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    Contender {
        name,
        samples: Vec::new(),
        run: Box::new(move || {
            // The benchmark lives in the slice crate, the one place allowed to
            // start processes; the peers are measured as plain commands.
            #[allow(clippy::disallowed_methods)]
            let status = Command::new(&program)
                .args(&args)
                .stdin(StdStdio::null())
                .stdout(StdStdio::null())
                .stderr(StdStdio::piped())
                .output()
                .map_err(|e| format!("{}: {e}", program.display()))?;
            if status.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&status.stderr).into_owned())
            }
        }),
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| PathBuf::from(d).join(name))
        .find(|p| p.is_file())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
