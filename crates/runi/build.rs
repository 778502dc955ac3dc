//! Links `runi` with packed relative relocations (`DT_RELR`) on Linux with
//! glibc. A position-independent Rust binary of this size carries about
//! 245,000 relative relocations; as classic RELA entries they are 5.9 MB
//! that every process start (each `runi` command, each slice worker) reads
//! and applies. Packed, they are 68 KB: `runi --version` took 5.9 ms
//! against 7.0, a 10-row `runi run` 42.9 against 49.3 (hyperfine, 30 to
//! 40 runs each, `--release`). Needs GNU ld 2.38 or newer (older ones
//! ignore the option with a warning) and glibc 2.36 or newer where the
//! binary runs.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
