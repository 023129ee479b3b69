-- 0013: the staff dashboard's counts (GET /v1/staff/stats): scans by time, scene and result, read from an index
-- that holds all three, so counting a day of scans reads no table row.
CREATE INDEX scans_time ON scans (scanned_at, scene, result);
