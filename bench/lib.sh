# Shared by the benchmark scripts under bench/: where runi is, the peers'
# Python environment, W's input files and the header every figure carries.
# Source it after setting `repo` (the repository root):
#   . "$repo/bench/lib.sh"

# The runi binary to measure: $RUNI, else the first `dist` build (the one
# we ship), else the first `release` build, found in $CARGO_TARGET_DIR,
# ~/.cache/runink-target (CI's cache), ./target. Benchmarks never build it:
# build with `cargo build --profile dist -p runi` (~35 min from nothing on
# 2 cores, ~20 min after a change: the link does the whole program's
# optimisation), or `--release` for a quick look.
bench_find_runi() {
    local cand profile
    if [ -n "${RUNI:-}" ]; then
        [ -x "$RUNI" ] || { echo "RUNI=$RUNI is not an executable" >&2; exit 2; }
        echo "$RUNI"
        return
    fi
    # The `dist` profile (fat LTO, one codegen unit; Cargo.toml) is the
    # build we ship and measure; `release` is the quick one to build.
    for profile in dist release; do
        for cand in ${CARGO_TARGET_DIR:+"$CARGO_TARGET_DIR/$profile/runi"} \
            "$HOME/.cache/runink-target/$profile/runi" "$repo/target/$profile/runi"; do
            if [ -x "$cand" ]; then
                bench_warn_if_stale "$cand"
                echo "$cand"
                return
            fi
        done
    done
    echo "no runi binary: build it with \`cargo build --profile dist -p runi\` (or --release) or set RUNI" >&2
    exit 2
}

# Warns (on stderr) when a source file is newer than the binary `$1`: the
# benchmark would measure older code than the tree's.
bench_warn_if_stale() {
    local newer
    newer="$(find "$repo/crates" "$repo/Cargo.toml" "$repo/Cargo.lock" -newer "$1" -name '*.rs' -o -newer "$1" -name 'Cargo.*' 2>/dev/null | head -1)"
    if [ -n "$newer" ]; then
        echo "warning: $1 is older than $newer: rebuild it (cargo build --profile dist -p runi) or set RUNI" >&2
    fi
}

# The peers' virtual environment (/tmp/dpvenv), with the given packages.
bench_venv=/tmp/dpvenv
bench_py="$bench_venv/bin/python"
bench_ensure_venv() {
    local imports
    imports="$(printf '%s\n' "$@" | sed 's/-/_/g' | paste -sd, -)"
    if ! "$bench_py" -c "import $imports" 2>/dev/null; then
        echo "== creating $bench_venv ($*)"
        python3 -m venv "$bench_venv"
        "$bench_venv/bin/pip" install -q "$@"
    fi
}

# /tmp/orders_<size>.csv for each size (1m, 10m), made by W's generator
# (seed 42) when missing.
bench_ensure_orders() {
    local s n f
    for s in "$@"; do
        case "$s" in
            1m) n=1000000 ;;
            10m) n=10000000 ;;
            *) echo "unknown size $s (use 1m and/or 10m)" >&2; exit 2 ;;
        esac
        f="/tmp/orders_$s.csv"
        if [ ! -s "$f" ]; then
            echo "== generating $f ($n rows)"
            python3 "$shared/gen.py" "$n" "$f.part"
            mv "$f.part" "$f"
        fi
    done
}

# What every figure is read against: when, which runi, which commit, the
# machine and its load. Extra lines come from the caller.
bench_env_header() {
    local runi="$1"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "runi: $runi ($("$runi" --version)), built $(date -u -r "$runi" +%Y-%m-%dT%H:%M:%SZ)"
    echo "repo: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')" \
        "($(git -C "$repo" status --porcelain 2>/dev/null | wc -l) changed paths in the work tree)"
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
        "$(free -g | awk '/^Mem:/ {print $2}') GiB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
}
