-- The Agora workerpool's own progress (not derived from logs, so no reorg touches it). A scope is
-- one worker of one workerpool on one chain; `genesis` (the hash of block 0) tells a fresh dev
-- chain from the one an earlier run worked on, since both have the same chain id.
CREATE TABLE iexec_worker_cursor (
    chain_id   BIGINT NOT NULL,
    genesis    TEXT   NOT NULL,
    hub        TEXT   NOT NULL,
    workerpool TEXT   NOT NULL,
    worker     TEXT   NOT NULL,
    -- The next block whose SchedulerNotice logs have not been read yet.
    next_block BIGINT NOT NULL,
    PRIMARY KEY (chain_id, genesis, hub, workerpool, worker)
);

-- One row per task of a deal on the pool: each stage is written before the work of the next begins.
CREATE TABLE iexec_worker_tasks (
    chain_id       BIGINT NOT NULL,
    genesis        TEXT   NOT NULL,
    hub            TEXT   NOT NULL,
    workerpool     TEXT   NOT NULL,
    worker         TEXT   NOT NULL,
    task_id        TEXT   NOT NULL,
    deal_id        TEXT   NOT NULL,
    idx            BIGINT NOT NULL,
    stage          TEXT   NOT NULL,
    -- The result archive's CID (zip: output + computed.json) and the output file's own CID.
    result_cid     TEXT,
    output_cid     TEXT,
    result_digest  TEXT,
    failure_reason TEXT,
    tx_hash        TEXT,
    outcome        TEXT,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (chain_id, genesis, hub, workerpool, worker, task_id)
);
