-- 0011: appeals (申诉, GB/T 38963's correction interface; core/appeals.h). A resident, or a hotline operator for a
-- caller, contests a colour; a handler claims it, records the department data check and the grassroots check, and
-- decides. What the person wrote, the checks' findings and the decision's reason are personal data: sealed blobs.
CREATE TABLE appeals (
	appeal_id     INTEGER PRIMARY KEY,
	person_id     INTEGER NOT NULL REFERENCES population (person_id),
	citizen_id    INTEGER NOT NULL,    -- the resident who filed it; 0 if an operator filed it for a caller
	channel       TEXT NOT NULL,       -- app, wechat, alipay, web, hotline
	filed_by      TEXT NOT NULL,       -- actor kind: citizen or staff
	filed_by_id   INTEGER NOT NULL,
	state         TEXT NOT NULL,       -- submitted, assigned, checking, upheld, rejected, closed
	filed_at      INTEGER NOT NULL,    -- unix seconds
	due_at        INTEGER NOT NULL,    -- when a decision is due (filed_at + 24 h)
	handler_id    INTEGER NOT NULL DEFAULT 0, -- the staff member it is assigned to, 0 if none
	sealed        BLOB NOT NULL,       -- ID number, reason, details
	data_check    BLOB,                -- the department data check's finding, sealed; NULL until recorded
	grass_check   BLOB,                -- the grassroots check's finding, sealed; NULL until recorded
	decision      TEXT NOT NULL DEFAULT '', -- '', upheld, rejected
	decided_at    INTEGER NOT NULL DEFAULT 0,
	decision_secs INTEGER,             -- decided_at - filed_at once decided (for the median)
	color         TEXT NOT NULL DEFAULT '', -- upheld: the colour set
	until         INTEGER NOT NULL DEFAULT 0, -- upheld: until when
	decision_sealed BLOB               -- the decision's reason, sealed
);
-- the handlers' queue: keyset paging on (due_at, appeal_id), per state or over all
CREATE INDEX appeals_queue ON appeals (state, due_at, appeal_id);
CREATE INDEX appeals_due ON appeals (due_at, appeal_id);
CREATE INDEX appeals_person ON appeals (person_id, appeal_id);
CREATE INDEX appeals_decision_secs ON appeals (decision_secs) WHERE decision_secs IS NOT NULL;

-- every transition: who (actor kind and id) and when
CREATE TABLE appeal_events (
	event_id  INTEGER PRIMARY KEY,
	appeal_id INTEGER NOT NULL REFERENCES appeals (appeal_id),
	at        INTEGER NOT NULL, -- unix seconds
	action    TEXT NOT NULL,    -- filed, claimed, checked, decided, closed
	kind      TEXT NOT NULL,    -- checked: data or grassroots; decided: upheld or rejected; else ''
	state     TEXT NOT NULL,    -- the state after it
	actor     TEXT NOT NULL,    -- citizen or staff
	actor_id  INTEGER NOT NULL
);
CREATE INDEX appeal_events_of ON appeal_events (appeal_id, event_id);
