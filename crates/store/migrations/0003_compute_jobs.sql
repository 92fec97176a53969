-- The compute scheduler's record of each task it runs: every step is written before the next one
-- starts, so a restart resumes where it stopped and reconciles against the indexed task.
CREATE TABLE compute_jobs (
    chain_id       BIGINT NOT NULL,
    task_id        BIGINT NOT NULL,
    stage          TEXT   NOT NULL,
    executor       TEXT   NOT NULL,
    app            TEXT   NOT NULL,
    external_id    TEXT,
    result_cid     TEXT,
    failure_reason TEXT,
    attempts       BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (chain_id, task_id)
);
