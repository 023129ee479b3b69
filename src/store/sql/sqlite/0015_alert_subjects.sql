-- 0015: no false shared_code alerts, and alerts that name what they are about. A scan keeps its code's fingerprint
-- (crypto/code.h: a keyed hash that tells one code from another, from which the code cannot be rebuilt), so that two
-- codes of one person issued in the same second are two codes. An alert keeps the ids it is about in columns, so that
-- a read can name the places and staff and show the people masked; alerts raised before are filled in from their
-- detail.
ALTER TABLE scans ADD COLUMN code_fingerprint INTEGER; -- NULL for an invalid code, and for scans before 0015
ALTER TABLE alerts ADD COLUMN person_id INTEGER;       -- shared_code: the code's holder
ALTER TABLE alerts ADD COLUMN presenter_id INTEGER;    -- shared_code: the relative who presented it, if one did
ALTER TABLE alerts ADD COLUMN staff_id INTEGER;        -- staff_reads
ALTER TABLE alerts ADD COLUMN place_id INTEGER;        -- probing: the terminal's place; shared_code: the first place
ALTER TABLE alerts ADD COLUMN other_place_id INTEGER;  -- shared_code: the second place
UPDATE alerts SET person_id = json_extract(detail, '$.person_id'), staff_id = json_extract(detail, '$.staff_id'),
	place_id = coalesce(json_extract(detail, '$.place_id'), json_extract(detail, '$.places[0]')),
	other_place_id = json_extract(detail, '$.places[1]');
