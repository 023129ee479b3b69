-- 0018: a data key can be retiring: it still opens what it sealed, but no new blob may name it, while
-- `suishen keys reseal` moves what it sealed to the current key (core/reseal.h). SQLite cannot change a CHECK
-- constraint in place, so the table is made again, with the same rows.
CREATE TABLE keys_new (
	key_id     INTEGER PRIMARY KEY,
	purpose    TEXT NOT NULL CHECK (purpose IN ('code', 'data', 'index')),
	state      TEXT NOT NULL CHECK (state IN ('current', 'active', 'retiring', 'retired')),
	wrapped    BLOB NOT NULL,
	created_at INTEGER NOT NULL
);
INSERT INTO keys_new (key_id, purpose, state, wrapped, created_at)
	SELECT key_id, purpose, state, wrapped, created_at FROM keys;
DROP TABLE keys;
ALTER TABLE keys_new RENAME TO keys;
