-- 0012: security alerts (core/alerts.h). A scan keeps when the code it read was issued, so that one code scanned
-- at two places can be told from two codes of the same person; alerts raised are kept until acknowledged.
ALTER TABLE scans ADD COLUMN code_issued_at INTEGER; -- unix seconds; NULL for an invalid code
CREATE TABLE alerts (
	alert_id        INTEGER PRIMARY KEY,
	kind            TEXT NOT NULL,    -- probing, shared_code, staff_reads, login_failures
	raised_at       INTEGER NOT NULL, -- unix milliseconds
	subject         TEXT NOT NULL,    -- "terminal:12", "person:34", "staff:5", "source:<keyed hash>"
	detail          TEXT NOT NULL,    -- a JSON object, no personal data
	acknowledged_by INTEGER,          -- staff id
	acknowledged_at INTEGER           -- unix milliseconds
);
CREATE INDEX alerts_raised ON alerts (raised_at);
