-- The federated-learning coordinator's own records (node-owned, not derived from the chain: no reorg
-- or rebuild touches them). Keyed by chain and the task's on-chain id.

-- One row per aggregated round. `accuracy` and `loss` are f64 written as Rust's shortest text that
-- reads back to the same number (`NaN`, `inf` included); `participants` a JSON array of each
-- participant's account, samples, loss, contribution and refusal reason.
CREATE TABLE fl_rounds (
    chain_id      BIGINT NOT NULL,
    task_id       BIGINT NOT NULL,
    round         BIGINT NOT NULL,
    accuracy      TEXT   NOT NULL,
    loss          TEXT   NOT NULL,
    participants  TEXT   NOT NULL,
    aggregated_at BIGINT NOT NULL,
    PRIMARY KEY (chain_id, task_id, round)
);

-- The coordinator's log of a task, numbered 1, 2, … per task (`seq`), so a page can ask for what
-- came after the last line it has.
CREATE TABLE fl_logs (
    chain_id BIGINT NOT NULL,
    task_id  BIGINT NOT NULL,
    seq      BIGINT NOT NULL,
    at       BIGINT NOT NULL,
    level    TEXT   NOT NULL,
    message  TEXT   NOT NULL,
    PRIMARY KEY (chain_id, task_id, seq)
);

-- A task's result as the coordinator computed it: `kind` rewards or shares, the contribution
-- record's CID, and `payload`, a JSON object with the Merkle root (rewards) and every account's
-- amount or shares with its proof. `posted_tx`: the postRewards/postShares transaction, once sent.
CREATE TABLE fl_results (
    chain_id   BIGINT NOT NULL,
    task_id    BIGINT NOT NULL,
    record_cid TEXT   NOT NULL,
    kind       TEXT   NOT NULL,
    payload    TEXT   NOT NULL,
    posted_tx  TEXT,
    saved_at   BIGINT NOT NULL,
    PRIMARY KEY (chain_id, task_id)
);
