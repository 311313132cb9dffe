#!/usr/bin/env bash
# Build LayerLab as a one-folder app: dist/layerlab/ (the `layerlab` executable and its files).
#
#   packaging/build.sh            # from anywhere; needs `pip install -e ".[package]"` done
#   PYTHON=/path/to/python packaging/build.sh
#
# The same spec builds on Windows and macOS (see packaging/README.md); this script is the Linux
# wrapper. Build outputs go to build/ and dist/ at the repository root (both git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
DIST="${LAYERLAB_DIST:-$ROOT/dist}"
WORK="${LAYERLAB_BUILD:-$ROOT/build}"

if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    echo "build.sh: PyInstaller is not installed: $PYTHON -m pip install -e \".[package]\"" >&2
    exit 2
fi

cd "$ROOT"
start=$(date +%s)
# (torch's hook imports every torch module to list them: ignore its DeprecationWarnings.)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level "${LOG_LEVEL:-WARN}" \
    --distpath "$DIST" --workpath "$WORK" packaging/layerlab.spec
end=$(date +%s)

APP="$DIST/layerlab"
echo "built $APP in $((end - start)) s"
echo "bundle size: $(du -sh "$APP" | cut -f1) ($(find "$APP" -type f | wc -l) files)"
