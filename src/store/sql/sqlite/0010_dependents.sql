-- 0010: relatives (core/dependents.h): a resident (the guardian) shows a code for a dependent who has no phone of
-- their own. One row per link between a guardian's account and a dependent of the population registry; a link is
-- pending until the dependent consents (an adult), active, then declined, removed or ended (a minor turned 18).
-- sealed holds the dependent's name and ID number sealed as a holder's particulars (core/pii.h), never in clear.
CREATE TABLE dependent_links (
	link_id            INTEGER PRIMARY KEY,
	guardian_id        INTEGER NOT NULL REFERENCES citizens (citizen_id),
	guardian_person_id INTEGER NOT NULL REFERENCES population (person_id),
	person_id          INTEGER NOT NULL REFERENCES population (person_id),
	relation           TEXT NOT NULL,
	state              TEXT NOT NULL CHECK (state IN ('pending', 'active', 'declined', 'removed', 'ended')),
	adult_at           INTEGER NOT NULL, -- unix seconds when a minor dependent turns 18; 0: an adult when added
	sealed             BLOB NOT NULL,
	created_at         INTEGER NOT NULL,
	changed_at         INTEGER NOT NULL
);
-- one live link per guardian and dependent
CREATE UNIQUE INDEX dependent_links_live ON dependent_links (guardian_id, person_id)
	WHERE state IN ('pending', 'active');
CREATE INDEX dependent_links_guardian ON dependent_links (guardian_id, link_id);
CREATE INDEX dependent_links_person ON dependent_links (person_id, link_id);
CREATE INDEX dependent_links_state ON dependent_links (state) WHERE state = 'active';
