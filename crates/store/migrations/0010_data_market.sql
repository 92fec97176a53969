-- The data market as the chain says it is (derived from DataMarket's logs; a reorg rebuilds it).

-- Sellers in the registry. A seller that deregistered keeps its row (registered = 0) so its orders
-- and ratings still name it; registering again brings it back.
CREATE TABLE data_sellers (
    chain_id         BIGINT NOT NULL,
    seller           TEXT   NOT NULL,
    endpoint         TEXT   NOT NULL,
    message_signer   TEXT   NOT NULL,
    menu_hash        TEXT   NOT NULL,
    menu_uri         TEXT   NOT NULL,
    registered       BIGINT NOT NULL,
    registered_block BIGINT NOT NULL,
    updated_block    BIGINT NOT NULL,
    PRIMARY KEY (chain_id, seller)
);

-- Orders with the terms they were opened with and where they stand.
CREATE TABLE data_orders (
    chain_id          BIGINT NOT NULL,
    order_id          TEXT   NOT NULL,
    buyer             TEXT   NOT NULL,
    seller            TEXT   NOT NULL,
    token             TEXT   NOT NULL,
    price             TEXT   NOT NULL,
    total_bytes       BIGINT NOT NULL,
    deadline          BIGINT NOT NULL,
    started_from      BIGINT NOT NULL,
    nonce             TEXT   NOT NULL,
    ack_signer        TEXT   NOT NULL,
    method            TEXT   NOT NULL,
    state             TEXT   NOT NULL,
    received          BIGINT NOT NULL,
    ended_by          TEXT,
    settle_at         BIGINT,
    paid_to_seller    TEXT,
    refunded_to_buyer TEXT,
    opened_block      BIGINT NOT NULL,
    opened_tx         TEXT   NOT NULL,
    opened_at         BIGINT NOT NULL,
    updated_block     BIGINT NOT NULL,
    PRIMARY KEY (chain_id, order_id)
);
CREATE INDEX data_orders_buyer ON data_orders (chain_id, buyer);
CREATE INDEX data_orders_seller ON data_orders (chain_id, seller);

-- Ratings, one per party per finished order. `as_seller` = 1 when the rated party was the order's
-- seller (the buyer rated it), 0 when it was the buyer.
CREATE TABLE data_ratings (
    chain_id     BIGINT NOT NULL,
    order_id     TEXT   NOT NULL,
    rater        TEXT   NOT NULL,
    rated        TEXT   NOT NULL,
    as_seller    BIGINT NOT NULL,
    score        BIGINT NOT NULL,
    comment_hash TEXT   NOT NULL,
    rated_block  BIGINT NOT NULL,
    PRIMARY KEY (chain_id, order_id, rater)
);
CREATE INDEX data_ratings_rated ON data_ratings (chain_id, rated);
