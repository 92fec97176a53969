-- The federated-learning market as the chain says it is (derived from FederatedMarket's logs; a
-- reorg rebuilds it). Amounts are decimal strings of the smallest unit; shares out of 10^18.

-- Tasks with their terms and where they stand. `state`: open, training, finished, cancelled or
-- abandoned; `mode`: reward_pool or shareholding. `block_payments`: what the start paid the investor
-- for blocks bought before it; `block_revenue`: every block payment the investor received (those and
-- the purchases during training). `claimed`: the part of the pool paid to claimants; `reclaimed`: the
-- rest that went back to the investor after the claim period.
CREATE TABLE fl_tasks (
    chain_id         BIGINT NOT NULL,
    task_id          BIGINT NOT NULL,
    investor         TEXT   NOT NULL,
    coordinator      TEXT   NOT NULL,
    mode             TEXT   NOT NULL,
    token            TEXT   NOT NULL,
    pool             TEXT   NOT NULL,
    prediction_fee   TEXT   NOT NULL,
    spec             TEXT   NOT NULL,
    block_token      TEXT   NOT NULL,
    block_price      TEXT   NOT NULL,
    total_blocks     BIGINT NOT NULL,
    blocks_sold      BIGINT NOT NULL,
    min_participants BIGINT NOT NULL,
    start_deadline   BIGINT NOT NULL,
    finish_deadline  BIGINT NOT NULL,
    state            TEXT   NOT NULL,
    members          BIGINT NOT NULL,
    block_payments   TEXT,
    block_revenue    TEXT   NOT NULL,
    rewards_root     TEXT,
    record_cid       TEXT,
    claim_deadline   BIGINT,
    holders          BIGINT,
    claimed          TEXT   NOT NULL,
    reclaimed        TEXT,
    cancelled_by     TEXT,
    pool_refunded    TEXT,
    created_block    BIGINT NOT NULL,
    created_tx       TEXT   NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_block    BIGINT NOT NULL,
    PRIMARY KEY (chain_id, task_id)
);
CREATE INDEX fl_tasks_investor ON fl_tasks (chain_id, investor);

-- Members, one row per account that ever joined. `joined_block`, `joined_log`: the log position of
-- its latest join (the order the coordinator hands out blocks in). `active` = 0 once it left.
-- `blocks`: blocks it bought and did not get back; `escrowed`: what it paid for them before the start
-- (kept as a record after the start; 0 once refunded).
CREATE TABLE fl_members (
    chain_id     BIGINT NOT NULL,
    task_id      BIGINT NOT NULL,
    account      TEXT   NOT NULL,
    joined_block BIGINT NOT NULL,
    joined_log   BIGINT NOT NULL,
    active       BIGINT NOT NULL,
    blocks       BIGINT NOT NULL,
    escrowed     TEXT   NOT NULL,
    PRIMARY KEY (chain_id, task_id, account)
);
CREATE INDEX fl_members_account ON fl_members (chain_id, account);

-- Block purchases in chain order (block, log index): the coordinator assigns blocks in this order.
-- `held` = 1 when bought before the start; `voided` = 1 when the buyer left before the start and got
-- the payment back (its blocks went back on sale).
CREATE TABLE fl_block_purchases (
    chain_id     BIGINT NOT NULL,
    task_id      BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    log_index    BIGINT NOT NULL,
    buyer        TEXT   NOT NULL,
    block_count  BIGINT NOT NULL,
    cost         TEXT   NOT NULL,
    blocks_sold  BIGINT NOT NULL,
    held         BIGINT NOT NULL,
    voided       BIGINT NOT NULL,
    tx_hash      TEXT   NOT NULL,
    PRIMARY KEY (chain_id, task_id, block_number, log_index)
);
CREATE INDEX fl_block_purchases_buyer ON fl_block_purchases (chain_id, buyer);

-- Reward claims, one per account per task.
CREATE TABLE fl_claims (
    chain_id      BIGINT NOT NULL,
    task_id       BIGINT NOT NULL,
    account       TEXT   NOT NULL,
    amount        TEXT   NOT NULL,
    claimed_block BIGINT NOT NULL,
    claimed_tx    TEXT   NOT NULL,
    PRIMARY KEY (chain_id, task_id, account)
);
CREATE INDEX fl_claims_account ON fl_claims (chain_id, account);

-- Shares of a shareholding task's model: `assigned` when the results were posted (0 for an account
-- that received its shares by transfer), `shares` now.
CREATE TABLE fl_shares (
    chain_id      BIGINT NOT NULL,
    task_id       BIGINT NOT NULL,
    account       TEXT   NOT NULL,
    assigned      TEXT   NOT NULL,
    shares        TEXT   NOT NULL,
    updated_block BIGINT NOT NULL,
    PRIMARY KEY (chain_id, task_id, account)
);
CREATE INDEX fl_shares_account ON fl_shares (chain_id, account);

-- Dividends paid to shareholders, one row per withdrawal.
CREATE TABLE fl_dividends_withdrawn (
    chain_id     BIGINT NOT NULL,
    task_id      BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    log_index    BIGINT NOT NULL,
    account      TEXT   NOT NULL,
    amount       TEXT   NOT NULL,
    tx_hash      TEXT   NOT NULL,
    PRIMARY KEY (chain_id, block_number, log_index)
);
CREATE INDEX fl_dividends_withdrawn_account ON fl_dividends_withdrawn (chain_id, account);

-- Paid predictions.
CREATE TABLE fl_predictions (
    chain_id     BIGINT NOT NULL,
    request_id   BIGINT NOT NULL,
    task_id      BIGINT NOT NULL,
    payer        TEXT   NOT NULL,
    fee          TEXT   NOT NULL,
    input_hash   TEXT   NOT NULL,
    block_number BIGINT NOT NULL,
    tx_hash      TEXT   NOT NULL,
    requested_at BIGINT NOT NULL,
    PRIMARY KEY (chain_id, request_id)
);
CREATE INDEX fl_predictions_task ON fl_predictions (chain_id, task_id);
CREATE INDEX fl_predictions_payer ON fl_predictions (chain_id, payer);
