-- Profiles and community posts (issue 15). Node-owned, not derived from the chain: no reorg or
-- rebuild touches them. A community is an on-chain Communities id; its owner, admins and members
-- are read at request time from the indexed `communities`, `community_admins` and
-- `community_members` (no foreign key: those tables are the indexer's).

-- A person's display name and avatar (a CID in the node's content store), one row per address on
-- every chain. Unset fields are NULL.
CREATE TABLE profiles (
    address      TEXT   PRIMARY KEY,
    display_name TEXT,
    avatar_cid   TEXT,
    updated_at   BIGINT NOT NULL
);

-- Threads and replies. A thread's opening post has `thread_id = id` and a title; a reply names
-- its thread and has no title. `body` is the markdown as sent; a deleted post keeps its row with
-- `title` and `body` NULL (the tombstone) and `deleted_at` set. `hidden_at`, `locked_at` and
-- `pinned_at` are set while a moderator keeps the post hidden, the thread locked or pinned.
CREATE TABLE posts (
    chain_id     BIGINT NOT NULL,
    id           BIGINT NOT NULL,
    community_id BIGINT NOT NULL,
    thread_id    BIGINT NOT NULL,
    author       TEXT   NOT NULL,
    title        TEXT,
    body         TEXT,
    created_at   BIGINT NOT NULL,
    edited_at    BIGINT,
    deleted_at   BIGINT,
    hidden_at    BIGINT,
    locked_at    BIGINT,
    pinned_at    BIGINT,
    PRIMARY KEY (chain_id, id)
);

CREATE INDEX posts_threads ON posts (chain_id, community_id, created_at);
CREATE INDEX posts_replies ON posts (chain_id, thread_id, created_at);
-- The posting rate limit counts an author's recent posts.
CREATE INDEX posts_author_recent ON posts (chain_id, author, created_at);

-- Members' reports of a post: one per member per post. Open until a moderator resolves the post's
-- reports (`resolved_at`, `resolved_by`, `resolution`).
CREATE TABLE post_reports (
    chain_id     BIGINT NOT NULL,
    post_id      BIGINT NOT NULL,
    reporter     TEXT   NOT NULL,
    community_id BIGINT NOT NULL,
    reason       TEXT   NOT NULL,
    reported_at  BIGINT NOT NULL,
    resolved_at  BIGINT,
    resolved_by  TEXT,
    resolution   TEXT,
    PRIMARY KEY (chain_id, post_id, reporter)
);

CREATE INDEX post_reports_open ON post_reports (chain_id, community_id, resolved_at);

-- Every moderation action: who (`actor`), when (`at`), why (`reason`), what (`action`: hide,
-- unhide, lock, unlock, pin, unpin, resolve) on which post. Numbered per chain (`seq`).
CREATE TABLE moderation_log (
    chain_id     BIGINT NOT NULL,
    seq          BIGINT NOT NULL,
    community_id BIGINT NOT NULL,
    post_id      BIGINT NOT NULL,
    actor        TEXT   NOT NULL,
    action       TEXT   NOT NULL,
    reason       TEXT   NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (chain_id, seq)
);

CREATE INDEX moderation_log_community ON moderation_log (chain_id, community_id, seq);

-- The last number handed out (`issued`) per chain and sequence (`post`, `moderation`). Taking a
-- number is one upsert that locks its row until the transaction ends, so numbers have no gaps or
-- collisions, and two API processes writing posts take turns (which also makes the rate limit's
-- count exact).
CREATE TABLE social_sequences (
    chain_id BIGINT NOT NULL,
    name     TEXT   NOT NULL,
    issued   BIGINT NOT NULL,
    PRIMARY KEY (chain_id, name)
);
