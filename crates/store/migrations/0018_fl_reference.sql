-- The centralised reference a federated-learning coordinator trains beside a task (the same model
-- on the pooled data of every block), rewritten after each of its epochs. Node-owned, like
-- fl_rounds: no reorg or rebuild touches it. `epochs` is how many it will train; `payload` a JSON
-- object with the local epochs per round, the pooled samples, the test accuracy and training loss
-- of each epoch so far (floats as Rust's shortest text) and the seconds spent.
CREATE TABLE fl_references (
    chain_id   BIGINT NOT NULL,
    task_id    BIGINT NOT NULL,
    epochs     BIGINT NOT NULL,
    payload    TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (chain_id, task_id)
);
