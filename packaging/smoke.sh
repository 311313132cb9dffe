#!/usr/bin/env bash
# Packaging smoke test: build the one-folder app, then run the frozen executable offscreen.
#
#   packaging/smoke.sh               # build, then check
#   packaging/smoke.sh --no-build    # check an existing dist/layerlab
#
# Checks (each timed): the app's --self-test (main window + one epoch of digits_cnn, in the Qt
# event loop), `layerlab summary lenet5`, `layerlab train digits_cnn --epochs 1 --device cpu`,
# the same run started the way the app starts helper processes (`layerlab -m
# layerlab.engine.train ...`), a PyTorch export, and that ONNX export (an optional extra, not
# bundled) fails with a clear message. Prints the bundle size and file count; exits non-zero
# when any check fails. Slow (minutes: mostly the build), hence not part of the normal suite:
# tests/test_packaging_smoke.py runs it under `pytest -m slow`.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DIST="${LAYERLAB_DIST:-$ROOT/dist}"
APP="$DIST/layerlab"
EXE="$APP/layerlab"
PYTHON="${PYTHON:-python3}"
BUILD=1
for arg in "$@"; do
    case "$arg" in
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "smoke.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

export QT_QPA_PLATFORM=offscreen
TMP="$(mktemp -d "${TMPDIR:-/tmp}/layerlab-smoke.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
# The frozen app must not find this checkout or the build environment's packages.
cd "$TMP"
unset PYTHONPATH PYTHONHOME

RESULTS=()
FAILED=0
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
record() {  # name status seconds
    RESULTS+=("$(printf '%-28s %-5s %7.1f s' "$1" "$2" "$3")")
    [ "$2" = ok ] || FAILED=1
}

# step NAME CHECK-FUNCTION COMMAND...: run COMMAND (output in $TMP/NAME.{out,err}), then CHECK
step() {
    local name="$1" check="$2"; shift 2
    local t0 t1 rc
    echo "--- $name: $*"
    t0=$(now)
    "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    rc=$?
    t1=$(now)
    local seconds; seconds=$(elapsed "$t0" "$t1")
    if "$check" "$rc" "$TMP/$name.out" "$TMP/$name.err"; then
        record "$name" ok "$seconds"
    else
        record "$name" FAIL "$seconds"
        echo "    exit status $rc; stdout and stderr (last lines):"
        tail -n 15 "$TMP/$name.out" "$TMP/$name.err" | sed 's/^/    /'
    fi
}

ok_exit() { [ "$1" -eq 0 ]; }
check_self_test() {
    [ "$1" -eq 0 ] && "$PYTHON" - "$2" <<'PY'
import json, sys
line = open(sys.argv[1]).read().strip().splitlines()[-1]
result = json.loads(line)
print("    " + line)
sys.exit(0 if result.get("ok") and result.get("epochs") == 1 and result.get("frozen") else 1)
PY
}
check_summary() { [ "$1" -eq 0 ] && grep -q "Total parameters: 61,706" "$2"; }
check_train() { [ "$1" -eq 0 ] && grep -q "^finished" "$2" && [ -f "$TMP/run/history.csv" ] \
                && [ -f "$TMP/run/checkpoint/trainer.json" ] && grep "^epoch 1:" "$2" | sed 's/^/    /'; }
check_train_m() { [ "$1" -eq 0 ] && grep -q "^finished" "$2" && [ -f "$TMP/run-m/history.csv" ]; }
check_export() { [ "$1" -eq 0 ] && grep -q "class " "$TMP/lenet5.py"; }
check_onnx_missing() { [ "$1" -ne 0 ] && grep -q "Install the export extra" "$3"; }

if [ "$BUILD" = 1 ]; then
    t0=$(now)
    PYTHON="$PYTHON" "$HERE/build.sh"
    rc=$?
    record build "$([ $rc -eq 0 ] && echo ok || echo FAIL)" "$(elapsed "$t0" "$(now)")"
    [ $rc -eq 0 ] || { printf '%s\n' "${RESULTS[@]}"; exit 1; }
fi
if [ ! -x "$EXE" ]; then
    echo "smoke.sh: no frozen app at $EXE (run without --no-build)" >&2
    exit 2
fi

step self-test check_self_test "$EXE" --self-test --epochs 1
step summary-lenet5 check_summary "$EXE" summary lenet5
step train-digits check_train "$EXE" train digits_cnn --epochs 1 --device cpu --out "$TMP/run"
step train-python-m check_train_m "$EXE" -u -m layerlab.engine.train digits_cnn --epochs 1 \
    --device cpu --out "$TMP/run-m"
step export-pytorch check_export "$EXE" export lenet5 -o "$TMP/lenet5.py"
step export-onnx-absent check_onnx_missing "$EXE" export lenet5 -o "$TMP/lenet5.onnx"

SIZE="$(du -sh "$APP" | cut -f1)"
BYTES="$(du -sb "$APP" | cut -f1)"
FILES="$(find "$APP" -type f | wc -l)"
echo
echo "=== LayerLab packaging smoke: $APP"
printf '%s\n' "${RESULTS[@]}"
echo "bundle: $SIZE ($BYTES bytes), $FILES files"
if [ "$FAILED" = 0 ]; then echo "SMOKE OK"; else echo "SMOKE FAILED"; fi
exit "$FAILED"
