/* rules: parser and evaluator of status rules (see rules.h; the format is in docs/rules.md). */
#include "core/rules.h"

#include <assert.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/mem.h"
#include "base/str.h"
#include "core/holders.h"

/* ---- names ---- */

static const char *const kind_names[SS_KIND_COUNT] = {
        [SS_KIND_CONFIRMED_CASE] = "confirmed_case",
        [SS_KIND_SUSPECTED_CASE] = "suspected_case",
        [SS_KIND_RECOVERED] = "recovered",
        [SS_KIND_CLOSE_CONTACT] = "close_contact",
        [SS_KIND_SECONDARY_CONTACT] = "secondary_contact",
        [SS_KIND_RISK_AREA_VISIT] = "risk_area_visit",
        [SS_KIND_TEST_RESULT] = "test_result",
        [SS_KIND_VACCINATION] = "vaccination",
        [SS_KIND_QUARANTINE_START] = "quarantine_start",
        [SS_KIND_QUARANTINE_END] = "quarantine_end",
        [SS_KIND_INBOUND_TRAVEL] = "inbound_travel",
        [SS_KIND_HEALTH_DECLARATION] = "health_declaration",
        [SS_KIND_TRIP_DECLARATION] = "trip_declaration",
        [SS_KIND_MANUAL_OVERRIDE] = "manual_override",
};

static const char *const level_names[] = {
        [SS_LEVEL_LOW] = "low",
        [SS_LEVEL_MEDIUM] = "medium",
        [SS_LEVEL_HIGH] = "high",
};

static const char *const result_names[] = {
        [SS_RESULT_NEGATIVE] = "negative",
        [SS_RESULT_POSITIVE] = "positive",
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The index (from 1) of the n bytes at p in names, 0 if none. */
static int lookup(const char *const *names, int count, const char *p, size_t n)
{
	for (int i = 1; i < count; i++)
		if (names[i] && strlen(names[i]) == n && !memcmp(names[i], p, n))
			return i;
	return 0;
}

const char *ss_rule_kind_name(int kind)
{
	return kind > SS_KIND_NONE && kind < SS_KIND_COUNT ? kind_names[kind] : NULL;
}

bool ss_rule_kind_parse(const char *name, int *kind)
{
	int k = lookup(kind_names, SS_KIND_COUNT, name, strlen(name));
	if (k)
		*kind = k;
	return k != 0;
}

const char *ss_rule_level_name(int level)
{
	return level > 0 && level < COUNT(level_names) ? level_names[level] : NULL;
}

bool ss_rule_level_parse(const char *name, int *level)
{
	int l = lookup(level_names, COUNT(level_names), name, strlen(name));
	if (l)
		*level = l;
	return l != 0;
}

const char *ss_rule_result_name(int result)
{
	return result > 0 && result < COUNT(result_names) ? result_names[result] : NULL;
}

bool ss_rule_result_parse(const char *name, int *result)
{
	int r = lookup(result_names, COUNT(result_names), name, strlen(name));
	if (r)
		*result = r;
	return r != 0;
}

/* ---- attributes and the parsed form ---- */

enum type {
	T_CODE,    /* 6 digits; = and != */
	T_TEXT,    /* any clean text; = and != */
	T_LEVEL,   /* low < medium < high */
	T_RESULT,  /* negative, positive; = and != */
	T_INT,     /* whole number */
	T_DECIMAL, /* up to 3 decimals */
};

enum attr { A_AREA, A_LEVEL, A_RESULT, A_DOSE, A_ORIGIN, A_TEMPERATURE, A_SYMPTOMS, A_PLACES };

/* Each attribute belongs to one kind; comparisons of T_INT and T_DECIMAL are in thousandths. */
static const struct {
	const char *name;
	int kind, type;
} attrs[] = {
        [A_AREA] = {"area", SS_KIND_RISK_AREA_VISIT, T_CODE},
        [A_LEVEL] = {"level", SS_KIND_RISK_AREA_VISIT, T_LEVEL},
        [A_RESULT] = {"result", SS_KIND_TEST_RESULT, T_RESULT},
        [A_DOSE] = {"dose", SS_KIND_VACCINATION, T_INT},
        [A_ORIGIN] = {"origin", SS_KIND_INBOUND_TRAVEL, T_TEXT},
        [A_TEMPERATURE] = {"temperature", SS_KIND_HEALTH_DECLARATION, T_DECIMAL},
        [A_SYMPTOMS] = {"symptoms", SS_KIND_HEALTH_DECLARATION, T_INT},
        [A_PLACES] = {"places", SS_KIND_TRIP_DECLARATION, T_INT},
};

enum op { OP_EQ, OP_NE, OP_GE, OP_GT, OP_LE, OP_LT };
static const char *const op_names[] = {"=", "!=", ">=", ">", "<=", "<"};

#define MAX_NUMBER INT64_C(1000000) /* the largest whole part of a number in a comparison */

struct cmp {
	int attr, op;
	int64_t num;      /* thousandths for T_INT and T_DECIMAL, the enum value for T_LEVEL and T_RESULT */
	const char *text; /* T_CODE, T_TEXT */
};

struct clause {
	uint32_t kinds; /* bit (1 << kind) for each kind it takes */
	size_t ncmp;
	struct cmp *cmp;
	int at_least; /* unless clauses: how many matching records release the trigger */
};

struct rule {
	const char *id;
	int color;
	const char *reason_zh, *reason_en;
	long line;
	struct clause when;
	int64_t window; /* seconds, 0 for none */
	size_t nunless;
	struct clause *unless;
};

struct ss_ruleset {
	atomic_int refs; /* ss_rules_ref / ss_rules_free */
	struct ss_arena arena;
	const char *text; /* the file, as parsed */
	const char *version;
	size_t nrules;
	struct rule *rules; /* malloc'ed */
};

/* ---- lexer: one line at a time ---- */

enum { TK_END, TK_WORD, TK_OP, TK_STRING, TK_BAD };

struct tok {
	int type;
	const char *p;
	size_t n;
};

struct lexer {
	const char *p, *end;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_opchar(char c)
{
	return c == '=' || c == '!' || c == '<' || c == '>';
}

static void skip_blanks(struct lexer *lx)
{
	while (lx->p < lx->end && is_blank(*lx->p))
		lx->p++;
}

/* The next token: a word, a run of operator characters, or a "quoted string" (without its quotes). */
static struct tok lex(struct lexer *lx)
{
	struct tok t = {TK_END, lx->end, 0};

	skip_blanks(lx);
	if (lx->p == lx->end)
		return t;
	const char *s = lx->p;
	if (*s == '"') {
		const char *q = memchr(s + 1, '"', (size_t)(lx->end - s - 1));
		if (!q) {
			t = (struct tok){TK_BAD, s, (size_t)(lx->end - s)};
			lx->p = lx->end;
			return t;
		}
		lx->p = q + 1;
		return (struct tok){TK_STRING, s + 1, (size_t)(q - s - 1)};
	}
	t.type = is_opchar(*s) ? TK_OP : TK_WORD;
	while (lx->p < lx->end && !is_blank(*lx->p) && *lx->p != '"' && is_opchar(*lx->p) == (t.type == TK_OP))
		lx->p++;
	t.p = s;
	t.n = (size_t)(lx->p - s);
	return t;
}

static struct tok peek(const struct lexer *lx)
{
	struct lexer copy = *lx;
	return lex(&copy);
}

static bool tok_is(struct tok t, const char *word)
{
	return t.type == TK_WORD && t.n == strlen(word) && !memcmp(t.p, word, t.n);
}

/*
 * A token made fit for a message: at most 40 bytes (cut at a character),
 * with "..." if cut, and '?' for control bytes, or for every byte outside
 * printable ASCII if the text is not well-formed UTF-8.
 */
static const char *show(char out[48], struct tok t)
{
	size_t n = t.n > 40 ? 40 : t.n;
	while (n < t.n && n > 0 && ((unsigned char)t.p[n] & 0xc0) == 0x80)
		n--;
	bool utf8 = ss_utf8_is_clean_text(t.p, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t.p[i];
		out[i] = (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) ? '?' : (char)c;
	}
	strcpy(out + n, n < t.n ? "..." : "");
	return out;
}

/* ---- parser ---- */

struct parser {
	struct ss_ruleset *rs;
	size_t cap;
	void (*report)(void *ctx, long line, const char *message);
	void *ctx;
	long line;
	int errors;
	bool too_big;
	bool seen_version;
	long version_line;
	bool too_many_reported;

	/* the rule being read */
	bool in_rule, skip_rule;
	struct rule cur;
	long color_line, when_line, zh_line, en_line;
	bool when_ok, unless_bad;
	struct clause unless[SS_RULES_MAX_UNLESS];
};

static void fail(struct parser *ps, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(struct parser *ps, long line, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ps->errors++;
	if (ps->report)
		ps->report(ps->ctx, line, msg);
}

static const char *attr_list(int kind)
{
	switch (kind) {
	case SS_KIND_RISK_AREA_VISIT:
		return "area, level";
	case SS_KIND_TEST_RESULT:
		return "result";
	case SS_KIND_VACCINATION:
		return "dose";
	case SS_KIND_INBOUND_TRAVEL:
		return "origin";
	case SS_KIND_HEALTH_DECLARATION:
		return "temperature, symptoms";
	case SS_KIND_TRIP_DECLARATION:
		return "places";
	default:
		return "none";
	}
}

/* Parses digits[.digits] with at most frac_max decimals into thousandths. */
static bool parse_fixed(const char *p, size_t n, int frac_max, int64_t *out)
{
	int64_t whole = 0, frac = 0;
	size_t i = 0;
	int nfrac = 0;

	while (i < n && p[i] >= '0' && p[i] <= '9') {
		whole = whole * 10 + (p[i++] - '0');
		if (whole > MAX_NUMBER)
			return false;
	}
	if (i == 0)
		return false;
	if (i < n && p[i] == '.') {
		i++;
		while (i < n && p[i] >= '0' && p[i] <= '9') {
			if (++nfrac > frac_max)
				return false;
			frac = frac * 10 + (p[i++] - '0');
		}
		if (nfrac == 0)
			return false;
	}
	if (i != n)
		return false;
	for (int k = nfrac; k < 3; k++)
		frac *= 10;
	*out = whole * 1000 + frac;
	return true;
}

/* Parses "<attr> <op> <value>" for a clause over the kinds in mask. */
static bool parse_cmp(struct parser *ps, struct lexer *lx, uint32_t mask, struct cmp *c)
{
	char a[48], b[48];
	struct tok t = lex(lx);
	int attr = -1;

	if (t.type != TK_WORD) {
		fail(ps, ps->line, "expected an attribute after 'where' or 'and'");
		return false;
	}
	for (int i = 0; i < COUNT(attrs); i++)
		if (tok_is(t, attrs[i].name))
			attr = i;
	for (int k = 1; k < SS_KIND_COUNT; k++) {
		if ((mask & (UINT32_C(1) << k)) && (attr < 0 || attrs[attr].kind != k)) {
			fail(ps, ps->line, "unknown attribute '%s' for %s (its attributes: %s)", show(a, t),
			     kind_names[k], attr_list(k));
			return false;
		}
	}
	c->attr = attr;
	int type = attrs[attr].type;

	t = lex(lx);
	c->op = -1;
	for (int i = 0; i < COUNT(op_names); i++)
		if (t.type == TK_OP && t.n == strlen(op_names[i]) && !memcmp(t.p, op_names[i], t.n))
			c->op = i;
	if (c->op < 0) {
		if (t.type == TK_END)
			fail(ps, ps->line, "expected an operator after '%s'", attrs[attr].name);
		else
			fail(ps, ps->line, "unknown operator '%s' (expected =, !=, >=, >, <= or <)", show(a, t));
		return false;
	}
	if ((type == T_CODE || type == T_TEXT || type == T_RESULT) && c->op != OP_EQ && c->op != OP_NE) {
		fail(ps, ps->line, "%s can only be compared with = or !=", attrs[attr].name);
		return false;
	}

	t = lex(lx);
	if (t.type == TK_BAD) {
		fail(ps, ps->line, "unterminated quote in '%s'", show(a, t));
		return false;
	}
	if (t.type != TK_WORD && t.type != TK_STRING) {
		fail(ps, ps->line, "expected a value after '%s %s'", attrs[attr].name, op_names[c->op]);
		return false;
	}
	switch (type) {
	case T_CODE:
		if (t.n != 6 || !ss_str_is_digits(t.p, t.n)) {
			fail(ps, ps->line, "bad area code '%s': 6 digits of GB/T 2260", show(a, t));
			return false;
		}
		c->text = ss_arena_strndup(&ps->rs->arena, t.p, t.n);
		return true;
	case T_TEXT:
		if (t.n == 0 || t.n > SS_RULES_MAX_TEXT_VALUE || !ss_utf8_is_clean_text(t.p, t.n)) {
			fail(ps, ps->line, "bad %s '%s': 1 to %d bytes of text", attrs[attr].name, show(a, t),
			     SS_RULES_MAX_TEXT_VALUE);
			return false;
		}
		c->text = ss_arena_strndup(&ps->rs->arena, t.p, t.n);
		return true;
	case T_LEVEL:
		c->num = lookup(level_names, COUNT(level_names), t.p, t.n);
		if (!c->num)
			fail(ps, ps->line, "unknown level '%s' (expected low, medium or high)", show(a, t));
		return c->num != 0;
	case T_RESULT:
		c->num = lookup(result_names, COUNT(result_names), t.p, t.n);
		if (!c->num)
			fail(ps, ps->line, "unknown result '%s' (expected positive or negative)", show(a, t));
		return c->num != 0;
	default:
		if (!parse_fixed(t.p, t.n, type == T_DECIMAL ? 3 : 0, &c->num)) {
			fail(ps, ps->line, "bad number '%s' for %s: %s from 0 to %s", show(b, t), attrs[attr].name,
			     type == T_DECIMAL ? "a number with at most 3 decimals" : "a whole number", "1000000");
			return false;
		}
		return true;
	}
}

/* Parses a window: a whole number and a unit, d, h or m. */
static bool parse_window(struct parser *ps, struct tok t, int64_t *out)
{
	char a[48];
	int64_t v = 0, unit = 0;
	size_t i = 0;

	while (t.type == TK_WORD && i < t.n && i < 8 && t.p[i] >= '0' && t.p[i] <= '9')
		v = v * 10 + (t.p[i++] - '0');
	if (t.type == TK_WORD && i > 0 && i + 1 == t.n)
		unit = t.p[i] == 'd' ? 86400 : t.p[i] == 'h' ? 3600 : t.p[i] == 'm' ? 60 : 0;
	if (!unit) {
		if (t.type == TK_END)
			fail(ps, ps->line, "expected a window after 'within', such as 14d, 72h or 30m");
		else
			fail(ps, ps->line, "bad window '%s': a whole number and d, h or m, such as 14d, 72h or 30m",
			     show(a, t));
		return false;
	}
	if (v == 0 || v * unit > SS_RULES_MAX_WINDOW) {
		fail(ps, ps->line, "bad window '%s': from 1m to 365d", show(a, t));
		return false;
	}
	*out = v * unit;
	return true;
}

/*
 * Parses the rest of a when or unless line into c:
 *   KIND {or KIND} [where CMP {and CMP}] then, for when, [within WINDOW] and,
 *   for unless, [at least N].
 */
static bool parse_clause(struct parser *ps, struct lexer *lx, bool is_when, struct clause *c, int64_t *window)
{
	char a[48];
	struct cmp cmps[SS_RULES_MAX_CMP];
	struct tok t;

	memset(c, 0, sizeof(*c));
	c->at_least = 1;
	for (;;) {
		t = lex(lx);
		int k = t.type == TK_WORD ? lookup(kind_names, SS_KIND_COUNT, t.p, t.n) : 0;
		if (!k) {
			if (t.type == TK_END)
				fail(ps, ps->line, "expected a kind after '%s'",
				     c->kinds  ? "or"
				     : is_when ? "when"
				               : "unless");
			else
				fail(ps, ps->line, "unknown kind '%s'", show(a, t));
			return false;
		}
		if (k == SS_KIND_MANUAL_OVERRIDE) {
			fail(ps, ps->line,
			     "manual_override cannot be used in a rule: overrides are applied before rules");
			return false;
		}
		c->kinds |= UINT32_C(1) << k;
		if (!tok_is(peek(lx), "or"))
			break;
		lex(lx);
	}

	if (tok_is(peek(lx), "where")) {
		lex(lx);
		for (;;) {
			if (c->ncmp == SS_RULES_MAX_CMP) {
				fail(ps, ps->line, "more than %d comparisons in one clause", SS_RULES_MAX_CMP);
				return false;
			}
			if (!parse_cmp(ps, lx, c->kinds, &cmps[c->ncmp]))
				return false;
			c->ncmp++;
			if (!tok_is(peek(lx), "and"))
				break;
			lex(lx);
		}
	}

	t = lex(lx);
	if (is_when && tok_is(t, "within")) {
		if (!parse_window(ps, lex(lx), window))
			return false;
		t = lex(lx);
	} else if (!is_when && tok_is(t, "at")) {
		t = lex(lx);
		if (!tok_is(t, "least")) {
			fail(ps, ps->line, "expected 'least' after 'at'");
			return false;
		}
		t = lex(lx);
		int64_t v;
		if (t.type != TK_WORD || !parse_fixed(t.p, t.n, 0, &v) || v < 1000 ||
		    v > SS_RULES_MAX_AT_LEAST * 1000) {
			fail(ps, ps->line, "bad number '%s' after 'at least': a whole number from 1 to %d", show(a, t),
			     SS_RULES_MAX_AT_LEAST);
			return false;
		}
		c->at_least = (int)(v / 1000);
		t = lex(lx);
	}
	if (t.type != TK_END) {
		const char *expected =
		        is_when ? "'or', 'where', 'and' or 'within'" : "'or', 'where', 'and' or 'at least'";
		fail(ps, ps->line, "unexpected '%s' (expected %s)", show(a, t), expected);
		return false;
	}
	if (c->ncmp) {
		c->cmp = ss_arena_alloc(&ps->rs->arena, c->ncmp * sizeof(*c->cmp));
		memcpy(c->cmp, cmps, c->ncmp * sizeof(*c->cmp));
	}
	return true;
}

/* Checks the rule being read for what it lacks and adds it to the set. */
static void finish_rule(struct parser *ps)
{
	struct rule *r = &ps->cur;
	const char *id = r->id ? r->id : "?";

	if (!ps->in_rule || ps->skip_rule) {
		ps->in_rule = false;
		return;
	}
	ps->in_rule = false;
	if (!ps->color_line)
		fail(ps, r->line, "rule '%s' has no color (add 'color red', 'color yellow' or 'color green')", id);
	if (!ps->when_line)
		fail(ps, r->line, "rule '%s' has no condition (add 'when <kind> ...')", id);
	if (!ps->zh_line)
		fail(ps, r->line, "rule '%s' has no reason in Chinese (add 'reason zh <text>')", id);
	if (!ps->en_line)
		fail(ps, r->line, "rule '%s' has no reason in English (add 'reason en <text>')", id);
	if (ps->when_ok && !ps->unless_bad && !r->window && !r->nunless)
		fail(ps, r->line, "rule '%s' never ends: give its trigger a window ('within 14d') or add an 'unless'",
		     id);
	if (r->nunless) {
		r->unless = ss_arena_alloc(&ps->rs->arena, r->nunless * sizeof(*r->unless));
		memcpy(r->unless, ps->unless, r->nunless * sizeof(*r->unless));
	}
	if (ps->rs->nrules == ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 16;
		ps->rs->rules = ss_realloc(ps->rs->rules, ps->cap * sizeof(*ps->rs->rules));
	}
	ps->rs->rules[ps->rs->nrules++] = *r;
}

static bool is_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
	       c == '_';
}

static bool is_name(struct tok t, size_t max)
{
	if (t.type != TK_WORD || t.n == 0 || t.n > max)
		return false;
	for (size_t i = 0; i < t.n; i++)
		if (!is_id_char(t.p[i]))
			return false;
	return true;
}

static void start_rule(struct parser *ps, struct lexer *lx)
{
	char a[48];
	struct tok t = lex(lx);

	finish_rule(ps);
	if (ps->rs->nrules == SS_RULES_MAX_RULES) {
		if (!ps->too_many_reported)
			fail(ps, ps->line, "more than %d rules", SS_RULES_MAX_RULES);
		ps->too_many_reported = true;
		ps->too_big = true;
		ps->in_rule = ps->skip_rule = true;
		return;
	}
	memset(&ps->cur, 0, sizeof(ps->cur));
	ps->in_rule = true;
	ps->skip_rule = false;
	ps->color_line = ps->when_line = ps->zh_line = ps->en_line = 0;
	ps->when_ok = ps->unless_bad = false;
	ps->cur.line = ps->line;
	if (!is_name(t, SS_RULES_MAX_ID) || !((t.p[0] >= 'a' && t.p[0] <= 'z') || (t.p[0] >= 'A' && t.p[0] <= 'Z'))) {
		if (t.type == TK_END)
			fail(ps, ps->line, "expected an id after 'rule'");
		else
			fail(ps, ps->line,
			     "bad rule id '%s': a letter, then letters, digits, '.', '-' or '_' (at most %d)",
			     show(a, t), SS_RULES_MAX_ID);
		return;
	}
	ps->cur.id = ss_arena_strndup(&ps->rs->arena, t.p, t.n);
	for (size_t i = 0; i < ps->rs->nrules; i++) {
		if (ps->rs->rules[i].id && !strcmp(ps->rs->rules[i].id, ps->cur.id)) {
			fail(ps, ps->line, "duplicate rule id '%s' (first on line %ld)", ps->cur.id,
			     ps->rs->rules[i].line);
			break;
		}
	}
	t = lex(lx);
	if (t.type != TK_END)
		fail(ps, ps->line, "unexpected '%s' after the rule id", show(a, t));
}

/* Marks a clause seen; false (and reported) if the rule already had one. */
static bool first_clause(struct parser *ps, long *seen, const char *what)
{
	if (*seen) {
		fail(ps, ps->line, "second %s in rule '%s' (first on line %ld)", what, ps->cur.id ? ps->cur.id : "?",
		     *seen);
		return false;
	}
	*seen = ps->line;
	return true;
}

static void parse_reason(struct parser *ps, struct lexer *lx)
{
	char a[48];
	struct tok lang = lex(lx);
	long *seen;
	const char **text;

	if (tok_is(lang, "zh")) {
		seen = &ps->zh_line, text = &ps->cur.reason_zh;
	} else if (tok_is(lang, "en")) {
		seen = &ps->en_line, text = &ps->cur.reason_en;
	} else {
		if (lang.type == TK_END)
			fail(ps, ps->line, "expected zh or en after 'reason'");
		else
			fail(ps, ps->line, "unknown reason language '%s' (expected zh or en)", show(a, lang));
		return;
	}
	if (!first_clause(ps, seen, tok_is(lang, "zh") ? "reason zh" : "reason en"))
		return;
	skip_blanks(lx);
	const char *p = lx->p, *end = lx->end;
	while (end > p && is_blank(end[-1]))
		end--;
	size_t n = (size_t)(end - p);
	if (n == 0)
		fail(ps, ps->line, "empty reason text");
	else if (n > SS_RULES_MAX_REASON)
		fail(ps, ps->line, "reason text of %zu bytes, more than %d", n, SS_RULES_MAX_REASON);
	else if (!ss_utf8_is_clean_text(p, n))
		fail(ps, ps->line, "reason text is not clean UTF-8 (no control characters, tabs included)");
	else
		*text = ss_arena_strndup(&ps->rs->arena, p, n);
}

static void parse_version(struct parser *ps, struct lexer *lx)
{
	char a[48];
	struct tok t = lex(lx);

	if (ps->seen_version) {
		fail(ps, ps->line, "second version line (first on line %ld)", ps->version_line);
		return;
	}
	ps->seen_version = true;
	ps->version_line = ps->line;
	if (!is_name(t, SS_RULES_MAX_VERSION)) {
		if (t.type == TK_END)
			fail(ps, ps->line, "expected a version after 'version'");
		else
			fail(ps, ps->line, "bad version '%s': letters, digits, '.', '-' or '_' (at most %d)",
			     show(a, t), SS_RULES_MAX_VERSION);
		return;
	}
	ps->rs->version = ss_arena_strndup(&ps->rs->arena, t.p, t.n);
	t = lex(lx);
	if (t.type != TK_END)
		fail(ps, ps->line, "unexpected '%s' after the version", show(a, t));
}

static void parse_line(struct parser *ps, const char *p, size_t n)
{
	char a[48];
	struct lexer lx = {p, p + n};

	skip_blanks(&lx);
	if (lx.p == lx.end || *lx.p == '#')
		return;
	struct tok kw = lex(&lx);
	if (!ps->seen_version && !tok_is(kw, "version")) {
		fail(ps, ps->line,
		     "missing version line: the first line that is not blank or a comment must be "
		     "'version <text>'");
		ps->seen_version = true;
		ps->version_line = ps->line;
	}
	if (tok_is(kw, "version")) {
		parse_version(ps, &lx);
		return;
	}
	if (tok_is(kw, "rule")) {
		start_rule(ps, &lx);
		return;
	}
	bool known = tok_is(kw, "color") || tok_is(kw, "when") || tok_is(kw, "unless") || tok_is(kw, "reason");
	if (!known) {
		fail(ps, ps->line, "unknown keyword '%s' (expected version, rule, color, when, unless or reason)",
		     show(a, kw));
		return;
	}
	if (!ps->in_rule) {
		fail(ps, ps->line, "'%s' outside a rule: a rule starts with 'rule <id>'", show(a, kw));
		return;
	}
	if (ps->skip_rule)
		return;

	if (tok_is(kw, "color")) {
		if (!first_clause(ps, &ps->color_line, "color"))
			return;
		struct tok t = lex(&lx);
		if (t.type != TK_WORD) {
			fail(ps, ps->line, "expected red, yellow or green after 'color'");
			return;
		}
		char word[8] = "";
		if (t.n < sizeof(word))
			memcpy(word, t.p, t.n), word[t.n] = '\0';
		if (!ss_color_parse(word, &ps->cur.color)) {
			fail(ps, ps->line, "unknown color '%s' (expected red, yellow or green)", show(a, t));
			return;
		}
		t = lex(&lx);
		if (t.type != TK_END)
			fail(ps, ps->line, "unexpected '%s' after the color", show(a, t));
	} else if (tok_is(kw, "when")) {
		if (!first_clause(ps, &ps->when_line, "when"))
			return;
		ps->when_ok = parse_clause(ps, &lx, true, &ps->cur.when, &ps->cur.window);
	} else if (tok_is(kw, "unless")) {
		if (ps->cur.nunless == SS_RULES_MAX_UNLESS) {
			fail(ps, ps->line, "more than %d unless clauses in one rule", SS_RULES_MAX_UNLESS);
			ps->unless_bad = true;
			return;
		}
		int64_t unused = 0;
		if (parse_clause(ps, &lx, false, &ps->unless[ps->cur.nunless], &unused))
			ps->cur.nunless++;
		else
			ps->unless_bad = true; /* a rule with a broken unless is not judged as never ending */
	} else {
		parse_reason(ps, &lx);
	}
}

enum ss_err ss_rules_parse(const char *text, size_t n, struct ss_ruleset **out,
                           void (*report)(void *ctx, long line, const char *message), void *ctx)
{
	struct parser ps = {.report = report, .ctx = ctx};

	*out = NULL;
	if (n > SS_RULES_MAX_FILE) {
		fail(&ps, 0, "rule file of %zu bytes, more than %d", n, SS_RULES_MAX_FILE);
		return SS_TOO_BIG;
	}
	ps.rs = ss_calloc(1, sizeof(*ps.rs));
	atomic_init(&ps.rs->refs, 1);
	ss_arena_init(&ps.rs->arena);
	ps.rs->text = ss_arena_strndup(&ps.rs->arena, text, n);

	const char *p = text, *end = text + n;
	if (n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) /* a byte order mark, as some editors write */
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		ps.line++;
		if (len && p[len - 1] == '\r')
			len--;
		if (len > SS_RULES_MAX_LINE) {
			fail(&ps, ps.line, "line of %zu bytes, more than %d", len, SS_RULES_MAX_LINE);
			ps.too_big = true;
		} else if (memchr(p, '\0', len)) {
			fail(&ps, ps.line, "NUL byte in the line");
		} else {
			parse_line(&ps, p, len);
		}
		p = nl ? nl + 1 : end;
	}
	finish_rule(&ps);
	if (!ps.seen_version)
		fail(&ps, 0, "missing version line: the file holds no 'version <text>'");

	if (ps.errors) {
		ss_rules_free(ps.rs);
		return ps.too_big ? SS_TOO_BIG : SS_INVALID;
	}
	*out = ps.rs;
	return SS_OK;
}

struct ss_ruleset *ss_rules_ref(struct ss_ruleset *rs)
{
	atomic_fetch_add(&rs->refs, 1);
	return rs;
}

void ss_rules_free(struct ss_ruleset *rs)
{
	if (!rs || atomic_fetch_sub(&rs->refs, 1) != 1)
		return;
	ss_arena_release(&rs->arena);
	free(rs->rules);
	free(rs);
}

const char *ss_rules_version(const struct ss_ruleset *rs)
{
	return rs->version;
}

const char *ss_rules_text(const struct ss_ruleset *rs)
{
	return rs->text;
}

size_t ss_rules_count(const struct ss_ruleset *rs)
{
	return rs->nrules;
}

bool ss_rules_get(const struct ss_ruleset *rs, size_t i, struct ss_rule_info *out)
{
	if (i >= rs->nrules)
		return false;
	const struct rule *r = &rs->rules[i];
	*out = (struct ss_rule_info){r->id, r->color, r->reason_zh, r->reason_en, r->window, r->nunless, r->line};
	return true;
}

/* ---- evaluator ---- */

static bool valid_kind(int kind)
{
	return kind > SS_KIND_NONE && kind < SS_KIND_COUNT;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int64_t sat_sub(int64_t a, int64_t b)
{
	return a < INT64_MIN + b ? INT64_MIN : a - b;
}

static bool compare(int op, int64_t a, int64_t b)
{
	switch (op) {
	case OP_EQ:
		return a == b;
	case OP_NE:
		return a != b;
	case OP_GE:
		return a >= b;
	case OP_GT:
		return a > b;
	case OP_LE:
		return a <= b;
	default:
		return a < b;
	}
}

static bool cmp_matches(const struct cmp *c, const struct ss_rule_record *r)
{
	int64_t v;
	const char *text;

	switch (c->attr) {
	case A_AREA:
	case A_ORIGIN:
		text = c->attr == A_AREA ? r->area : r->origin;
		if (!text)
			return false;
		return (strcmp(text, c->text) == 0) == (c->op == OP_EQ);
	case A_LEVEL:
		if (r->level < SS_LEVEL_LOW || r->level > SS_LEVEL_HIGH)
			return false;
		v = r->level;
		break;
	case A_RESULT:
		if (r->result < SS_RESULT_NEGATIVE || r->result > SS_RESULT_POSITIVE)
			return false;
		v = r->result;
		break;
	case A_TEMPERATURE: {
		double t = r->temperature;
		if (!(t > -1e9 && t < 1e9)) /* also false for NaN */
			return false;
		double x = t * 1000.0;
		v = (int64_t)(x + (x >= 0 ? 0.5 : -0.5));
		break;
	}
	case A_DOSE:
		v = (int64_t)r->dose * 1000;
		break;
	case A_SYMPTOMS:
		v = (int64_t)r->symptoms * 1000;
		break;
	default:
		v = (int64_t)r->places * 1000;
		break;
	}
	return compare(c->op, v, c->num);
}

/* Whether a record of a valid kind matches a clause's kinds and comparisons. */
static bool matches(const struct clause *c, const struct ss_rule_record *r)
{
	if (!(c->kinds & (UINT32_C(1) << r->kind)))
		return false;
	for (size_t i = 0; i < c->ncmp; i++)
		if (!cmp_matches(&c->cmp[i], r))
			return false;
	return true;
}

static bool matches_unless(const struct rule *r, const struct ss_rule_record *x)
{
	for (size_t u = 0; u < r->nunless; u++)
		if (matches(&r->unless[u], x))
			return true;
	return false;
}

/*
 * The at_least-th newest occurred_at among the records at or before now that
 * match c, INT64_MIN if fewer match. A trigger at t is released by c exactly
 * when t is less than it (at_least matching records strictly after t).
 */
static int64_t release_time(const struct clause *c, const struct ss_rule_record *rec, size_t n, int64_t now)
{
	int64_t top[SS_RULES_MAX_AT_LEAST]; /* newest first */
	size_t k = 0, want = (size_t)c->at_least;

	for (size_t i = 0; i < n; i++) {
		int64_t t = rec[i].occurred_at;
		if (!valid_kind(rec[i].kind) || t > now || !matches(c, &rec[i]))
			continue;
		if (k == want && t <= top[want - 1])
			continue;
		size_t j = k < want ? k++ : want - 1;
		for (; j > 0 && top[j - 1] < t; j--)
			top[j] = top[j - 1];
		top[j] = t;
	}
	return k == want ? top[want - 1] : INT64_MIN;
}

struct outcome {
	bool fires;
	size_t trigger;
	int64_t ends; /* INT64_MAX if no window ends it */
};

/* Evaluates one rule; lowers *future to the first record after now that matters to it. */
static void eval_rule(const struct rule *r, const struct ss_rule_record *rec, size_t n, int64_t now, struct outcome *o,
                      int64_t *future)
{
	int64_t released_before[SS_RULES_MAX_UNLESS];
	int64_t oldest = r->window ? sat_sub(now, r->window) : INT64_MIN; /* in the window: occurred_at > oldest */

	for (size_t u = 0; u < r->nunless; u++)
		released_before[u] = release_time(&r->unless[u], rec, n, now);
	*o = (struct outcome){.fires = false};
	for (size_t i = 0; i < n; i++) {
		const struct ss_rule_record *x = &rec[i];
		if (!valid_kind(x->kind))
			continue;
		bool trigger = matches(&r->when, x);
		if (x->occurred_at > now) {
			if (x->occurred_at < *future && (trigger || matches_unless(r, x)))
				*future = x->occurred_at;
			continue;
		}
		if (!trigger || x->occurred_at <= oldest)
			continue;
		bool released = false;
		for (size_t u = 0; u < r->nunless && !released; u++)
			released = x->occurred_at < released_before[u];
		if (released)
			continue;
		if (!o->fires || x->occurred_at > rec[o->trigger].occurred_at) {
			o->fires = true;
			o->trigger = i;
		}
	}
	if (o->fires)
		o->ends = r->window ? sat_add(rec[o->trigger].occurred_at, r->window) : INT64_MAX;
}

/* The colour at time t >= now of records that do not change, given the verdict's pieces. */
struct timeline {
	bool in_force;
	int override_color;
	int64_t until;
	bool has[3];
	int64_t ends[3]; /* the last time a rule of each colour fires, exclusive; INT64_MAX for never */
};

static int color_at(const struct timeline *tl, int64_t t)
{
	if (tl->in_force && t < tl->until)
		return tl->override_color;
	if (tl->has[SS_RED] && t < tl->ends[SS_RED])
		return SS_RED;
	if (tl->has[SS_YELLOW] && t < tl->ends[SS_YELLOW])
		return SS_YELLOW;
	return SS_GREEN;
}

void ss_rules_evaluate(const struct ss_ruleset *rs, const struct ss_rule_record *rec, size_t n, int64_t now,
                       struct ss_rule_verdict *out)
{
	struct timeline tl = {0};
	int64_t future = INT64_MAX;

	assert(rs && (rec || n == 0) && out);
	memset(out, 0, sizeof(*out));

	/* the newest override; ties go to the later index */
	for (size_t i = 0; i < n; i++) {
		const struct ss_rule_record *x = &rec[i];
		if (x->kind != SS_KIND_MANUAL_OVERRIDE || x->color < SS_GREEN || x->color > SS_RED)
			continue;
		if (x->occurred_at > now) {
			if (x->occurred_at < future)
				future = x->occurred_at;
		} else if (!out->overridden || x->occurred_at >= rec[out->override].occurred_at) {
			out->overridden = true;
			out->override = i;
		}
	}
	if (out->overridden && now < rec[out->override].until) {
		tl.in_force = true;
		tl.override_color = rec[out->override].color;
		tl.until = rec[out->override].until;
	} else {
		out->overridden = false;
		out->override = 0;
	}

	for (int color = SS_RED; color >= SS_GREEN; color--) {
		for (size_t k = 0; k < rs->nrules; k++) {
			const struct rule *r = &rs->rules[k];
			struct outcome o;
			if (r->color != color)
				continue;
			eval_rule(r, rec, n, now, &o, &future);
			if (!o.fires)
				continue;
			out->nfired_total++;
			if (!tl.has[color] || o.ends > tl.ends[color])
				tl.ends[color] = o.ends;
			tl.has[color] = true;
			if (out->nfired == SS_RULES_MAX_FIRED)
				continue;
			struct ss_rule_fired *f = &out->fired[out->nfired++];
			f->id = r->id;
			f->color = r->color;
			f->reason_zh = r->reason_zh;
			f->reason_en = r->reason_en;
			f->trigger = o.trigger;
			f->ends_at = o.ends == INT64_MAX ? 0 : o.ends;
			int64_t t0 = rec[o.trigger].occurred_at;
			for (size_t i = 0; i < n && f->nagainst < SS_RULES_MAX_AGAINST; i++)
				if (valid_kind(rec[i].kind) && rec[i].occurred_at > t0 && rec[i].occurred_at <= now &&
				    matches_unless(r, &rec[i]))
					f->against[f->nagainst++] = i;
		}
	}
	/* a rule that fires ends after now, so the rules' colour now is the highest that fires */
	out->rules_color = tl.has[SS_RED] ? SS_RED : tl.has[SS_YELLOW] ? SS_YELLOW : SS_GREEN;
	out->color = color_at(&tl, now);

	/* The colour is constant between these times, so the first one where it differs is the change. */
	int64_t cand[3];
	int ncand = 0;
	if (tl.in_force)
		cand[ncand++] = tl.until;
	for (int c = SS_YELLOW; c <= SS_RED; c++)
		if (tl.has[c] && tl.ends[c] != INT64_MAX)
			cand[ncand++] = tl.ends[c];
	for (int i = 1; i < ncand; i++)
		for (int j = i; j > 0 && cand[j - 1] > cand[j]; j--) {
			int64_t tmp = cand[j];
			cand[j] = cand[j - 1];
			cand[j - 1] = tmp;
		}
	for (int i = 0; i < ncand && !out->review_at; i++)
		if (color_at(&tl, cand[i]) != out->color)
			out->review_at = cand[i];
	if (future != INT64_MAX && (!out->review_at || future < out->review_at))
		out->review_at = future;
}
