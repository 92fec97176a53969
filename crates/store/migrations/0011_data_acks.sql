-- A data seller's highest ACK per order: the buyer's EIP-712 voucher for the cumulative bytes it
-- received, which is what the seller ends and settles the order with. Node-owned state, not derived
-- from the chain: a reorg or a rebuild of the derived tables leaves it alone, and it only ever rises.
-- `closed` = 1 once the seller's node is done with the order on chain (settled, or finished without
-- it); `ended_tx` is the seller's `end`/`challenge` transaction, once sent.
CREATE TABLE data_acks (
    chain_id    BIGINT NOT NULL,
    market      TEXT   NOT NULL,
    order_id    TEXT   NOT NULL,
    seller      TEXT   NOT NULL,
    total_bytes BIGINT NOT NULL,
    received    BIGINT NOT NULL,
    signature   TEXT   NOT NULL,
    ended_tx    TEXT,
    closed      BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (chain_id, market, order_id)
);
CREATE INDEX data_acks_open ON data_acks (chain_id, market, seller, closed);
