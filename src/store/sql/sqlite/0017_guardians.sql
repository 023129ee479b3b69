-- 0017: relatives' codes with authority (core/dependents.h). A minor is linked at once only to a guardian the
-- population registry names (its optional guardians column, core/population.h); any other link waits for an operator
-- who has seen a document, or for an adult's consent, and an adult may withdraw consent given.
--
-- The guardians the registry names for a person, each kept only as the blind index of their ID number (core/pii.h):
-- nothing reads a guardian's number back, the registry is only asked whether it names a given resident.
CREATE TABLE registry_guardians (
	person_id    INTEGER NOT NULL REFERENCES population (person_id),
	guardian_idx BLOB NOT NULL,
	PRIMARY KEY (person_id, guardian_idx)
) WITHOUT ROWID;

-- dependent_links again, since SQLite cannot change a CHECK constraint in place: the state 'withdrawn' (an adult
-- dependent ended a link they had consented to), and basis, what made a link active: 'registry' (the registry names
-- the guardian), 'birth_certificate' or 'household_register' (the document an operator saw), 'app' (the adult
-- consented in the app), 'hotline' (the adult consented on a call); '' while pending, and for links made active
-- before this migration (which recorded no basis).
CREATE TABLE dependent_links_0017 (
	link_id            INTEGER PRIMARY KEY,
	guardian_id        INTEGER NOT NULL REFERENCES citizens (citizen_id),
	guardian_person_id INTEGER NOT NULL REFERENCES population (person_id),
	person_id          INTEGER NOT NULL REFERENCES population (person_id),
	relation           TEXT NOT NULL,
	state              TEXT NOT NULL
		CHECK (state IN ('pending', 'active', 'declined', 'removed', 'ended', 'withdrawn')),
	adult_at           INTEGER NOT NULL,
	sealed             BLOB NOT NULL,
	created_at         INTEGER NOT NULL,
	changed_at         INTEGER NOT NULL,
	basis              TEXT NOT NULL DEFAULT ''
		CHECK (basis IN ('', 'registry', 'birth_certificate', 'household_register', 'app', 'hotline'))
);
INSERT INTO dependent_links_0017 (link_id, guardian_id, guardian_person_id, person_id, relation, state, adult_at,
                                  sealed, created_at, changed_at)
	SELECT link_id, guardian_id, guardian_person_id, person_id, relation, state, adult_at, sealed, created_at,
	       changed_at FROM dependent_links;
DROP TABLE dependent_links;
ALTER TABLE dependent_links_0017 RENAME TO dependent_links;
CREATE UNIQUE INDEX dependent_links_live ON dependent_links (guardian_id, person_id)
	WHERE state IN ('pending', 'active');
CREATE INDEX dependent_links_guardian ON dependent_links (guardian_id, link_id);
CREATE INDEX dependent_links_person ON dependent_links (person_id, link_id);
CREATE INDEX dependent_links_state ON dependent_links (state) WHERE state = 'active';
