-- The AI assistant's account with each payment channel, and every reply it streamed. Not derived
-- from the chain (the node owns them), so no reorg touches them.

-- What the assistant has billed a channel: everything delivered, priced. The ledger's
-- channel_vouchers row says how much of it is paid.
CREATE TABLE assistant_accounts (
    chain_id     BIGINT NOT NULL,
    channel_id   TEXT   NOT NULL,
    billed       TEXT   NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (chain_id, channel_id)
);

-- One row per reply (request_id is the client's idempotency key).
CREATE TABLE assistant_replies (
    chain_id          BIGINT NOT NULL,
    request_id        TEXT   NOT NULL,
    channel_id        TEXT   NOT NULL,
    payer             TEXT   NOT NULL,
    model             TEXT   NOT NULL,
    -- keccak256 of the request as the client sent it, to refuse a reused key for another request.
    request_hash      TEXT   NOT NULL,
    -- the messages, JSON; a resumed reply after a restart is generated again from them.
    messages          TEXT   NOT NULL,
    max_tokens        BIGINT NOT NULL,
    prompt_per_1k     TEXT   NOT NULL,
    completion_per_1k TEXT   NOT NULL,
    base              TEXT   NOT NULL,
    prompt_tokens     BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    cost              TEXT   NOT NULL,
    status            TEXT   NOT NULL,
    finish            TEXT,
    via               TEXT   NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (chain_id, request_id)
);
CREATE INDEX assistant_replies_channel ON assistant_replies (chain_id, channel_id, created_at);
CREATE INDEX assistant_replies_payer ON assistant_replies (chain_id, payer, created_at);

-- Every chunk delivered (or about to be: recorded before it is sent).
CREATE TABLE assistant_chunks (
    chain_id    BIGINT NOT NULL,
    request_id  TEXT   NOT NULL,
    seq         BIGINT NOT NULL,
    text        TEXT   NOT NULL,
    tokens      BIGINT NOT NULL,
    cost        TEXT   NOT NULL,
    cumulative  TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (chain_id, request_id, seq)
);

-- People who used the assistant, and whether an admin disabled them.
CREATE TABLE assistant_users (
    address     TEXT   NOT NULL PRIMARY KEY,
    disabled    BIGINT NOT NULL,
    first_seen  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Background jobs an admin paused (a job with no row runs).
CREATE TABLE background_jobs (
    job         TEXT   NOT NULL PRIMARY KEY,
    paused      BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
