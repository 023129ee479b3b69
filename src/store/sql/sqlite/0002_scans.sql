-- 0002: codes and scans: organisations, places, terminals, colours set by hand, and the scan log.

CREATE TABLE orgs (
	org_id     INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
);

CREATE TABLE places (
	place_id   INTEGER PRIMARY KEY,
	org_id     INTEGER NOT NULL REFERENCES orgs (org_id),
	name       TEXT NOT NULL,
	division   TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (org_id, name)
);

CREATE TABLE terminals (
	terminal_id   INTEGER PRIMARY KEY,
	place_id      INTEGER NOT NULL REFERENCES places (place_id),
	scene         TEXT NOT NULL,
	secret_sealed BLOB NOT NULL,
	created_by    INTEGER,
	created_at    INTEGER NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0
);

-- the current colour of a person, when it is not the default green
CREATE TABLE statuses (
	person_id INTEGER PRIMARY KEY REFERENCES population (person_id),
	color     INTEGER NOT NULL CHECK (color IN (0, 1, 2)),
	since     INTEGER NOT NULL,
	rule      TEXT NOT NULL,
	reason    TEXT NOT NULL,
	set_by    INTEGER
);

-- every change of colour, newest last
CREATE TABLE status_history (
	change_id INTEGER PRIMARY KEY,
	person_id INTEGER NOT NULL REFERENCES population (person_id),
	color     INTEGER NOT NULL,
	since     INTEGER NOT NULL,
	rule      TEXT NOT NULL,
	reason    TEXT NOT NULL,
	set_by    INTEGER
);
CREATE INDEX status_history_person ON status_history (person_id, change_id);

-- every scan, whatever its result; person_id is NULL when the code named no one we know
CREATE TABLE scans (
	scan_id      INTEGER PRIMARY KEY,
	terminal_id  INTEGER NOT NULL,
	place_id     INTEGER NOT NULL,
	scene        INTEGER NOT NULL,
	person_id    INTEGER,
	presenter_id INTEGER,
	result       INTEGER NOT NULL,
	key_id       INTEGER,
	scanned_at   INTEGER NOT NULL -- unix milliseconds
);
CREATE INDEX scans_person ON scans (person_id, scanned_at) WHERE person_id IS NOT NULL;
CREATE INDEX scans_place ON scans (place_id, scanned_at);
