-- Sign-In with Ethereum: nonces the server issued (each usable once, until it expires) and the
-- sessions created from verified messages. Sessions are stored by the hash of their token, so a
-- leaked database does not leak usable cookies.
CREATE TABLE auth_nonces (
    nonce      TEXT   PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

CREATE TABLE auth_sessions (
    token_hash TEXT   PRIMARY KEY,
    address    TEXT   NOT NULL,
    chain_id   BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX auth_sessions_expiry ON auth_sessions (expires_at);
