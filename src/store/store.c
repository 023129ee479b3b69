/* store: choosing a back end by name (see store.h). */
#include "store/store.h"

#include <stdio.h>
#include <string.h>

enum ss_err ss_store_open(const char *backend, const char *data_dir, bool create, struct ss_store **out)
{
	char path[4096];

	if (strcmp(backend, "sqlite") != 0)
		return ss_fail(SS_INVALID, "backend", "unknown store back end '%s'", backend);
	if ((size_t)snprintf(path, sizeof(path), "%s/suishen.db", data_dir) >= sizeof(path))
		return ss_fail(SS_INVALID, "data", "data directory path too long");
	return ss_store_sqlite_open(path, create, out);
}

void ss_store_close(struct ss_store *s)
{
	if (s)
		s->ops->close(s);
}
