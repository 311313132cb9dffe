#!/usr/bin/env bash
# Install the built one-folder app for the current user (no root needed):
#
#   packaging/install-linux.sh [DIST_FOLDER]      # default: dist/layerlab (packaging/build.sh)
#   packaging/install-linux.sh --uninstall
#
#   ~/.local/opt/layerlab/                   the app folder (replaced as a whole on reinstall)
#   ~/.local/bin/layerlab                    a link to its executable (CLI and app)
#   ~/.local/share/applications/layerlab.desktop
#   ~/.local/share/icons/hicolor/{48x48,128x128,256x256,scalable}/apps/layerlab.{png,svg}
#
# LAYERLAB_OPT, LAYERLAB_BIN and XDG_DATA_HOME move those places.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
OPT="${LAYERLAB_OPT:-$HOME/.local/opt/layerlab}"
BIN="${LAYERLAB_BIN:-$HOME/.local/bin}"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
APPS="$DATA/applications"
ICONS="$DATA/icons/hicolor"

refresh_caches() {
    if command -v update-desktop-database >/dev/null; then
        update-desktop-database -q "$APPS" 2>/dev/null || true
    fi
    if command -v gtk-update-icon-cache >/dev/null && [ -f "$ICONS/index.theme" ]; then
        gtk-update-icon-cache -q -t "$ICONS" 2>/dev/null || true
    fi
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$OPT"
    [ -L "$BIN/layerlab" ] && rm -f "$BIN/layerlab"
    rm -f "$APPS/layerlab.desktop"
    rm -f "$ICONS"/{48x48,128x128,256x256}/apps/layerlab.png "$ICONS/scalable/apps/layerlab.svg"
    refresh_caches
    echo "removed LayerLab from $OPT, $BIN, $APPS and $ICONS"
    exit 0
fi

SRC="$(cd "${1:-$ROOT/dist/layerlab}" 2>/dev/null && pwd)" || {
    echo "install-linux.sh: no built app at ${1:-$ROOT/dist/layerlab}; run packaging/build.sh" >&2
    exit 2
}
if [ ! -x "$SRC/layerlab" ]; then
    echo "install-linux.sh: $SRC has no layerlab executable; run packaging/build.sh" >&2
    exit 2
fi
# Icons and the desktop entry: from the bundle's resources (they match the built app), else
# from this checkout.
RES="$SRC/_internal/layerlab/resources/icons"
[ -d "$RES" ] || RES="$ROOT/resources/icons"

# The app folder: copied beside the old one, then swapped, so a failed copy breaks nothing.
mkdir -p "$(dirname "$OPT")"
rm -rf "$OPT.new"
cp -a "$SRC" "$OPT.new"
rm -rf "$OPT"
mv "$OPT.new" "$OPT"

mkdir -p "$BIN"
ln -sfn "$OPT/layerlab" "$BIN/layerlab"

# The menu entry starts the installed executable by its full path: ~/.local/bin is not on
# every desktop session's PATH.
mkdir -p "$APPS"
sed -e "s|^Exec=layerlab |Exec=\"$OPT/layerlab\" |" -e "s|^TryExec=layerlab$|TryExec=$OPT/layerlab|" \
    "$HERE/layerlab.desktop" > "$APPS/layerlab.desktop"
chmod 644 "$APPS/layerlab.desktop"

for size in 48 128 256; do
    install -Dm644 "$RES/layerlab-$size.png" "$ICONS/${size}x${size}/apps/layerlab.png"
done
install -Dm644 "$RES/layerlab.svg" "$ICONS/scalable/apps/layerlab.svg"
refresh_caches

echo "installed LayerLab in $OPT"
echo "  command:    $BIN/layerlab"
echo "  menu entry: $APPS/layerlab.desktop"
case ":$PATH:" in
    *":$BIN:"*) ;;
    *) echo "note: $BIN is not on your PATH; add it to use \`layerlab\` in a terminal" ;;
esac
