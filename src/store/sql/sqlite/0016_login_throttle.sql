-- 0016: log-in throttling by the blind index of the ID number, for every well-formed number, registered or not, so
-- that the answers to failed log-ins do not tell who is registered (core/identity.h). The counts move out of the
-- residents' rows; a lock in force stays in force.
CREATE TABLE login_throttle (
	idx           BLOB PRIMARY KEY, -- blind index of the ID number
	failures      INTEGER NOT NULL, -- consecutive failed attempts (each counted before it is checked)
	blocked_until INTEGER NOT NULL, -- no attempt is checked before this time (unix ms; 0: none)
	last_ms       INTEGER NOT NULL  -- when the last attempt was claimed (unix ms): old counts are forgotten
) WITHOUT ROWID;
CREATE INDEX login_throttle_age ON login_throttle (last_ms);

INSERT INTO login_throttle (idx, failures, blocked_until, last_ms)
SELECT idx, failures, blocked_until, CAST(strftime('%s', 'now') AS INTEGER) * 1000 FROM citizens
WHERE failures > 0 OR blocked_until > 0;
ALTER TABLE citizens DROP COLUMN failures;
ALTER TABLE citizens DROP COLUMN blocked_until;
