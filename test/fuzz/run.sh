#!/bin/sh
# The fuzz targets of test/fuzz, with cargo fuzz (libFuzzer) on the stable
# toolchain: no sanitizer, since every target is safe Rust, whose bounds and
# overflow checks (on in these builds) already catch what ASan would.
#
#   test/fuzz/run.sh check          make check: every target over its seed
#                                   corpus, then FUZZ_RUNS mutations with a
#                                   fixed seed; fails on any crash
#   test/fuzz/run.sh fuzz [TARGET]  make fuzz: each target (or one) for
#                                   FUZZ_TIME seconds; new inputs are kept
#                                   in test/fuzz/target/corpus/TARGET
#
# FUZZ_SANITIZER=address builds with ASan (on stable this needs
# RUSTC_BOOTSTRAP=1, which the script then sets). cargo-fuzz is installed
# with cargo if missing.
set -eu
cd "$(dirname "$0")/../.."

mode=${1:-}
[ $# -gt 0 ] && shift
CARGO=${CARGO:-cargo}
FUZZ_RUNS=${FUZZ_RUNS:-300000}
FUZZ_TIME=${FUZZ_TIME:-300}
FUZZ_SANITIZER=${FUZZ_SANITIZER:-none}
CARGO_FUZZ_VERSION=0.13.2
DIR=test/fuzz
# Inputs up to 64 KiB: larger ones only slow the search (the decoders'
# limits are tested beside the code with real sizes).
FLAGS="-max_len=65536 -timeout=30 -rss_limit_mb=1024"

die() {
  echo "fuzz: $*" >&2
  exit 1
}

case "$mode" in
  check | fuzz) ;;
  *) die "usage: $0 check | fuzz [TARGET...]" ;;
esac

if ! $CARGO fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION (cargo install)"
  $CARGO install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION" >/tmp/virtvzd-cargo-fuzz.log 2>&1 || {
    tail -20 /tmp/virtvzd-cargo-fuzz.log >&2
    die "cannot install cargo-fuzz (log: /tmp/virtvzd-cargo-fuzz.log); try: cargo install cargo-fuzz --locked"
  }
fi
# libfuzzer-sys builds libFuzzer itself, from C++.
command -v c++ >/dev/null 2>&1 || die "no C++ compiler for libFuzzer: apt-get install g++"

# The fuzz builds (other RUSTFLAGS) keep to their own target folder, even
# under make, which exports CARGO_TARGET_DIR for the daemon's builds.
unset CARGO_TARGET_DIR

if [ "$FUZZ_SANITIZER" != none ]; then
  export RUSTC_BOOTSTRAP=1
fi
build="$CARGO fuzz build --fuzz-dir $DIR --sanitizer $FUZZ_SANITIZER"
$build >/tmp/virtvzd-fuzz-build.log 2>&1 || {
  tail -30 /tmp/virtvzd-fuzz-build.log >&2
  die "building the fuzz targets failed (log: /tmp/virtvzd-fuzz-build.log)"
}

targets=$*
[ -n "$targets" ] || targets=$($CARGO fuzz list --fuzz-dir $DIR)
bin=$DIR/target/$(rustc -vV | sed -n 's/^host: //p')/release
failed=""
for t in $targets; do
  [ -x "$bin/$t" ] || die "no fuzz target '$t' (cargo fuzz list --fuzz-dir $DIR)"
  [ -d "$DIR/corpus/$t" ] || die "target '$t' has no seed corpus $DIR/corpus/$t"
  artifacts=$DIR/artifacts/$t
  mkdir -p "$artifacts"
  if [ "$mode" = check ]; then
    # New inputs go to a scratch folder, never into the repository.
    work=$(mktemp -d)
    log=$work/log
    start=$(date +%s)
    if "$bin/$t" $FLAGS -runs="$FUZZ_RUNS" -seed=1 -artifact_prefix="$artifacts/" \
      "$work" "$DIR/corpus/$t" >"$log" 2>&1; then
      echo "fuzz: $t: $(grep -o 'Done [0-9]* runs' "$log") in $(($(date +%s) - start)) s, no crash"
    else
      tail -40 "$log" >&2
      echo "fuzz: $t: CRASH; the input is in $artifacts/;" \
        "replay: cargo fuzz run --fuzz-dir $DIR $t $artifacts/<file>" >&2
      failed="$failed $t"
    fi
    rm -rf "$work"
  else
    keep=$DIR/target/corpus/$t
    mkdir -p "$keep"
    echo "fuzz: $t for $FUZZ_TIME s (new inputs in $keep)"
    "$bin/$t" $FLAGS -max_total_time="$FUZZ_TIME" -artifact_prefix="$artifacts/" \
      -print_final_stats=1 "$keep" "$DIR/corpus/$t" || failed="$failed $t"
  fi
done
[ -z "$failed" ] || die "crashes in:$failed"
echo "fuzz: no crash in:" $targets
