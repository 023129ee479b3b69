-- 0004: records from data sources (national platform, provinces, CDC, labs, airlines, railways, declarations, staff,
-- appeals, tracing), the evidence the rules colour people by (core/records.h).
--
-- One row per record_id, whoever sent it: record_key is the blind index (HMAC-SM3 under the index key) of the
-- record_id, which sources may build from personal data, so it is not kept in clear. idx is the blind index of the
-- ID number the record is about, as population.idx is, and deliberately not a reference to population: a record about
-- someone not (yet) in the registry is kept and applies once they are. The record_id, the ID number and the
-- attributes are sealed; kind, source and time are not, so the rules can select by them.
CREATE TABLE records (
	record_seq  INTEGER PRIMARY KEY, -- arrival order
	record_key  BLOB NOT NULL UNIQUE,
	idx         BLOB NOT NULL,
	kind        TEXT NOT NULL,
	source      TEXT NOT NULL,
	occurred_at INTEGER NOT NULL, -- unix seconds
	sealed      BLOB NOT NULL,
	received_at INTEGER NOT NULL  -- unix seconds
);
CREATE INDEX records_person ON records (idx, occurred_at);
