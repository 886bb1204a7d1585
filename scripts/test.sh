#!/bin/sh
# test.sh: the whole test suite, as CI runs it: installs what is missing, builds twice
# (warnings as errors; AddressSanitizer + UndefinedBehaviorSanitizer), runs every suite in
# both builds and prints one closing line "N passed, N failed, N skipped".
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

./scripts/setup-deps.sh

build() { # build DIR [meson options...]
	dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" --werror "$@" >"$dir.setup.log" 2>&1 || {
			cat "$dir.setup.log"
			exit 1
		}
		rm -f "$dir.setup.log"
	fi
	ninja -C "$dir"
}

build build-release -Dbuildtype=debugoptimized
build build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

status=0
meson test -C build-release --print-errorlogs --num-processes 2 || status=1
meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 3 || status=1

# A short fuzzing run, CERTVAL_FUZZ_SECONDS (default 60) per libFuzzer target, in a third
# build (clang, -Dfuzz=true, ASan+UBSan); 0 skips it. scripts/reliability.sh runs the long one.
fuzz_secs=${CERTVAL_FUZZ_SECONDS:-60}
if [ "$fuzz_secs" -gt 0 ]; then
	# every target, the differential one against OpenSSL (fuzz_diff) included
	CERTVAL_FUZZ_MERGE=0 CERTVAL_FUZZ_SEED=1 ./scripts/fuzz.sh "$fuzz_secs" crl name config \
		proto ocsp aaa http_certs verdict_json diff || status=1
fi

python3 "$top/scripts/test-summary.py" build-release/meson-logs/testlog.json \
	build-asan/meson-logs/testlog.json
exit $status
