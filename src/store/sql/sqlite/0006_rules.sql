-- rule sets (core/rules.h): every version loaded, one of them active
CREATE TABLE rule_sets (
	version   TEXT PRIMARY KEY,
	text      TEXT NOT NULL,
	loaded_at INTEGER NOT NULL,
	active    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX rule_sets_active ON rule_sets (active) WHERE active = 1;

-- why a colour is what it is: when it next changes by itself, the rule set that gave it, the rules that fired
ALTER TABLE statuses ADD COLUMN review_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE statuses ADD COLUMN rule_set TEXT NOT NULL DEFAULT '';
ALTER TABLE statuses ADD COLUMN fired TEXT NOT NULL DEFAULT '[]';
ALTER TABLE status_history ADD COLUMN review_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE status_history ADD COLUMN rule_set TEXT NOT NULL DEFAULT '';
ALTER TABLE status_history ADD COLUMN fired TEXT NOT NULL DEFAULT '[]';
