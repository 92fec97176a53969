-- Predictions paid by vouchers on a payment channel to the node's fee receiver, and the fees the
-- receiver forwarded to FederatedMarket.

-- One row per paid prediction, keyed by the client's idempotency key: a retried request finds its
-- row and is answered again without a second charge. `cumulative` is the voucher the payment stood
-- on (the channel's account with the node went from `cumulative - fee` to it, in the same
-- transaction as this row); `answer` the model's answer (JSON). Not derived from the chain (the node
-- owns it), so no reorg touches it.
CREATE TABLE fl_voucher_predictions (
    chain_id   BIGINT NOT NULL,
    request_key TEXT  NOT NULL,
    task_id    BIGINT NOT NULL,
    channel_id TEXT   NOT NULL,
    payer      TEXT   NOT NULL,
    input_hash TEXT   NOT NULL,
    token      TEXT   NOT NULL,
    fee        TEXT   NOT NULL,
    cumulative TEXT   NOT NULL,
    answer     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (chain_id, request_key)
);
CREATE INDEX fl_voucher_predictions_task ON fl_voucher_predictions (chain_id, task_id);
CREATE INDEX fl_voucher_predictions_channel ON fl_voucher_predictions (chain_id, channel_id, created_at);

-- FederatedMarket's PredictionFeesPaid: `prediction_count` fees of a task paid at once by `payer`
-- (the fee receiver forwarding what vouchers paid it). Derived from the chain.
CREATE TABLE fl_fee_payments (
    chain_id         BIGINT NOT NULL,
    task_id          BIGINT NOT NULL,
    block_number     BIGINT NOT NULL,
    log_index        BIGINT NOT NULL,
    payer            TEXT   NOT NULL,
    prediction_count BIGINT NOT NULL,
    amount           TEXT   NOT NULL,
    tx_hash          TEXT   NOT NULL,
    paid_at          BIGINT NOT NULL,
    PRIMARY KEY (chain_id, block_number, log_index)
);
CREATE INDEX fl_fee_payments_task ON fl_fee_payments (chain_id, task_id, payer);
