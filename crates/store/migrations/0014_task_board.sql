-- The community task market as the chain says it is: TaskBoard's tasks and workers' claims, and the
-- communities of Communities with their admins, members, minting budgets and points balances
-- (derived from the two contracts' logs and the points tokens' ERC-20 Transfer logs; a reorg rebuilds
-- all of it). Amounts are decimal strings of the smallest unit (points have no decimals); booleans
-- 0 or 1; times unix seconds.

-- Communities. `owner` and `pending_owner` follow the two-step transfer; `points_token` is the
-- community's EIP-1167 clone of CommunityPoints; `points_supply`: every point ever minted (points
-- are never burned, so it is the token's totalSupply).
CREATE TABLE communities (
    chain_id          BIGINT NOT NULL,
    community_id      BIGINT NOT NULL,
    owner             TEXT   NOT NULL,
    pending_owner     TEXT,
    arbiter           TEXT   NOT NULL,
    points_token      TEXT   NOT NULL,
    name              TEXT   NOT NULL,
    symbol            TEXT   NOT NULL,
    metadata_uri      TEXT   NOT NULL,
    transfers_enabled BIGINT NOT NULL,
    member_count      BIGINT NOT NULL,
    points_supply     TEXT   NOT NULL,
    created_block     BIGINT NOT NULL,
    created_tx        TEXT   NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_block     BIGINT NOT NULL,
    PRIMARY KEY (chain_id, community_id)
);
CREATE INDEX communities_points_token ON communities (chain_id, points_token);
CREATE INDEX communities_owner ON communities (chain_id, owner);

-- Admins the owner appointed (AdminAdded, until AdminRemoved). The owner is an admin by the
-- contract's rule (`isAdmin`) without a row here, unless it was also appointed.
CREATE TABLE community_admins (
    chain_id      BIGINT NOT NULL,
    community_id  BIGINT NOT NULL,
    account       TEXT   NOT NULL,
    added_block   BIGINT NOT NULL,
    added_at      BIGINT NOT NULL,
    PRIMARY KEY (chain_id, community_id, account)
);

-- Current members (a row from MemberJoined until MemberLeft); `joined_log` orders joins in a block.
CREATE TABLE community_members (
    chain_id      BIGINT NOT NULL,
    community_id  BIGINT NOT NULL,
    account       TEXT   NOT NULL,
    joined_block  BIGINT NOT NULL,
    joined_log    BIGINT NOT NULL,
    joined_at     BIGINT NOT NULL,
    PRIMARY KEY (chain_id, community_id, account)
);
CREATE INDEX community_members_account ON community_members (chain_id, account);

-- Points balances from the points token's Transfer logs (mints are transfers from the zero
-- address), so a balance here is the token's balanceOf. A row stays at '0' once emptied.
CREATE TABLE community_points (
    chain_id      BIGINT NOT NULL,
    community_id  BIGINT NOT NULL,
    account       TEXT   NOT NULL,
    balance       TEXT   NOT NULL,
    updated_block BIGINT NOT NULL,
    PRIMARY KEY (chain_id, community_id, account)
);
CREATE INDEX community_points_account ON community_points (chain_id, account);

-- Minting budgets admins gave other contracts (the TaskBoard): the contract's `mintBudget`.
CREATE TABLE community_minters (
    chain_id      BIGINT NOT NULL,
    community_id  BIGINT NOT NULL,
    minter        TEXT   NOT NULL,
    allowance     TEXT   NOT NULL,
    reserved      TEXT   NOT NULL,
    updated_block BIGINT NOT NULL,
    PRIMARY KEY (chain_id, community_id, minter)
);

-- Tasks with their terms and counters, as TaskBoard's `getTask` returns them. `community_id` NULL:
-- none. `state`: open or cancelled (the contract's TaskState); `submitted`: a submission ever
-- existed (no cancel since). Slots: `working` held with nothing submitted, `active` a submission
-- not settled, `settled` paid out or refunded; `free_slots` = slots - working - active - settled
-- (takeable until the deadline). `paid_to_workers` and `refunded` sum what left the escrow to each
-- side; `points_minted` the points approved workers got.
CREATE TABLE board_tasks (
    chain_id        BIGINT NOT NULL,
    task_id         BIGINT NOT NULL,
    publisher       TEXT   NOT NULL,
    community_id    BIGINT,
    token           TEXT   NOT NULL,
    reward          TEXT   NOT NULL,
    reward_per_slot TEXT   NOT NULL,
    points          TEXT   NOT NULL,
    slots           BIGINT NOT NULL,
    free_slots      BIGINT NOT NULL,
    working         BIGINT NOT NULL,
    active          BIGINT NOT NULL,
    settled         BIGINT NOT NULL,
    deadline        BIGINT NOT NULL,
    review_window   BIGINT NOT NULL,
    work_timeout    BIGINT NOT NULL,
    max_revisions   BIGINT NOT NULL,
    arbiter         TEXT   NOT NULL,
    spec            TEXT   NOT NULL,
    state           TEXT   NOT NULL,
    submitted       BIGINT NOT NULL,
    paid_to_workers TEXT   NOT NULL,
    refunded        TEXT   NOT NULL,
    points_minted   TEXT   NOT NULL,
    created_block   BIGINT NOT NULL,
    created_tx      TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_block   BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (chain_id, task_id)
);
CREATE INDEX board_tasks_publisher ON board_tasks (chain_id, publisher);
CREATE INDEX board_tasks_community ON board_tasks (chain_id, community_id);

-- Workers' claims on slots, as TaskBoard's `getClaim` returns them (`state`, `revisions`,
-- `accepted_at`, `since`), plus what the events told: the latest deliverable and its review end,
-- the latest rejection and its answer end, the dispute, and the settlement.
CREATE TABLE board_claims (
    chain_id        BIGINT NOT NULL,
    task_id         BIGINT NOT NULL,
    worker          TEXT   NOT NULL,
    state           TEXT   NOT NULL,
    revisions       BIGINT NOT NULL,
    accepted_at     BIGINT NOT NULL,
    since           BIGINT NOT NULL,
    deliverable     TEXT,
    review_ends_at  BIGINT,
    reject_reason   TEXT,
    revisions_left  BIGINT,
    answer_ends_at  BIGINT,
    dispute_reason  TEXT,
    worker_bps      BIGINT,
    approved_by     TEXT,
    lapsed          BIGINT,
    paid            TEXT   NOT NULL,
    publisher_share TEXT   NOT NULL,
    points          TEXT   NOT NULL,
    accepted_block  BIGINT NOT NULL,
    accepted_log    BIGINT NOT NULL,
    updated_block   BIGINT NOT NULL,
    PRIMARY KEY (chain_id, task_id, worker)
);
CREATE INDEX board_claims_worker ON board_claims (chain_id, worker);

-- The board's platform arbiter (decides disputes of tasks without a community).
CREATE TABLE board_settings (
    chain_id         BIGINT NOT NULL,
    platform_arbiter TEXT   NOT NULL,
    updated_block    BIGINT NOT NULL,
    PRIMARY KEY (chain_id)
);
