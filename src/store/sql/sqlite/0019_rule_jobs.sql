-- 0019: applying a rule set is a job (core/rulejob.h) whose progress is kept, so that a server stopped or killed
-- part-way finishes it after a restart, and everyone can see how far it got.
CREATE TABLE rule_jobs (
	job_id       INTEGER PRIMARY KEY,
	version      TEXT NOT NULL,              -- the rule set it makes active
	state        TEXT NOT NULL,              -- running, done, failed
	started_by   INTEGER NOT NULL,           -- staff id; 0: the command line
	started_at   INTEGER NOT NULL,           -- unix seconds
	finished_at  INTEGER NOT NULL DEFAULT 0, -- unix seconds; 0 while running
	people_total INTEGER NOT NULL DEFAULT -1, -- people with records when it started; -1 until counted
	people_done  INTEGER NOT NULL DEFAULT 0,
	changed      INTEGER NOT NULL DEFAULT 0, -- of them, those whose colour it changed (counted with each change)
	after        INTEGER NOT NULL DEFAULT 0, -- everyone up to this person id is done
	owner        INTEGER NOT NULL DEFAULT 0, -- the process running it (a random token)
	heartbeat_ms INTEGER NOT NULL DEFAULT 0, -- when its owner last reported; 0: let go, for the next to take
	error        TEXT NOT NULL DEFAULT ''    -- failed: why
);
-- the changes of colour a job made, by district of registration
CREATE TABLE rule_job_changes (
	job_id     INTEGER NOT NULL,
	division   TEXT NOT NULL,
	from_color INTEGER NOT NULL,
	to_color   INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	PRIMARY KEY (job_id, division, from_color, to_color)
) WITHOUT ROWID;
