#!/bin/sh
# fuzz.sh: a coverage-guided fuzzing campaign over every libFuzzer target of tests/fuzz, one
# target at a time, SECONDS each (default 60, as CI runs it; 600 for the campaign README.md
# reports). New inputs that add coverage are merged into tests/fuzz/corpus/<target>/ (the
# corpora the replay tests of the `fuzz` suite run); a crash, leak or sanitizer report stops
# the script with its reproducer under build-fuzz/fuzz-artifacts/ and exit status 1. Prints,
# per target, the executions, their rate and the corpus size. fuzz_diff (the differential
# target against OpenSSL) needs libssl-dev.
# CERTVAL_FUZZ_SEED fixes libFuzzer's seed (0, the default: a new one each run).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-"crl name config proto ocsp aaa http_certs verdict_json diff"}
dir=build-fuzz

# The corpus directory of each target (some share one).
corpus_of() {
	case $1 in
	verdict_json) echo cert ;;
	*) echo "$1" ;;
	esac
}

if [ ! -f "$dir/build.ninja" ]; then
	CC=clang meson setup "$dir" -Dfuzz=true -Dbuildtype=debugoptimized \
		-Db_sanitize=address,undefined -Db_lundef=false >"$dir.setup.log" 2>&1 || {
		cat "$dir.setup.log"
		exit 1
	}
fi
for t in $targets; do
	ninja -C "$dir" "tests/fuzz/fuzz_$t" >"$dir/build-$t.log" 2>&1 || {
		cat "$dir/build-$t.log"
		echo "fuzz_$t: the build failed"
		exit 1
	}
done

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p "$dir/fuzz-artifacts"
status=0
for t in $targets; do
	corpus=$top/tests/fuzz/corpus/$(corpus_of "$t")
	new=$dir/fuzz-new/$t
	rm -rf "$new"
	mkdir -p "$new"
	log=$dir/fuzz-$t.log
	if ! "$dir/tests/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=16384 -timeout=10 \
		-seed="${CERTVAL_FUZZ_SEED:-0}" \
		-rss_limit_mb=2048 -artifact_prefix="$dir/fuzz-artifacts/$t-" -print_final_stats=1 \
		"$new" "$corpus" >"$log" 2>&1; then
		echo "fuzz_$t: FAILED, see $log and $dir/fuzz-artifacts/"
		status=1
		continue
	fi
	# keep only what adds coverage to the corpus (CI: CERTVAL_FUZZ_MERGE=0 leaves it alone)
	if [ "${CERTVAL_FUZZ_MERGE:-1}" = 1 ]; then
		"$dir/tests/fuzz/fuzz_$t" -merge=1 "$corpus" "$new" >>"$log" 2>&1
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	echo "fuzz_$t: ${secs} s, ${execs:-?} executions (${rate:-?}/s), corpus $(ls "$corpus" | wc -l) files"
done
exit $status
