-- Indexer bookkeeping: where each chain's cursor stands, the blocks it has seen, every log once.
CREATE TABLE indexer_cursor (
    chain_id     BIGINT  NOT NULL PRIMARY KEY,
    block_number BIGINT  NOT NULL,
    block_hash   TEXT    NOT NULL
);

CREATE TABLE indexed_blocks (
    chain_id    BIGINT NOT NULL,
    number      BIGINT NOT NULL,
    hash        TEXT   NOT NULL,
    parent_hash TEXT   NOT NULL,
    timestamp   BIGINT NOT NULL,
    PRIMARY KEY (chain_id, number)
);

CREATE TABLE chain_logs (
    chain_id        BIGINT NOT NULL,
    block_number    BIGINT NOT NULL,
    block_hash      TEXT   NOT NULL,
    block_timestamp BIGINT NOT NULL,
    tx_hash         TEXT   NOT NULL,
    log_index       BIGINT NOT NULL,
    address         TEXT   NOT NULL,
    kind            TEXT   NOT NULL,
    -- what the event is about: 'task:3', 'service:1', 'channel:0x…'
    subject         TEXT   NOT NULL,
    event           TEXT   NOT NULL,
    PRIMARY KEY (chain_id, tx_hash, log_index)
);
CREATE INDEX chain_logs_order ON chain_logs (chain_id, block_number, log_index);
CREATE INDEX chain_logs_subject ON chain_logs (chain_id, subject);

-- Compute market state derived from the logs above.
CREATE TABLE services (
    chain_id      BIGINT NOT NULL,
    service_id    BIGINT NOT NULL,
    provider      TEXT   NOT NULL,
    token         TEXT   NOT NULL,
    price         TEXT   NOT NULL,
    max_run_time  BIGINT NOT NULL,
    metadata_uri  TEXT   NOT NULL,
    active        BIGINT NOT NULL,
    listed_block  BIGINT NOT NULL,
    PRIMARY KEY (chain_id, service_id)
);

CREATE TABLE tasks (
    chain_id        BIGINT NOT NULL,
    task_id         BIGINT NOT NULL,
    user_address    TEXT   NOT NULL,
    service_id      BIGINT NOT NULL,
    amount          TEXT   NOT NULL,
    token           TEXT   NOT NULL,
    deadline        BIGINT,
    input           TEXT,
    status          TEXT   NOT NULL,
    result_hash     TEXT,
    failure_reason  TEXT,
    created_block   BIGINT NOT NULL,
    created_tx      TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_block   BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (chain_id, task_id)
);
CREATE INDEX tasks_user ON tasks (chain_id, user_address);
