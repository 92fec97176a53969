#!/usr/bin/env bash
# Drives the node's paid OpenAI-compatible API (/v1, docs/assistant-payments.md) with the unmodified
# official Python client, PyPI `openai` (pinned, installed with `eth-account` into its own virtual
# environment under ~/.cache/agora), against a real `agora up` (embedded chain, fresh data
# directory, free ports, the local model). scripts/openai_client_test.py opens a channel as the dev
# buyer with a fresh session key, then pays reply after reply with the Agora-Voucher header set
# through the client's `default_headers`, streaming and not, and checks the refusals (unpaid,
# forged, malformed). Any failure fails the script, with the node's log; the node is stopped however
# the script ends.
#
# Usage: scripts/openai-client.sh [path to the agora binary]   (default: $CARGO_TARGET_DIR/debug/agora)
set -euo pipefail

OPENAI_VERSION=3.51.0
ETH_ACCOUNT_VERSION=0.14.0
VENV="$HOME/.cache/agora/openai-client-$OPENAI_VERSION-eth-account-$ETH_ACCOUNT_VERSION"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
AGORA="${1:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/agora}"
[[ "$AGORA" == /* ]] || AGORA="$PWD/$AGORA"
cd "$ROOT" # the node finds anvil under ./node_modules
# cast (approve, open, and the contract's own channel id and voucher digest to check against).
export PATH="$ROOT/node_modules/@foundry-rs/cast-linux-amd64/bin:$PATH"

if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import openai, eth_account' 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "openai==$OPENAI_VERSION" "eth-account==$ETH_ACCOUNT_VERSION"
fi
[[ -x "$AGORA" ]] || { echo "openai-client: no agora binary at $AGORA (cargo build -p agora-cli)" >&2; exit 1; }
command -v cast >/dev/null || { echo "openai-client: no cast on PATH (make deps)" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/agora-openai-client.XXXXXX")"
node_pid=""
cleanup() {
  local status=$?
  if [[ -n "$node_pid" ]] && kill -0 "$node_pid" 2>/dev/null; then
    kill -TERM "$node_pid" 2>/dev/null || true
    # The node stops its embedded anvil on the way out; give it a moment, then insist.
    for _ in $(seq 50); do kill -0 "$node_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -s "$work/node.log" ]]; then
    echo "openai-client: FAILED; the node's log ends with:" >&2
    tail -n 60 "$work/node.log" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Port 0 for the API and for anvil: the node reports the address it got.
"$AGORA" up --data-dir "$work/data" --http-addr 127.0.0.1:0 --anvil-port 0 >"$work/node.log" 2>&1 &
node_pid=$!
url=""
for _ in $(seq 1200); do # up to 120 s for anvil, the deployments, the model and the first indexed block
  url="$(sed -n 's/^Agora is up: \(http[^ ]*\).*/\1/p' "$work/node.log" | head -n 1)"
  [[ -n "$url" ]] && break
  kill -0 "$node_pid" 2>/dev/null || { echo "openai-client: agora up exited before it was up" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$url" ]] || { echo "openai-client: agora up did not come up within 120 s" >&2; exit 1; }
for _ in $(seq 100); do
  curl -fsS "$url/api/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$url/api/health" >/dev/null || { echo "openai-client: $url/api/health does not answer" >&2; exit 1; }
echo "openai-client: node up at $url; openai $OPENAI_VERSION, eth-account $ETH_ACCOUNT_VERSION"

"$VENV/bin/python" "$ROOT/scripts/openai_client_test.py" "$url" "$work/data/dev.json"
