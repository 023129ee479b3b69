-- 0008: tracing companions (core/trace.h) reads who was scanned at a place in a span of time: the place index
-- carries the people too, so that the read touches the index alone, never the table's rows.
DROP INDEX scans_place;
CREATE INDEX scans_place ON scans (place_id, scanned_at, person_id, presenter_id);
