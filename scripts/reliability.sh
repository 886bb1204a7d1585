#!/bin/sh
# reliability.sh: the long runs of README.md's "Reliability" section, without a human:
#   - 500 kill -9 of certvald during CRL downloads and cache writes, CRLs up to 100,000 entries;
#   - 1,000 clients x 400 requests each (several minutes) with hostile clients beside them;
#   - the disk, reload and network fault suites;
#   - a fuzzing campaign of FUZZ_SECONDS (default 600) per target (scripts/fuzz.sh).
# The short versions of the same tests run in `meson test` (suite reliability).
#   scripts/reliability.sh [FUZZ_SECONDS]
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
build=${CERTVAL_BUILD_DIR:-$top/build-release}
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" -Dbuildtype=debugoptimized --werror >/dev/null
fi
ninja -C "$build" >/dev/null
export CERTVAL_BUILD_DIR="$build"
cd tests/reliability
CERTVAL_KILLS=500 CERTVAL_CRL_MAX=100000 python3 test_kill.py
CERTVAL_CLIENTS=1000 CERTVAL_ROUNDS=400 python3 test_clients.py
python3 test_disk.py
python3 test_reload.py
python3 test_netfaults.py
cd "$top"
./scripts/fuzz.sh "${1:-600}"
