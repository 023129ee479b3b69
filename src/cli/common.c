/* common: option parsing and error printing shared by the subcommands (see cli.h). */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The installed pages, relative to the folder of the installed binary. */
#define INSTALLED_WEB "/../share/suishen/web"

int ss_cli_fail(const char *cmd, enum ss_err err)
{
	const char *msg = ss_err_message();
	fprintf(stderr, "suishen %s: %s\n", cmd, *msg ? msg : ss_err_code(err));
	return 1;
}

int ss_cli_usage(const char *cmd, const char *usage)
{
	fprintf(stderr, "usage: suishen %s %s\n", cmd, usage);
	return 2;
}

bool ss_cli_options(const char *cmd, int argc, char **argv, const char *const *names, const char **values,
                    const char **rest, int *nrest, int maxrest)
{
	*nrest = 0;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "--", 2) != 0 || !strcmp(arg, "--")) {
			if (!strcmp(arg, "--"))
				arg = ++i < argc ? argv[i] : NULL;
			if (!arg)
				break;
			if (*nrest == maxrest) {
				fprintf(stderr, "suishen %s: unexpected argument '%s'\n", cmd, arg);
				return false;
			}
			rest[(*nrest)++] = arg;
			continue;
		}
		const char *eq = strchr(arg, '=');
		size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		int k = 0;
		while (names[k] && !(strlen(names[k]) == len && !strncmp(names[k], arg + 2, len)))
			k++;
		if (!names[k]) {
			fprintf(stderr, "suishen %s: unknown option '%.*s'\n", cmd, (int)len + 2, arg);
			return false;
		}
		if (eq) {
			values[k] = eq + 1;
		} else if (i + 1 < argc) {
			values[k] = argv[++i];
		} else {
			fprintf(stderr, "suishen %s: option '--%s' needs a value\n", cmd, names[k]);
			return false;
		}
	}
	return true;
}

const char *ss_cli_web_dir(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX], web[PATH_MAX], page[PATH_MAX];
	struct stat st;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash = n > 0 ? memrchr(exe, '/', (size_t)n) : NULL;
	if (!slash)
		return SS_WEB_DIR;
	*slash = '\0';
	/* installed pages have their index.html; a build folder has no share/ beside it */
	if (snprintf(web, sizeof(web), "%s" INSTALLED_WEB, exe) >= (int)sizeof(web) ||
	    snprintf(page, sizeof(page), "%s/index.html", web) >= (int)sizeof(page) || stat(page, &st) != 0 ||
	    !S_ISREG(st.st_mode) || !realpath(web, dir))
		return SS_WEB_DIR;
	return dir;
}

struct ss_app *ss_cli_open(const char *cmd, const char *data_dir, bool create)
{
	struct ss_app *app = NULL;
	enum ss_err err = ss_app_open(data_dir, create, &app);
	if (err) {
		ss_cli_fail(cmd, err);
		return NULL;
	}
	return app;
}
