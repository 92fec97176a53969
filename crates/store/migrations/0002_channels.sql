-- Payment channels as the chain says they are (derived from PaymentChannel's logs).
CREATE TABLE channels (
    chain_id          BIGINT NOT NULL,
    channel_id        TEXT   NOT NULL,
    payer             TEXT   NOT NULL,
    payee             TEXT   NOT NULL,
    token             TEXT   NOT NULL,
    signer            TEXT   NOT NULL,
    salt              TEXT   NOT NULL,
    deposit           TEXT   NOT NULL,
    expiry            BIGINT NOT NULL,
    state             TEXT   NOT NULL,
    paid_to_payee     TEXT,
    refunded_to_payer TEXT,
    opened_block      BIGINT NOT NULL,
    updated_block     BIGINT NOT NULL,
    PRIMARY KEY (chain_id, channel_id)
);
CREATE INDEX channels_payer ON channels (chain_id, payer);
CREATE INDEX channels_payee ON channels (chain_id, payee);

-- The payee's ledger: the highest voucher accepted per channel. Not derived from the chain, so a
-- reorg never touches it.
CREATE TABLE channel_vouchers (
    chain_id          BIGINT NOT NULL,
    channel_id        TEXT   NOT NULL,
    cumulative_amount TEXT   NOT NULL,
    signature         TEXT   NOT NULL,
    vouchers_accepted BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (chain_id, channel_id)
);

-- Settlement transactions the node sent (one row per channel it tried to close).
CREATE TABLE channel_settlements (
    chain_id          BIGINT NOT NULL,
    channel_id        TEXT   NOT NULL,
    cumulative_amount TEXT   NOT NULL,
    tx_hash           TEXT,
    outcome           TEXT   NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (chain_id, channel_id)
);

-- Every run of a background job.
CREATE TABLE job_runs (
    job              TEXT   NOT NULL,
    started_at_ms    BIGINT NOT NULL,
    finished_at_ms   BIGINT NOT NULL,
    channels_touched BIGINT NOT NULL,
    errors           TEXT   NOT NULL,
    PRIMARY KEY (job, started_at_ms)
);
