# Shared by the benchmark scripts under bench/: where runi is, the peers'
# Python environment, W's input files and the header every figure carries.
# Source it after setting `repo` (the repository root):
#   . "$repo/bench/lib.sh"

# The runi binary to measure: $RUNI, else the first release build found in
# $CARGO_TARGET_DIR, ~/.cache/runink-target (CI's cache), ./target.
# Benchmarks never build it: build with `cargo build --release -p runi`.
bench_find_runi() {
    local cand
    if [ -n "${RUNI:-}" ]; then
        [ -x "$RUNI" ] || { echo "RUNI=$RUNI is not an executable" >&2; exit 2; }
        echo "$RUNI"
        return
    fi
    for cand in ${CARGO_TARGET_DIR:+"$CARGO_TARGET_DIR/release/runi"} \
        "$HOME/.cache/runink-target/release/runi" "$repo/target/release/runi"; do
        if [ -x "$cand" ]; then echo "$cand"; return; fi
    done
    echo "no runi binary: build it with \`cargo build --release -p runi\` or set RUNI" >&2
    exit 2
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
