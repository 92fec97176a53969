-- Notifications (issue 15): in the page and by e-mail. Node-owned state: not derived from the chain
-- row by row (a producer turns indexed events into notifications under idempotency keys), so no
-- reorg or rebuild touches it. Accounts are lower-case `0x` hex; times of notifications and
-- addresses are unix seconds, times of the mail outbox milliseconds (its retries back off from
-- fractions of a second).

-- A person's e-mail address: only a verified one (`verified_at` set) receives notification mails.
CREATE TABLE email_addresses (
    account     TEXT   PRIMARY KEY,
    email       TEXT   NOT NULL,
    verified_at BIGINT,
    updated_at  BIGINT NOT NULL
);

-- Verification links sent out: the token is stored only as its SHA-256 (a leaked database proves
-- no address), usable once (`used_at`) before `expires_at`, and only for the address it was sent to.
CREATE TABLE email_tokens (
    token_hash TEXT   PRIMARY KEY,
    account    TEXT   NOT NULL,
    email      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX email_tokens_account ON email_tokens (account);

-- What a person is told, newest the highest id. `subject` names what it is about (`board-task:7`,
-- `community:3`), `payload` is JSON for the page to render in its language, `title` one English
-- sentence (the mail's subject). `idempotency_key` makes a second notify of the same thing a no-op.
CREATE TABLE notifications (
    id              BIGINT PRIMARY KEY,
    recipient       TEXT   NOT NULL,
    kind            TEXT   NOT NULL,
    subject         TEXT   NOT NULL,
    title           TEXT   NOT NULL,
    payload         TEXT   NOT NULL,
    idempotency_key TEXT   NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    read_at         BIGINT
);
CREATE INDEX notifications_recipient ON notifications (recipient, id);

-- How much a person wants to hear about a scope: `default`, `community:N` or `task:N`;
-- level `muted`, `normal` or `watching`. No row: `normal`.
CREATE TABLE notification_prefs (
    account    TEXT   NOT NULL,
    scope      TEXT   NOT NULL,
    level      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account, scope)
);
CREATE INDEX notification_prefs_scope ON notification_prefs (scope, level);

-- One row per mail to send, written in the same transaction as its notification (or its
-- verification token). A sender leases a due row (`lease_owner`, `lease_until_ms`), sends it, then
-- marks it `sent`; a failure puts it back with `next_attempt_at_ms` later, and after the last
-- attempt marks it `failed` keeping `last_error`. `message_id` is derived from the key, so a mail
-- sent again after a crash between sending and marking carries the same Message-ID.
CREATE TABLE mail_outbox (
    id                 BIGINT PRIMARY KEY,
    idempotency_key    TEXT   NOT NULL UNIQUE,
    notification_id    BIGINT,
    recipient          TEXT   NOT NULL,
    to_address         TEXT   NOT NULL,
    subject            TEXT   NOT NULL,
    body               TEXT   NOT NULL,
    message_id         TEXT   NOT NULL,
    status             TEXT   NOT NULL,
    attempts           BIGINT NOT NULL,
    next_attempt_at_ms BIGINT NOT NULL,
    lease_owner        TEXT,
    lease_until_ms     BIGINT,
    last_error         TEXT,
    created_at_ms      BIGINT NOT NULL,
    sent_at_ms         BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at_ms);
