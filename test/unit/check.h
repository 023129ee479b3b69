/*
 * check: the unit-test harness. Each test program is a main() of CHECK()s
 * grouped in cases; it prints TAP (one "ok N - case" or "not ok N - case" per
 * case, with the failing expression and line as a "#" comment) and exits
 * non-zero if any case failed. scripts/run-tests adds the cases up.
 *
 *   static void test_sm3_abc(void) { CHECK(x == y); }
 *   int main(void) { RUN(test_sm3_abc); return check_done(); }
 */
#ifndef SS_TEST_CHECK_H
#define SS_TEST_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_case_failed, check_cases, check_failed_cases;

#define CHECK(expr)                                                                       \
	do {                                                                              \
		if (!(expr)) {                                                            \
			printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
			check_case_failed = 1;                                            \
		}                                                                         \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *check_a_ = (a), *check_b_ = (b);                                       \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {                   \
			printf("# %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
			       check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");    \
			check_case_failed = 1;                                                     \
		}                                                                                  \
	} while (0)

#define RUN(fn)                                                                              \
	do {                                                                                 \
		check_case_failed = 0;                                                       \
		fn();                                                                        \
		check_cases++;                                                               \
		if (check_case_failed)                                                       \
			check_failed_cases++;                                                \
		printf("%sok %d - %s\n", check_case_failed ? "not " : "", check_cases, #fn); \
		fflush(stdout);                                                              \
	} while (0)

/*
 * A fresh temporary directory for a test program's data: dir gets
 * "/tmp/suishen-unit-XXXXXX/data", a data directory not made yet (the program
 * makes it with ss_app_open). False if the temporary directory cannot be made.
 */
static inline bool check_data_dir(char dir[64])
{
	snprintf(dir, 64, "/tmp/suishen-unit-XXXXXX");
	if (!mkdtemp(dir))
		return false;
	strcat(dir, "/data");
	return true;
}

/* Removes the temporary directory check_data_dir made (dir with its "/data"); false if it could not. */
static inline bool check_data_dir_remove(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(dir) - 5), dir);
	return system(cmd) == 0;
}

static inline int check_done(void)
{
	printf("1..%d\n", check_cases);
	return check_failed_cases ? 1 : 0;
}

#endif
