-- 0005: source clients: the systems of data sources (a lab, an airline, a province's platform, ...) that post
-- batches of records (POST /v1/sources/{source}/records), each allowed only its own source (core/source.h).
-- Their requests are signed as terminals' are; the secret is kept sealed, as a terminal's is.
CREATE TABLE source_clients (
	client_id     INTEGER PRIMARY KEY,
	source        TEXT NOT NULL,
	name          TEXT,
	secret_sealed BLOB NOT NULL,
	created_by    INTEGER, -- staff id
	created_at    INTEGER NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0
);
