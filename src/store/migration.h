/*
 * migration: the schema migrations compiled into the binary from
 * src/store/sql/<backend>/NNNN_name.sql by scripts/embed-sql.py. A back end
 * applies, in order, those whose number is above the schema version it has
 * recorded. Each table ends with an entry whose number is 0.
 */
#ifndef SS_STORE_MIGRATION_H
#define SS_STORE_MIGRATION_H

struct ss_migration {
	int number;
	const char *name;
	const char *sql;
};

extern const struct ss_migration ss_sqlite_migrations[];

#endif
