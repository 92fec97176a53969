import { shortHash } from "../lib/format";

/// A transaction hash in monospace: shortened with the whole hash as its title, or in full.
export function TxHash({ hash, full = false }: { hash: string; full?: boolean }) {
  return (
    <code className={full ? "mono wrap" : "mono"} title={hash} data-testid="tx-hash">
      {full ? hash : shortHash(hash)}
    </code>
  );
}
