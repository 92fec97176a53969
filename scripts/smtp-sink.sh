#!/usr/bin/env bash
# Runs scripts/smtp-sink.py (a loopback SMTP server writing each mail to a directory) in a virtual
# environment with aiosmtpd pinned, created under ~/.cache/agora on first use.
#   scripts/smtp-sink.sh --install            create the environment and exit (make deps)
#   scripts/smtp-sink.sh --port 0 --dir DIR   run the sink; prints "listening on HOST:PORT"
#     [--tls-cert FILE --tls-key FILE --mode starttls|smtps]   speak TLS (see smtp-sink.py)
set -euo pipefail
VERSION=1.4.6
VENV="${AGORA_CACHE:-$HOME/.cache/agora}/aiosmtpd-$VERSION"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ready() { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import aiosmtpd" 2>/dev/null; }
if ! ready; then
  mkdir -p "$(dirname "$VENV")"
  # Tests start several sinks at once: one of them builds the environment, the others wait.
  exec 9>"$VENV.lock"
  flock 9
  if ! ready; then
    rm -rf "$VENV" "$VENV.tmp"
    python3 -m venv "$VENV.tmp" >&2
    "$VENV.tmp/bin/python" -m pip install --quiet --disable-pip-version-check "aiosmtpd==$VERSION" >&2
    mv "$VENV.tmp" "$VENV"
  fi
  flock -u 9
  exec 9>&-
fi
if [ "${1:-}" = "--install" ]; then
  exit 0
fi
exec "$VENV/bin/python" -u "$HERE/smtp-sink.py" "$@"
