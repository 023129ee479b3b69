-- 0009: the tamper-evident audit log (core/audit.h): every staff action, every read of unmasked personal data, every
-- change of colour and its cause, every key operation, every log-in. Append-only: each entry carries the SM3 hash of
-- the one before it and its own, so changing, removing or inserting an entry breaks the chain from there on; at
-- checkpoints the hash of the latest entry is signed with SM2, so the chain cannot be silently recomputed either.
-- No personal data in clear: the subject is a person id, detail holds ids and codes, never a name or an ID number.
CREATE TABLE audit_log (
	seq        INTEGER PRIMARY KEY, -- 1, 2, 3, ... with no gaps
	at         INTEGER NOT NULL,    -- unix milliseconds
	actor      TEXT NOT NULL,       -- staff, citizen, terminal, source, system
	actor_id   INTEGER NOT NULL,    -- the staff, citizen, terminal or source client id; 0 for the system
	action     TEXT NOT NULL,       -- "login", "status.set", "scan.unmasked", ...
	subject    INTEGER NOT NULL,    -- the person concerned (person_id), 0 if none
	why        TEXT NOT NULL,       -- the scene or case behind a read ("hospital", "appeal:12"), '' if none
	unmasked   INTEGER NOT NULL,    -- 1 if it read the subject's personal data unmasked
	detail     TEXT NOT NULL,       -- a JSON object, no personal data
	prev       BLOB NOT NULL,       -- hash of the entry before (32 zero bytes for the first)
	hash       BLOB NOT NULL        -- SM3 over prev and this entry (core/audit.c)
);
CREATE INDEX audit_subject ON audit_log (subject, seq) WHERE subject > 0;
CREATE INDEX audit_actor ON audit_log (actor, actor_id, seq);
CREATE INDEX audit_action ON audit_log (action, seq);
CREATE INDEX audit_at ON audit_log (at);

-- the chain's hash at an entry, signed with the audit key (SM2)
CREATE TABLE audit_checkpoints (
	seq       INTEGER PRIMARY KEY, -- the entry signed
	hash      BLOB NOT NULL,
	signature BLOB NOT NULL,
	at        INTEGER NOT NULL     -- unix milliseconds
);
