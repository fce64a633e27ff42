#!/bin/sh
# Runs one libFuzzer harness: replays its committed seed corpus, then fuzzes for SECONDS.
#   fuzz/run.sh BUILD_DIR NAME SECONDS [--keep] [LIBFUZZER_FLAG...]
# New inputs go to a scratch corpus (kept in BUILD_DIR/fuzz-out/NAME/corpus with --keep,
# else a temporary directory): the committed fuzz/corpus/NAME never grows by itself.
# Crashes, leaks and timeouts are written to BUILD_DIR/fuzz-out/NAME/crashes/; the exit
# status is libFuzzer's (0: nothing found).
set -eu
build=$1 name=$2 seconds=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/fuzz/fuzz_$name
out=$build/fuzz-out/$name
mkdir -p "$out/crashes"
if [ "${1:-}" = --keep ]; then
	shift
	corpus=$out/corpus
	mkdir -p "$corpus"
else
	corpus=$(mktemp -d "${TMPDIR:-/tmp}/pcp-fuzz-$name.XXXXXX")
	trap 'rm -rf "$corpus"' EXIT
fi
set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$out/crashes/" "$@"
[ -f "$here/$name.dict" ] && set -- -dict="$here/$name.dict" "$@"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
echo "fuzz_$name: $seconds s; crashes go to $out/crashes/"
"$bin" "$@" "$corpus" "$here/corpus/$name"
