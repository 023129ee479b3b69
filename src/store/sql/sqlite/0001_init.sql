-- 0001: the foundation: settings, key ring, population registry, residents, sessions, staff.
-- Personal data is stored only sealed (SM4-CTR + HMAC-SM3 under the key ring) and found by blind index.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE keys (
	key_id     INTEGER PRIMARY KEY,
	purpose    TEXT NOT NULL CHECK (purpose IN ('code', 'data', 'index')),
	state      TEXT NOT NULL CHECK (state IN ('current', 'active', 'retired')),
	wrapped    BLOB NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE population (
	person_id  INTEGER PRIMARY KEY,
	idx        BLOB NOT NULL UNIQUE,
	division   TEXT NOT NULL,
	sealed     BLOB NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE citizens (
	citizen_id    INTEGER PRIMARY KEY,
	person_id     INTEGER NOT NULL UNIQUE REFERENCES population (person_id),
	idx           BLOB NOT NULL UNIQUE,
	sealed        BLOB NOT NULL,
	totp_sealed   BLOB NOT NULL,
	password_hash TEXT NOT NULL,
	channel       TEXT NOT NULL,
	created_at    INTEGER NOT NULL,
	failures      INTEGER NOT NULL DEFAULT 0,
	blocked_until INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
	token_hash BLOB PRIMARY KEY,
	citizen_id INTEGER NOT NULL REFERENCES citizens (citizen_id),
	channel    TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE staff (
	staff_id   INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'handler', 'epidemiologist', 'security')),
	token_hash BLOB NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
);
