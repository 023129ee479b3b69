-- 0014: the nonces of signed requests whose effect is kept (core/sign.h), so that a request counts once also
-- across a restart or a crash: a nonce is written in the transaction that keeps what its request did (a scan's with
-- its scan row, a source batch's with its records) and loaded back into the nonce cache at start. ts is the
-- request's X-Timestamp, key the nonce cache's 64-bit key of (client, nonce) (no nonce text, no client id). A replay
-- carries the same timestamp (it is signed), so (ts, key) is the unique key that refuses it; kept in ts order, the
-- rows of one window lie together and old ones are purged from the front.
CREATE TABLE nonces (
    ts INTEGER NOT NULL,
    key INTEGER NOT NULL,
    PRIMARY KEY (ts, key)
) WITHOUT ROWID;
