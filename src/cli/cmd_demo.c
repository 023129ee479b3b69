/*
 * cmd_demo: `suishen demo --data DIR [--residents N] [--registered N]
 * [--seed S] [--listen HOST:PORT]` fills a data directory with a demo city and
 * prints how to try it: Shanghai's 16 districts with places of every scene and
 * a terminal at each, a population registry of synthetic people, some of them
 * registered residents (a few yellow or red, from records that the rules
 * colour) with a week of scans behind them, appeals in every state in the
 * handlers' queue (the 4th resident green again by an upheld one), and one
 * member of staff per role; and it names people of the registry who have no
 * account yet, for a newcomer to register and to add as relatives (adults,
 * children, an elder).
 *
 * What it makes goes through the same core functions as the server and the
 * other commands (registry import, registration, records and status
 * assignment, appeals, terminals, staff), so the demo data has passed the
 * same checks and its colours are the rules' own. The first child to try is
 * named in the registry as the 1st resident's child (the registry import's
 * optional guardians column, the guardians' ID numbers), the second is not.
 * The population is generated in memory, deterministically from the seed; secrets (TOTP secrets, terminal
 * keys, staff tokens) are random. What a person needs to try the city is
 * written to DIR with mode 0600: demo-residents.csv (the first 20 registered
 * residents; the 2nd is yellow and the 3rd red), demo-terminals.json,
 * demo-staff.json and demo-people.json (whom to try, and the appeals). The people are synthetic, so their particulars
 * may appear in those files and on standard output; log lines carry none of them, as everywhere. Routine log lines (one
 * per resident registered) are printed only with --verbose, as for any command.
 *
 * The store's meta key "demo" marks a directory that holds a demo: "building"
 * while it is made, "ready" once it is complete. A run on a ready directory
 * changes nothing and prints the instructions again from the files. A
 * directory that already holds a population registry, or an unfinished demo,
 * is refused: the demo does not mix with data it did not make. --listen only
 * sets the address shown in the examples.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "cli/cli.h"
#include "core/appeals.h"
#include "core/assign.h"
#include "core/codes.h"
#include "core/division.h"
#include "core/holders.h"
#include "core/identity.h"
#include "core/idcard.h"
#include "core/pii.h"
#include "core/records.h"
#include "core/registry.h"
#include "core/scanlog.h"
#include "core/scene.h"
#include "core/staff.h"
#include "core/terminal.h"
#include "crypto/password.h"
#include "crypto/totp.h"
#include "json/json.h"

#define DEMO_PASSWORD  "demo-password-1"
#define CSV_RESIDENTS  20      /* registered residents written to demo-residents.csv */
#define RESIDENTS_MAX  2000000 /* the registry is generated in memory */
#define REGISTERED_MAX 100000  /* their scans are sorted in memory (about 20 each) */
#define SCAN_BATCH     8192    /* scans per transaction */
#define FILE_MAX       (1 << 20)
#define DAY            86400
#define HOUR           3600
#define CHINA_OFFSET   (8 * 3600)

#define FILE_RESIDENTS "demo-residents.csv"
#define FILE_TERMINALS "demo-terminals.json"
#define FILE_STAFF     "demo-staff.json"
#define FILE_PEOPLE    "demo-people.json"

/* People of the registry with no account, picked for a newcomer to try registration and relatives with. */
#define TRY_REGISTER 3
#define TRY_CHILDREN 2 /* the first named in the registry as the 1st resident's child, the second not */
#define TRY_ELDERS   1
#define APPELLANT    3 /* the 4th resident: yellow from a report, green since an appeal was upheld */

static const char *const usage = "--data DIR [--residents N] [--registered N] [--seed S] [--listen HOST:PORT]";

/* ---- the city ---------------------------------------------------------------------------------------------- */

static const struct place {
	const char *scene, *org, *name, *district;
} places[] = {
        {"hospital", "上海交通大学医学院附属瑞金医院", "瑞金医院", "黄浦区"},
        {"hospital", "复旦大学附属华山医院", "华山医院", "静安区"},
        {"hospital", "复旦大学附属中山医院", "中山医院", "徐汇区"},
        {"hospital", "上海交通大学医学院附属仁济医院", "仁济医院东院", "浦东新区"},
        {"hospital", "上海市第六人民医院", "第六人民医院", "徐汇区"},
        {"hospital", "上海市第十人民医院", "第十人民医院", "静安区"},
        {"hospital", "上海交通大学医学院附属新华医院", "新华医院", "杨浦区"},
        {"hospital", "上海市同仁医院", "同仁医院", "长宁区"},
        {"hospital", "上海市第一人民医院", "第一人民医院松江院区", "松江区"},
        {"hospital", "复旦大学附属金山医院", "金山医院", "金山区"},
        {"transit", "上海地铁", "人民广场站", "黄浦区"},
        {"transit", "上海地铁", "徐家汇站", "徐汇区"},
        {"transit", "上海地铁", "陆家嘴站", "浦东新区"},
        {"transit", "上海地铁", "静安寺站", "静安区"},
        {"transit", "上海地铁", "世纪大道站", "浦东新区"},
        {"transit", "上海地铁", "中山公园站", "长宁区"},
        {"transit", "上海地铁", "虹桥火车站站", "闵行区"},
        {"transit", "上海地铁", "莘庄站", "闵行区"},
        {"transit", "上海地铁", "江湾体育场站", "杨浦区"},
        {"transit", "上海地铁", "曹杨路站", "普陀区"},
        {"transit", "上海地铁", "虹口足球场站", "虹口区"},
        {"transit", "上海地铁", "友谊路站", "宝山区"},
        {"transit", "上海地铁", "嘉定北站", "嘉定区"},
        {"transit", "上海地铁", "松江大学城站", "松江区"},
        {"transit", "上海地铁", "朱家角站", "青浦区"},
        {"transit", "久事公交", "71路", "黄浦区"},
        {"transit", "久事公交", "49路", "徐汇区"},
        {"transit", "久事公交", "926路", "闵行区"},
        {"transit", "上海轮渡", "东昌路轮渡站", "浦东新区"},
        {"transit", "上海轮渡", "复兴东路轮渡站", "黄浦区"},
        {"transit", "上海轮渡", "金陵东路轮渡站", "黄浦区"},
        {"pool", "徐汇区体育局", "徐汇游泳馆", "徐汇区"},
        {"pool", "浦东新区体育局", "浦东游泳馆", "浦东新区"},
        {"pool", "静安区体育局", "静安体育中心游泳池", "静安区"},
        {"pool", "虹口区体育局", "虹口游泳馆", "虹口区"},
        {"pool", "奉贤区体育局", "奉贤体育中心游泳馆", "奉贤区"},
        {"pool", "崇明区体育局", "崇明体育中心游泳馆", "崇明区"},
        {"community", "康健新村街道", "康健新村", "徐汇区"},
        {"community", "曹杨新村街道", "曹杨新村", "普陀区"},
        {"community", "四平路街道", "鞍山新村", "杨浦区"},
        {"community", "彭浦新村街道", "彭浦新村", "静安区"},
        {"community", "仙霞新村街道", "仙霞新村", "长宁区"},
        {"community", "凉城新村街道", "凉城新村", "虹口区"},
        {"community", "张庙街道", "通河新村", "宝山区"},
        {"community", "古美路街道", "古美一村", "闵行区"},
        {"community", "安亭镇", "安亭新镇", "嘉定区"},
        {"community", "南桥镇", "南桥新苑", "奉贤区"},
        {"venue", "张江集团", "张江高科技园区", "浦东新区"},
        {"venue", "漕河泾开发区总公司", "漕河泾开发区", "徐汇区"},
        {"venue", "紫竹高新区", "紫竹高新技术产业开发区", "闵行区"},
        {"venue", "市北高新集团", "市北高新技术服务业园区", "静安区"},
        {"venue", "国家会展中心（上海）", "国家会展中心", "青浦区"},
        {"venue", "上海化学工业区管委会", "上海化学工业区", "金山区"},
        {"checkpoint", "上海市公安局", "G60 沪昆高速入城卡口", "松江区"},
        {"checkpoint", "上海市公安局", "G2 京沪高速安亭卡口", "嘉定区"},
        {"checkpoint", "上海市公安局", "G15 沈海高速朱桥卡口", "嘉定区"},
        {"checkpoint", "上海市公安局", "G50 沪渝高速青浦卡口", "青浦区"},
        {"checkpoint", "上海市公安局", "G40 沪陕高速长兴岛卡口", "崇明区"},
        {"checkpoint", "上海市公安局", "G15 沈海高速金山卡口", "金山区"},
};
#define NPLACES (sizeof(places) / sizeof(places[0]))

/* Staff names are titles, not people's names, so no resident can share one. */
static const struct {
	const char *role, *name;
} staff_roles[] = {
        {"admin", "演示管理员"},        {"operator", "演示12345热线接线员"},
        {"handler", "演示申诉处理员"},  {"epidemiologist", "演示流行病学调查员"},
        {"security", "演示安全审计员"},
};
#define NSTAFF (sizeof(staff_roles) / sizeof(staff_roles[0]))

/* What a declared fever comes with, and where arrivals from abroad come from (inbound_travel's origin). */
static const char *const symptoms[] = {"咳嗽", "咽痛", "乏力", "头痛", "肌肉酸痛", "流涕"};
static const char *const origins[] = {"新加坡", "日本", "韩国", "泰国", "马来西亚", "英国", "德国", "美国", "澳大利亚"};

/* ---- synthetic people (as scripts/gen-population.py makes them) -------------------------------------------- */

/* Retired Shanghai codes, which live on in the ID numbers of people born before they went, and their successors. */
static const struct {
	const char *code;
	int until; /* the first year the code was no longer given */
	const char *successor;
} retired[] = {
        {"310102", 2000, "310101"}, {"310103", 2011, "310101"}, {"310108", 2015, "310106"}, {"310111", 1988, "310113"},
        {"310119", 2009, "310115"}, {"310221", 1992, "310112"}, {"310222", 1992, "310114"}, {"310223", 1988, "310113"},
        {"310224", 1992, "310115"}, {"310225", 2001, "310115"}, {"310226", 2001, "310120"}, {"310227", 1998, "310117"},
        {"310228", 1997, "310116"}, {"310229", 1999, "310118"}, {"310230", 2016, "310151"},
};

/* Real county-level codes of other provinces. */
static const char *const other_divisions[] = {
        "110105", "110108", "120101", "130102", "140105", "210102", "220102", "230103", "320102", "320505", "330106",
        "340104", "350203", "360102", "370102", "410105", "420106", "430104", "440106", "440305", "450103", "460105",
        "500103", "510107", "520102", "530102", "610113", "620102", "630104", "640104", "650102",
};

/* Common surnames and given-name characters; each is one 3-byte UTF-8 character. */
static const char surnames[] =
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
        "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
        "覃武戴莫孔向汤";
static const char *const compound_surnames[] = {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫"};
static const char given[] =
        "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国文辉鑫宇浩然子轩欣怡梓涵思雨佳琪雪梅晓东海燕"
        "红玉志俊嘉诗婷晨阳博睿一诺依可馨瑶宏亮春林斌波倩颖琳慧婉清萍凤霖泽昊天佑安宁永康德成";
#define CJK 3

/* splitmix64: small, fast, and the same sequence everywhere for a seed. */
struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* A number in [0, n) (the modulo bias is far below what a demo could show). */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

static int64_t days_of(int y, int m, int d)
{
	int64_t days = 0;
	bool ok = ss_date_to_days(y, m, d, &days);
	(void)ok; /* only called with real dates */
	return days;
}

/* Where ID numbers come from: a code, the division column for it, and the birth days it may take. */
struct origin {
	char code[7];
	const char *lives; /* the division column: the district now */
	int64_t last_day;  /* the last birth day the code was given for */
};

/* A set of the ID numbers made so far, as keys (division, birth day, sequence) + 1; 0 is empty. */
struct keyset {
	uint64_t *slots;
	size_t cap;
};

/* Adds key; false if it was there already. */
static bool keyset_add(struct keyset *k, uint64_t key)
{
	size_t i = (size_t)(key * 0x9E3779B97F4A7C15ull) & (k->cap - 1);
	while (k->slots[i]) {
		if (k->slots[i] == key)
			return false;
		i = (i + 1) & (k->cap - 1);
	}
	k->slots[i] = key;
	return true;
}

struct person {
	char id_number[SS_IDCARD_LEN + 1];
	char name[SS_NAME_MAX + 1];
	char sex;
	int year, month, day;
	const char *lives;
	char phone[SS_PHONE_MAX + 1];
};

struct population {
	struct origin *origins;
	size_t nshanghai, nretired, nall;
	int64_t first_day, last_day, adult_first, adult_last;
	struct keyset used;
};

static void population_init(struct population *p, size_t n)
{
	size_t nsh = (size_t)ss_division_shanghai_count();
	size_t nret = sizeof(retired) / sizeof(retired[0]);
	size_t noth = sizeof(other_divisions) / sizeof(other_divisions[0]);
	p->first_day = days_of(1935, 1, 1);
	p->last_day = days_of(2024, 12, 31);
	p->adult_first = days_of(1950, 1, 1);
	p->adult_last = days_of(2005, 12, 31);
	p->origins = ss_calloc(nsh + nret + noth, sizeof(*p->origins));
	for (size_t i = 0; i < nsh; i++) {
		const char *code, *zh, *en;
		ss_division_shanghai_at((int)i, &code, &zh, &en);
		snprintf(p->origins[i].code, sizeof(p->origins[i].code), "%s", code);
		p->origins[i].lives = code;
		p->origins[i].last_day = p->last_day;
	}
	for (size_t i = 0; i < nret; i++) {
		struct origin *o = &p->origins[nsh + i];
		snprintf(o->code, sizeof(o->code), "%s", retired[i].code);
		o->lives = retired[i].successor;
		o->last_day = days_of(retired[i].until, 1, 1) - 1;
	}
	for (size_t i = 0; i < noth; i++) {
		struct origin *o = &p->origins[nsh + nret + i];
		snprintf(o->code, sizeof(o->code), "%s", other_divisions[i]);
		o->lives = other_divisions[i];
		o->last_day = p->last_day;
	}
	p->nshanghai = nsh;
	p->nretired = nret;
	p->nall = nsh + nret + noth;
	p->used.cap = 1024;
	while (p->used.cap < 2 * n)
		p->used.cap *= 2;
	p->used.slots = ss_calloc(p->used.cap, sizeof(uint64_t));
}

static void population_release(struct population *p)
{
	free(p->origins);
	free(p->used.slots);
}

/*
 * A new person with an ID number no one has yet: 80% from a current Shanghai
 * district, 5% from a retired Shanghai code, 15% from other provinces. Adults
 * (born 1950-2005) always have a phone; of the others 3% have none.
 */
static void make_person(struct population *pop, struct rng *r, bool adult, struct person *out)
{
	uint64_t u = rng_below(r, 100);
	size_t oi = u < 80   ? (size_t)rng_below(r, pop->nshanghai)
	            : u < 85 ? pop->nshanghai + (size_t)rng_below(r, pop->nretired)
	                     : pop->nshanghai + pop->nretired +
	                               (size_t)rng_below(r, pop->nall - pop->nshanghai - pop->nretired);
	const struct origin *o = &pop->origins[oi];
	int64_t lo = adult ? pop->adult_first : pop->first_day;
	int64_t hi = adult ? pop->adult_last : pop->last_day;
	if (hi > o->last_day)
		hi = o->last_day;
	int64_t day;
	unsigned seq;
	/* on a collision, the next sequence number of the same parity (same sex); another day after 500 */
	for (;;) {
		day = lo + (int64_t)rng_below(r, (uint64_t)(hi - lo + 1));
		seq = (unsigned)rng_below(r, 1000);
		uint64_t base = ((uint64_t)oi * 65536 + (uint64_t)(day - pop->first_day)) * 1000 + 1;
		int tries = 0;
		while (tries < 500 && !keyset_add(&pop->used, base + seq)) {
			seq = (seq + 2) % 1000;
			tries++;
		}
		if (tries < 500)
			break;
	}
	ss_days_to_date(day, &out->year, &out->month, &out->day);
	snprintf(out->id_number, sizeof(out->id_number), "%s%04d%02d%02d%03u", o->code, out->year, out->month, out->day,
	         seq);
	out->id_number[17] = ss_idcard_check_char(out->id_number);
	out->id_number[18] = '\0';
	out->sex = seq % 2 ? 'M' : 'F';
	out->lives = o->lives;

	size_t nsur = (sizeof(surnames) - 1) / CJK, ngiven = (sizeof(given) - 1) / CJK;
	size_t len = 0;
	if (rng_below(r, 100) == 0) {
		const char *c =
		        compound_surnames[rng_below(r, sizeof(compound_surnames) / sizeof(compound_surnames[0]))];
		len = strlen(c);
		memcpy(out->name, c, len);
	} else {
		memcpy(out->name, surnames + CJK * rng_below(r, nsur), CJK);
		len = CJK;
	}
	int nchars = rng_below(r, 10) < 7 ? 2 : 1;
	for (int i = 0; i < nchars; i++, len += CJK)
		memcpy(out->name + len, given + CJK * rng_below(r, ngiven), CJK);
	out->name[len] = '\0';

	if (!adult && rng_below(r, 100) < 3)
		out->phone[0] = '\0';
	else if (snprintf(out->phone, sizeof(out->phone), "1%d%09llu", 3 + (int)rng_below(r, 7),
	                  (unsigned long long)rng_below(r, 1000000000)) >= (int)sizeof(out->phone))
		out->phone[0] = '\0'; /* cannot happen: 11 digits */
}

/* ---- the demo ---------------------------------------------------------------------------------------------- */

struct resident {
	char id_number[SS_IDCARD_LEN + 1];
	char name[SS_NAME_MAX + 1];
	char phone[SS_PHONE_MAX + 1];
	int64_t citizen_id, person_id;
	int color;
	int64_t since;
	int64_t green_at; /* when an upheld appeal made them green again; 0 if none did */
};

/* A person of the registry with no account, to try registration or to add as a relative. */
struct unregistered {
	char id_number[SS_IDCARD_LEN + 1];
	char name[SS_NAME_MAX + 1];
	char phone[SS_PHONE_MAX + 1];
	char sex;
	char birth_date[11];
	const char *division;
};

/* The appeals' states, in the order of the workflow (core/appeals.h). */
enum { SUBMITTED, ASSIGNED, CHECKING, UPHELD, REJECTED, CLOSED, NSTATES };
static const char *const state_names[NSTATES] = {"submitted", "assigned", "checking", "upheld", "rejected", "closed"};

struct made_terminal {
	int64_t terminal_id, place_id;
	int scene;
	const char *division;
	char secret[65];
};

struct demo {
	struct ss_app *app;
	const char *dir;
	long long nresidents, nregistered;
	uint64_t seed;
	struct resident *res;
	char uris[CSV_RESIDENTS][SS_TOTP_URI_MAX];
	struct made_terminal terms[NPLACES];
	int64_t staff_ids[NSTAFF];
	char tokens[NSTAFF][65];
	long long yellow, red, scans;
	int districts;
	int64_t phase_us[4]; /* registry, residents, statuses, scans */
	/* to try: people to register with, children and an elder to add as relatives */
	struct unregistered reg[TRY_REGISTER], kids[TRY_CHILDREN], elders[TRY_ELDERS];
	int nreg, nkids, nelders;
	int appeals[NSTATES];
	bool upheld_appellant; /* the 4th resident's appeal was upheld */
};

static const char *district_code(const char *name_zh)
{
	for (int i = 0; i < ss_division_shanghai_count(); i++) {
		const char *code, *zh, *en;
		ss_division_shanghai_at(i, &code, &zh, &en);
		if (!strcmp(zh, name_zh))
			return code;
	}
	return NULL;
}

static enum ss_err make_staff(struct demo *d)
{
	for (size_t i = 0; i < NSTAFF; i++) {
		enum ss_err err = ss_staff_create(d->app, staff_roles[i].name, staff_roles[i].role, &d->staff_ids[i],
		                                  d->tokens[i]);
		if (err)
			return err;
	}
	return SS_OK;
}

static enum ss_err make_terminals(struct demo *d)
{
	struct ss_arena a;
	enum ss_err err = SS_OK;
	bool seen[32] = {false};

	ss_arena_init(&a);
	for (size_t i = 0; i < NPLACES && !err; i++) {
		const struct place *p = &places[i];
		struct made_terminal *t = &d->terms[i];
		struct ss_terminal_row row;
		t->division = district_code(p->district);
		if (!t->division) {
			err = ss_fail(SS_INTERNAL, NULL, "the demo's place '%s' is in no Shanghai district", p->name);
			break;
		}
		t->scene = ss_scene_find(p->scene)->id;
		if ((err = ss_terminal_create(d->app, p->org, p->name, p->scene, t->division, d->staff_ids[0],
		                              &t->terminal_id, t->secret)) ||
		    (err = d->app->store->ops->terminal_get(d->app->store, t->terminal_id, &a, &row)))
			break;
		t->place_id = row.place_id;
		for (int k = 0; k < ss_division_shanghai_count() && k < 32; k++) {
			const char *code, *zh, *en;
			ss_division_shanghai_at(k, &code, &zh, &en);
			if (!strcmp(code, t->division) && !seen[k])
				seen[k] = true, d->districts++;
		}
	}
	ss_arena_release(&a);
	return err;
}

/* Is row i (of n) one of the r registered residents? They are spread evenly, the first row being one. */
static bool is_registered(long long i, long long n, long long r, long long *next)
{
	if (*next >= r || i != *next * n / r)
		return false;
	(*next)++;
	return true;
}

/*
 * Keeps p, a person the registry has and who has no account, if they are of
 * a kind still wanted: an adult of working age with a phone (to register), a
 * child of 3 to 15 (to add as a child: still a minor for a while), someone
 * born before 1950 (to add as an elder).
 */
static void maybe_try(struct demo *d, const struct person *p, int64_t now)
{
	struct ss_idcard id;
	struct unregistered *u = NULL;
	if (ss_idcard_parse(p->id_number, strlen(p->id_number), now, &id))
		return;
	int age = ss_idcard_age(&id, now);
	if (age >= 20 && age <= 60 && p->phone[0] && d->nreg < TRY_REGISTER)
		u = &d->reg[d->nreg++];
	else if (age >= 3 && age <= 15 && d->nkids < TRY_CHILDREN)
		u = &d->kids[d->nkids++];
	else if (p->year < 1950 && d->nelders < TRY_ELDERS)
		u = &d->elders[d->nelders++];
	if (!u)
		return;
	memcpy(u->id_number, p->id_number, sizeof(u->id_number));
	memcpy(u->name, p->name, sizeof(u->name));
	memcpy(u->phone, p->phone, sizeof(u->phone));
	u->sex = p->sex;
	snprintf(u->birth_date, sizeof(u->birth_date), "%04d-%02d-%02d", p->year, p->month, p->day);
	u->division = p->lives;
}

struct guardian_report {
	long bad, line; /* bad lines, and the last one */
};

static void guardian_bad_line(void *ctx, long line, const char *field, const char *reason)
{
	struct guardian_report *g = ctx;
	g->bad++;
	g->line = line;
}

/*
 * Names the 1st resident (registered by now) in the registry as the guardian
 * of the first child to try, through the registry import's optional guardians
 * column (the guardians' ID numbers), as a household register would: such a child is
 * linked at once, while one the registry names no guardian for waits for an
 * operator who has seen the birth certificate.
 */
static enum ss_err name_guardian(struct demo *d)
{
	char csv[512];
	const struct unregistered *k = &d->kids[0];
	if (d->nkids == 0 || d->nregistered == 0)
		return SS_OK;
	int n = snprintf(csv, sizeof(csv),
	                 "id_number,name,sex,birth_date,division,phone,guardians\n%s,%s,%c,%s,%s,%s,%s\n", k->id_number,
	                 k->name, k->sex, k->birth_date, k->division, k->phone, d->res[0].id_number);
	FILE *in = n > 0 && (size_t)n < sizeof(csv) ? fmemopen(csv, (size_t)n, "r") : NULL;
	if (!in)
		return ss_fail(SS_INTERNAL, NULL, "cannot read the demo's guardian from memory");
	struct guardian_report g = {0};
	struct ss_import_report rep = {.bad_line = guardian_bad_line, .ctx = &g};
	enum ss_err err = ss_registry_import(d->app, in, &rep);
	fclose(in);
	ss_wipe(csv, sizeof(csv));
	return err;
}

/* Generates the registry as CSV in memory and loads it with ss_registry_import (the checks of any import). */
static enum ss_err make_registry(struct demo *d)
{
	struct population pop;
	struct rng r = {d->seed};
	char *csv = NULL;
	size_t len = 0;
	long long next = 0;

	FILE *out = open_memstream(&csv, &len);
	if (!out)
		return ss_fail(SS_INTERNAL, NULL, "cannot make the population in memory: %s", strerror(errno));
	population_init(&pop, (size_t)d->nresidents);
	fputs("id_number,name,sex,birth_date,division,phone\n", out);
	int64_t now = ss_time_now();
	for (long long i = 0; i < d->nresidents; i++) {
		struct person p;
		bool reg = is_registered(i, d->nresidents, d->nregistered, &next);
		make_person(&pop, &r, reg, &p);
		fprintf(out, "%s,%s,%c,%04d-%02d-%02d,%s,%s\n", p.id_number, p.name, p.sex, p.year, p.month, p.day,
		        p.lives, p.phone);
		if (!reg)
			maybe_try(d, &p, now);
		if (reg) {
			struct resident *res = &d->res[next - 1];
			memcpy(res->id_number, p.id_number, sizeof(res->id_number));
			memcpy(res->name, p.name, sizeof(res->name));
			memcpy(res->phone, p.phone, sizeof(res->phone));
		}
	}
	population_release(&pop);
	if (fclose(out) != 0) {
		free(csv);
		return ss_fail(SS_INTERNAL, NULL, "cannot make the population in memory");
	}

	enum ss_err err;
	FILE *in = fmemopen(csv, len, "r");
	if (!in) {
		err = ss_fail(SS_INTERNAL, NULL, "cannot read the population from memory: %s", strerror(errno));
	} else {
		struct ss_import_report rep = {0};
		err = ss_registry_import(d->app, in, &rep);
		fclose(in);
	}
	ss_wipe(csv, len);
	free(csv);
	return err;
}

/*
 * Registers the residents chosen in the registry, all in one transaction.
 * They share one password hash: this is demo data and every resident has the
 * same password anyway, and an argon2id hash apiece (about 30 ms by design)
 * would make thousands of them take minutes. Log-in verifies it as any hash.
 */
static enum ss_err register_residents(struct demo *d)
{
	struct ss_store *s = d->app->store;
	char hash[SS_PASSWORD_HASH_MAX];
	char uri[SS_TOTP_URI_MAX];
	struct ss_arena a;
	enum ss_err err;

	if ((err = ss_password_hash(DEMO_PASSWORD, strlen(DEMO_PASSWORD), hash)))
		return err;
	if ((err = s->ops->begin(s)))
		return err;
	ss_arena_init(&a);
	for (long long i = 0; i < d->nregistered && !err; i++) {
		struct resident *res = &d->res[i];
		struct ss_registration reg = {
		        .name = res->name, .id_number = res->id_number, .phone = res->phone, .channel = "app"};
		struct ss_citizen_row c;
		if ((err = ss_identity_register_prehashed(d->app, &reg, hash, &res->citizen_id, uri)) ||
		    (err = s->ops->citizen_by_id(s, res->citizen_id, &a, &c)))
			break;
		res->person_id = c.person_id;
		if (i < CSV_RESIDENTS)
			memcpy(d->uris[i], uri, sizeof(uri));
		if (i % 256 == 255) { /* keep the arena small */
			ss_arena_release(&a);
			ss_arena_init(&a);
		}
	}
	ss_arena_release(&a);
	ss_wipe(uri, sizeof(uri));
	ss_wipe(hash, sizeof(hash));
	if (err) {
		s->ops->rollback(s);
		return err;
	}
	return s->ops->commit(s);
}

/* The evidence that colours a resident, as its sources report it (each makes a rule of rules/default.rules fire). */
enum evidence {
	CLOSE_CONTACT,     /* red.close-contact: traced by the CDC, in quarantine, not yet released */
	CONFIRMED_CASE,    /* red.case: a lab's positive test, then the CDC's confirmed case */
	HIGH_RISK_AREA,    /* yellow.high-risk-area: reported by the national platform or a province */
	FEVER,             /* yellow.fever: the resident's own health declaration */
	SECONDARY_CONTACT, /* yellow.secondary-contact: traced by the CDC */
	INBOUND,           /* yellow.inbound: an airline's arrival, at most one negative test since */
};

/* One resident's records being made: their ID number, and when the last of them reached the platform. */
struct evidence_of {
	struct demo *d;
	const char *id_number;
	int64_t now, last_received;
	long long *nrecords; /* records made so far, for record_id */
	struct ss_arena *a;
};

/*
 * Makes a record as a source sends one (a JSON Lines line, checked as any
 * import's) and keeps it as received at received.
 */
static enum ss_err put_record(struct evidence_of *e, const char *source, const char *kind, int64_t occurred_at,
                              const char *attributes, int64_t received)
{
	char when[SS_TIME_TEXT], line[1024];
	struct ss_record rec;
	enum ss_err err;

	ss_time_format(occurred_at, when);
	int n = snprintf(line, sizeof(line),
	                 "{\"record_id\":\"demo:%lld\",\"kind\":\"%s\",\"id_number\":\"%s\",\"occurred_at\":\"%s\","
	                 "\"attributes\":%s}",
	                 ++*e->nrecords, kind, e->id_number, when, attributes);
	if (n < 0 || (size_t)n >= sizeof(line))
		return ss_fail(SS_INTERNAL, NULL, "a demo record is too long");
	err = ss_record_from_jsonl(line, (size_t)n, source, e->now, &rec, e->a);
	ss_wipe(line, sizeof(line));
	if (!err)
		err = ss_record_put(e->d->app, &rec, received);
	if (!err && received > e->last_received)
		e->last_received = received;
	return err;
}

/* A time t0 + [lo, lo + span) seconds, from x. */
static int64_t later(struct rng *x, int64_t t0, int64_t lo, int64_t span)
{
	return t0 + lo + (int64_t)rng_below(x, (uint64_t)span);
}

/*
 * The records of one kind of evidence, at realistic times: every record lies
 * in the past and within its rule's window, so that the colour holds for days
 * (a fever three days at most, by the rule; a case until a recovered record,
 * which the demo does not send). x varies the details.
 */
static enum ss_err make_evidence(struct evidence_of *e, enum evidence kind, struct rng *x)
{
	char attrs[256];
	int64_t now = e->now, t0, t1;
	enum ss_err err;

	switch (kind) {
	case CLOSE_CONTACT: /* 1-5 days ago; traced and quarantined hours later */
		t0 = later(x, now - 5 * DAY, 0, 4 * DAY);
		t1 = later(x, t0, 2 * HOUR, 12 * HOUR);
		if ((err = put_record(e, "cdc", "close_contact", t0, "{}", t1)))
			return err;
		return put_record(e, "cdc", "quarantine_start", t1, "{}", t1 + HOUR);
	case CONFIRMED_CASE: /* sampled 1.5-5.5 days ago; the lab's result, then the CDC's case, within a day */
		t0 = later(x, now - 132 * HOUR, 0, 4 * DAY);
		t1 = later(x, t0, 6 * HOUR, 12 * HOUR);
		if ((err = put_record(e, "lab", "test_result", t0, "{\"result\":\"positive\"}", t1)))
			return err;
		t1 = later(x, t1, HOUR, 5 * HOUR);
		return put_record(e, "cdc", "confirmed_case", t1, "{}", later(x, t1, 0, HOUR));
	case HIGH_RISK_AREA: { /* 2-7 days ago, in another province's district; reported up to 1.5 days later */
		const char *area = other_divisions[rng_below(x, sizeof(other_divisions) / sizeof(other_divisions[0]))];
		char source[SS_SOURCE_MAX + 1] = "national";
		if (rng_below(x, 2))
			snprintf(source, sizeof(source), "province:%.2s", area);
		t0 = later(x, now - 7 * DAY, 0, 5 * DAY);
		snprintf(attrs, sizeof(attrs), "{\"area\":\"%s\",\"level\":\"high\"}", area);
		return put_record(e, source, "risk_area_visit", t0, attrs, later(x, t0, 6 * HOUR, 30 * HOUR));
	}
	case FEVER: { /* declared in the last day: 37.3-39.5 °C, with up to two symptoms */
		size_t ns = sizeof(symptoms) / sizeof(symptoms[0]), k = (size_t)rng_below(x, 3),
		       first = rng_below(x, ns);
		int len = snprintf(attrs, sizeof(attrs), "{\"temperature\":%.1f,\"symptoms\":[",
		                   37.3 + (double)rng_below(x, 23) / 10);
		for (size_t i = 0; i < k; i++)
			len += snprintf(attrs + len, sizeof(attrs) - (size_t)len, "%s\"%s\"", i ? "," : "",
			                symptoms[(first + i) % ns]);
		snprintf(attrs + len, sizeof(attrs) - (size_t)len, "]}");
		t0 = later(x, now - DAY, 0, 23 * HOUR);
		return put_record(e, "self", "health_declaration", t0, attrs, t0);
	}
	case SECONDARY_CONTACT: /* 0.5-2.5 days ago; traced hours later */
		t0 = later(x, now - 60 * HOUR, 0, 2 * DAY);
		return put_record(e, "cdc", "secondary_contact", t0, "{}", later(x, t0, 2 * HOUR, 8 * HOUR));
	case INBOUND: /* landed 2-6 days ago; half of them have had one negative test since, none two */
		t0 = later(x, now - 6 * DAY, 0, 4 * DAY);
		snprintf(attrs, sizeof(attrs), "{\"origin\":\"%s\"}",
		         origins[rng_below(x, sizeof(origins) / sizeof(origins[0]))]);
		if ((err = put_record(e, "airline", "inbound_travel", t0, attrs, later(x, t0, 0, 2 * HOUR))) ||
		    rng_below(x, 2))
			return err;
		t1 = later(x, t0, DAY, 12 * HOUR);
		return put_record(e, "lab", "test_result", t1, "{\"result\":\"negative\"}",
		                  later(x, t1, 6 * HOUR, 6 * HOUR));
	}
	return ss_fail(SS_INTERNAL, NULL, "unknown demo evidence %d", (int)kind);
}

/*
 * About 3% of the residents yellow and 1% red, from records that sources
 * sent in the last days (a close contact, a confirmed case; a visit to a
 * high-risk area, a declared fever, a secondary contact, an arrival from
 * abroad), coloured by the active rule set as the platform colours anyone.
 * Each is assigned as of the time their last record arrived, so that their
 * colour dates from then, and checked to have the colour meant. The 2nd
 * resident is always yellow and the 3rd red, and the 1st green, so
 * demo-residents.csv has one of each. One transaction, as registration.
 */
static enum ss_err set_statuses(struct demo *d)
{
	static const enum evidence red[] = {CLOSE_CONTACT, CLOSE_CONTACT, CLOSE_CONTACT, CONFIRMED_CASE};
	static const enum evidence yellow[] = {HIGH_RISK_AREA, FEVER, SECONDARY_CONTACT, INBOUND};
	struct ss_store *s = d->app->store;
	struct rng r = {d->seed ^ 0x5354415455530000ull};
	int64_t now = ss_time_now();
	long long nrecords = 0;
	struct ss_arena a;
	enum ss_err err;

	if ((err = ss_assign_load_rules(d->app)) || (err = s->ops->begin(s)))
		return err;
	ss_arena_init(&a);
	for (long long i = 0; i < d->nregistered && !err; i++) {
		struct resident *res = &d->res[i];
		uint64_t u = rng_below(&r, 1000);
		int drawn = u < 10 ? SS_RED : u < 40 ? SS_YELLOW : SS_GREEN;
		res->color = i == 0 ? SS_GREEN : i == 1 || i == APPELLANT ? SS_YELLOW : i == 2 ? SS_RED : drawn;
		/*
		 * Two more draws, as when colours were set by hand (a start time
		 * for everyone, a reason for the coloured), so that a seed still
		 * colours the same residents. The 4th, whose appeal is upheld
		 * (make_appeals), takes the details of their records from a draw
		 * of their own unless the seed coloured them anyway.
		 */
		uint64_t pick = rng_next(&r);
		if (res->color == SS_GREEN)
			continue;
		bool own = i == APPELLANT && drawn == SS_GREEN;
		struct rng x = {own ? d->seed ^ 0x41505045414c0000ull : rng_next(&r)}; /* the details of the records */
		enum evidence kind = i == APPELLANT ? HIGH_RISK_AREA /* reported in error, as the appeal finds */
		                     : res->color == SS_RED ? red[pick % (sizeof(red) / sizeof(red[0]))]
		                                            : yellow[pick % (sizeof(yellow) / sizeof(yellow[0]))];
		struct evidence_of e = {d, res->id_number, now, 0, &nrecords, &a};
		uint8_t idx[SS_INDEX_LEN];
		struct ss_status_row row;
		if ((err = make_evidence(&e, kind, &x)))
			break;
		ss_pii_index(d->app, res->id_number, idx);
		if ((err = ss_assign_person(d->app, idx, res->person_id, e.last_received, NULL)) ||
		    (err = s->ops->status_get(s, res->person_id, &a, &row)))
			break;
		if (row.color != res->color) {
			err = ss_fail(SS_INTERNAL, NULL, "the demo's records gave a %s resident %s (rule %s)",
			              ss_color_name(res->color), ss_color_name(row.color), row.rule);
			break;
		}
		res->since = row.since;
		if (res->color == SS_RED)
			d->red++;
		else
			d->yellow++;
		ss_arena_release_secret(&a);
		ss_arena_init(&a);
	}
	ss_arena_release_secret(&a);
	if (err) {
		s->ops->rollback(s);
		return err;
	}
	return s->ops->commit(s);
}

/* What the demo's appellants write, and what their handler finds. */
static const struct {
	const char *reason, *details, *data, *grassroots, *decision;
} appeal_texts[] = {
        {"健康码误判", "我近14天没有离开上海，没有去过外省的中高风险地区，请核实行程数据。",
         "通信行程数据核查：该时段本人手机位于上海市内", "居委会核实：本人近两周居家办公，情况属实",
         "行程数据有误，已更正"},
        {"赋码有误", "我已按要求完成核酸检测，结果为阴性，请复核。", "核酸检测数据核查：检测记录属实",
         "社区核实：本人仍在健康监测期内", "健康监测期未满，维持原赋码"},
};

/*
 * One appeal of res (a coloured resident), filed from the app or (hotline)
 * by the operator for them as a caller, and taken by the handler up to
 * state, through the functions the API uses, at times spread between the
 * start of their colour and now. An upheld one makes them green (their
 * green_at).
 */
static enum ss_err make_appeal(struct demo *d, struct resident *res, bool hotline, int state, int64_t now)
{
	bool upheld = state == UPHELD;
	int64_t step = (now - res->since) / 8, t = res->since, handler = d->staff_ids[2];
	size_t k = upheld ? 0 : 1;
	struct ss_appeal_filing f = {.reason = appeal_texts[k].reason, .details = appeal_texts[k].details};
	enum ss_err err;
	if (hotline) {
		f.staff_id = d->staff_ids[1];
		f.id_number = res->id_number;
		f.name = res->name;
	} else {
		f.citizen_id = res->citizen_id;
		f.channel = "app";
	}
	if ((err = ss_appeal_file(d->app, &f, t += step)) || state == SUBMITTED ||
	    (err = ss_appeal_claim(d->app, f.appeal_id, handler, t += step, NULL)) || state == ASSIGNED ||
	    (err = ss_appeal_check(d->app, f.appeal_id, handler, "data", appeal_texts[k].data, t += step, NULL)) ||
	    state == CHECKING ||
	    (err = ss_appeal_check(d->app, f.appeal_id, handler, "grassroots", appeal_texts[k].grassroots, t += step,
	                           NULL)))
		goto out;
	struct ss_appeal_decision dec = {.upheld = upheld, .color = "green", .reason = appeal_texts[k].decision};
	if ((err = ss_appeal_decide(d->app, f.appeal_id, handler, &dec, t += step, NULL)))
		goto out;
	if (upheld)
		res->green_at = t;
	if (state == CLOSED)
		err = ss_appeal_close(d->app, f.appeal_id, handler, t += step, NULL);
out:
	if (!err)
		d->appeals[state]++;
	return err;
}

/*
 * Appeals in every state for the handlers' queue: the 2nd resident's
 * (yellow) just filed from the app; the 4th's upheld (green again: the
 * resident page shows the appeal's reason and the yellow it overrides);
 * then, for the next coloured residents there are, one filed by a 12345
 * operator, one assigned, one checking, one rejected and one closed.
 */
static enum ss_err make_appeals(struct demo *d)
{
	static const int others[] = {SUBMITTED, ASSIGNED, CHECKING, REJECTED, CLOSED};
	int64_t now = ss_time_now();
	enum ss_err err = SS_OK;
	size_t next = 0;
	if (d->nregistered > 1)
		err = make_appeal(d, &d->res[1], false, SUBMITTED, now);
	if (!err && d->nregistered > APPELLANT) {
		err = make_appeal(d, &d->res[APPELLANT], false, UPHELD, now);
		d->upheld_appellant = !err;
		d->yellow -= !err;
	}
	for (long long i = APPELLANT + 1; i < d->nregistered && next < sizeof(others) / sizeof(others[0]) && !err; i++)
		if (d->res[i].color != SS_GREEN) {
			err = make_appeal(d, &d->res[i], next == 0, others[next], now);
			next++;
		}
	return err;
}

/* A time in the past 7 days, in ms, mostly in the day (China time) as a city's scans are. */
static int64_t scan_time(struct rng *r, int64_t now_ms)
{
	/* relative weights of each hour of the day */
	static const int hours[24] = {2, 1, 1, 1, 1, 2, 5, 12, 14, 9, 7, 8, 10, 8, 7, 7, 8, 11, 13, 9, 7, 6, 4, 3};
	int total = 0;
	for (int h = 0; h < 24; h++)
		total += hours[h];
	int64_t now = now_ms / 1000;
	int64_t midnight = now - (now + CHINA_OFFSET) % DAY;
	int64_t t;
	do {
		int w = (int)rng_below(r, (uint64_t)total), h = 0;
		while (w >= hours[h])
			w -= hours[h++];
		t = (midnight - (int64_t)rng_below(r, 7) * DAY + h * 3600 + (int64_t)rng_below(r, 3600)) * 1000 +
		    (int64_t)rng_below(r, 1000);
	} while (t > now_ms - 60000);
	return t;
}

static int by_time(const void *x, const void *y)
{
	const struct ss_scan_row *a = x, *b = y;
	return (a->scanned_at_ms > b->scanned_at_ms) - (a->scanned_at_ms < b->scanned_at_ms);
}

/*
 * About 20 scans per resident over the past week at random terminals, each
 * with the colour the resident had then (green before their colour changed;
 * red residents mostly stay at home after); 2% of them expired codes; and 1%
 * more scans of invalid codes, which name no one. Scan ids count up with time.
 */
static enum ss_err make_scans(struct demo *d)
{
	struct rng r = {d->seed ^ 0x5343414e53000000ull};
	int64_t now_ms = ss_time_now_ms();
	int64_t key_id = ss_keyring_current_id(d->app->keys, SS_KEY_CODE);
	size_t cap = (size_t)d->nregistered * 27 + 64, n = 0;
	struct ss_scan_row *rows = ss_calloc(cap, sizeof(*rows));

	for (long long i = 0; i < d->nregistered; i++) {
		const struct resident *res = &d->res[i];
		int k = 14 + (int)rng_below(&r, 13);
		for (int j = 0; j < k; j++) {
			const struct made_terminal *t = &d->terms[rng_below(&r, NPLACES)];
			int64_t at = scan_time(&r, now_ms);
			bool changed = res->color != SS_GREEN && at >= res->since * 1000 &&
			               (!res->green_at || at < res->green_at * 1000);
			int result = changed ? res->color : SS_GREEN;
			if (changed && res->color == SS_RED && rng_below(&r, 5) != 0)
				continue;
			if (rng_below(&r, 100) < 2)
				result = SS_RESULT_EXPIRED;
			rows[n++] = (struct ss_scan_row){.terminal_id = t->terminal_id,
			                                 .place_id = t->place_id,
			                                 .scene = t->scene,
			                                 .result = result,
			                                 .person_id = res->person_id,
			                                 .key_id = key_id,
			                                 .scanned_at_ms = at};
		}
	}
	for (size_t m = n / 100 + 1; m > 0; m--) {
		const struct made_terminal *t = &d->terms[rng_below(&r, NPLACES)];
		rows[n++] = (struct ss_scan_row){.terminal_id = t->terminal_id,
		                                 .place_id = t->place_id,
		                                 .scene = t->scene,
		                                 .result = SS_RESULT_INVALID,
		                                 .scanned_at_ms = scan_time(&r, now_ms)};
	}
	qsort(rows, n, sizeof(*rows), by_time);

	int64_t first = 0;
	enum ss_err err = d->app->store->ops->scan_max_id(d->app->store, &first);
	for (size_t i = 0; i < n; i++)
		rows[i].scan_id = first + 1 + (int64_t)i;
	for (size_t i = 0; i < n && !err; i += SCAN_BATCH)
		err = ss_scanlog_write(d->app->store, rows + i, n - i < SCAN_BATCH ? n - i : SCAN_BATCH);
	if (!err)
		d->scans = (long long)n;
	free(rows);
	return err;
}

/* ---- the files --------------------------------------------------------------------------------------------- */

/* Writes b to DIR/name, mode 0600, replacing it whole (through a temporary file and a rename). */
static enum ss_err write_private(const char *dir, const char *name, const struct ss_buf *b)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return ss_fail(SS_INVALID, "data", "the data directory's path is too long");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return ss_fail(SS_INTERNAL, NULL, "cannot write '%s': %s", tmp, strerror(errno));
	bool ok = fchmod(fd, 0600) == 0;
	for (size_t off = 0; ok && off < b->len;) {
		ssize_t w = write(fd, b->ptr + off, b->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		ok = w > 0;
		off += ok ? (size_t)w : 0;
	}
	ok = ok && fsync(fd) == 0;
	int saved = errno;
	ok = close(fd) == 0 && ok;
	if (ok && rename(tmp, path) == 0)
		return SS_OK;
	saved = saved ? saved : errno;
	unlink(tmp);
	return ss_fail(SS_INTERNAL, NULL, "cannot write '%s': %s", path, strerror(saved));
}

/* Appends one JSON object, written by fn, as a line of an array being built in b. */
static void append_line(struct ss_buf *b, bool first, void (*fn)(struct ss_jw *w, const void *ctx), const void *ctx,
                        enum ss_err *err)
{
	struct ss_buf one;
	struct ss_jw w;
	ss_buf_init(&one, FILE_MAX);
	ss_jw_init(&w, &one);
	fn(&w, ctx);
	enum ss_err e = ss_jw_finish(&w);
	if (!e)
		e = ss_buf_printf(b, "%s  %s", first ? "" : ",\n", ss_buf_str(&one));
	if (e && !*err)
		*err = e;
	ss_buf_release(&one);
}

struct terminal_line {
	const struct made_terminal *t;
	const struct place *p;
};

static void terminal_json(struct ss_jw *w, const void *ctx)
{
	const struct terminal_line *l = ctx;
	ss_jw_obj_begin(w);
	ss_jw_kint(w, "terminal_id", l->t->terminal_id);
	ss_jw_kstr(w, "scene", l->p->scene);
	ss_jw_kstr(w, "org", l->p->org);
	ss_jw_kstr(w, "place", l->p->name);
	ss_jw_kstr(w, "district", l->p->district);
	ss_jw_kstr(w, "division", l->t->division);
	ss_jw_kstr(w, "secret", l->t->secret);
	ss_jw_obj_end(w);
}

struct staff_line {
	const char *role, *name, *token;
	int64_t staff_id;
};

static void staff_json(struct ss_jw *w, const void *ctx)
{
	const struct staff_line *l = ctx;
	ss_jw_obj_begin(w);
	ss_jw_kstr(w, "role", l->role);
	ss_jw_kstr(w, "name", l->name);
	ss_jw_kint(w, "staff_id", l->staff_id);
	ss_jw_kstr(w, "token", l->token);
	ss_jw_obj_end(w);
}

/* One person to try: {"id_number","name","phone","birth_date"} and, for a relative, "relation" and "note". */
static void try_json(struct ss_jw *w, const struct unregistered *u, const char *relation, const char *note)
{
	ss_jw_obj_begin(w);
	ss_jw_kstr(w, "id_number", u->id_number);
	ss_jw_kstr(w, "name", u->name);
	ss_jw_kstr(w, "phone", u->phone);
	ss_jw_kstr(w, "birth_date", u->birth_date);
	if (relation) {
		ss_jw_kstr(w, "relation", relation);
		ss_jw_kstr(w, "note", note);
	}
	ss_jw_obj_end(w);
}

/*
 * demo-people.json: whom to try things with, as the instructions print them:
 * {"register": [people of the registry with no account], "relatives": [the
 * children and the elder to add, each with what will happen], "appeals":
 * {state: count}, "upheld": the resident (1-based in demo-residents.csv)
 * green by an upheld appeal, or 0}.
 */
static enum ss_err people_json(const struct demo *d, struct ss_buf *b)
{
	struct ss_jw w;
	ss_jw_init(&w, b);
	ss_jw_obj_begin(&w);
	ss_jw_key(&w, "register");
	ss_jw_arr_begin(&w);
	for (int i = 0; i < d->nreg; i++)
		try_json(&w, &d->reg[i], NULL, NULL);
	ss_jw_arr_end(&w);
	ss_jw_key(&w, "relatives");
	ss_jw_arr_begin(&w);
	for (int i = 0; i < d->nkids; i++)
		try_json(&w, &d->kids[i], "child",
		         i == 0 ? "the registry names the 1st resident as guardian: linked at once"
		                : "the registry names no guardian: the link waits until a 12345 operator "
		                  "has seen the birth certificate or household register (console)");
	for (int i = 0; i < d->nelders; i++)
		try_json(&w, &d->elders[i], "parent",
		         "an elder with no account: the link waits for their consent, given on a call to 12345 and "
		         "confirmed by the operator (console)");
	ss_jw_arr_end(&w);
	ss_jw_key(&w, "appeals");
	ss_jw_obj_begin(&w);
	for (int i = 0; i < NSTATES; i++)
		ss_jw_kint(&w, state_names[i], d->appeals[i]);
	ss_jw_obj_end(&w);
	ss_jw_kint(&w, "upheld", d->upheld_appellant ? APPELLANT + 1 : 0);
	ss_jw_obj_end(&w);
	enum ss_err err = ss_jw_finish(&w);
	return err ? err : ss_buf_puts(b, "\n");
}

static enum ss_err write_files(struct demo *d)
{
	struct ss_buf b;
	enum ss_err err = SS_OK;

	ss_buf_init(&b, FILE_MAX);
	if (!err)
		err = ss_buf_puts(&b, "id_number,name,password,totp_uri\n");
	for (long long i = 0; i < d->nregistered && i < CSV_RESIDENTS && !err; i++)
		err = ss_buf_printf(&b, "%s,%s,%s,%s\n", d->res[i].id_number, d->res[i].name, DEMO_PASSWORD,
		                    d->uris[i]);
	if (!err)
		err = write_private(d->dir, FILE_RESIDENTS, &b);

	ss_buf_reset(&b);
	if (!err)
		err = ss_buf_puts(&b, "{\"terminals\": [\n");
	for (size_t i = 0; i < NPLACES && !err; i++) {
		struct terminal_line l = {&d->terms[i], &places[i]};
		append_line(&b, i == 0, terminal_json, &l, &err);
	}
	if (!err)
		err = ss_buf_puts(&b, "\n]}\n");
	if (!err)
		err = write_private(d->dir, FILE_TERMINALS, &b);

	ss_buf_reset(&b);
	if (!err)
		err = ss_buf_puts(&b, "{\"staff\": [\n");
	for (size_t i = 0; i < NSTAFF && !err; i++) {
		struct staff_line l = {staff_roles[i].role, staff_roles[i].name, d->tokens[i], d->staff_ids[i]};
		append_line(&b, i == 0, staff_json, &l, &err);
	}
	if (!err)
		err = ss_buf_puts(&b, "\n]}\n");
	if (!err)
		err = write_private(d->dir, FILE_STAFF, &b);

	ss_buf_reset(&b);
	if (!err)
		err = people_json(d, &b);
	if (!err)
		err = write_private(d->dir, FILE_PEOPLE, &b);
	if (b.ptr)
		ss_wipe(b.ptr, b.len);
	ss_buf_release(&b);
	return err;
}

/* Reads DIR/name whole (at most b's maximum) into b. */
static enum ss_err read_file(const char *dir, const char *name, struct ss_buf *b)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return ss_buf_read_file(b, path);
}

/* ---- the instructions -------------------------------------------------------------------------------------- */

/* Decodes RFC 4648 base32 (upper case, no padding) of exactly n bytes; false if s is not that. */
static bool base32_decode(const char *s, size_t len, uint8_t *out, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int v;
		if (s[i] >= 'A' && s[i] <= 'Z')
			v = s[i] - 'A';
		else if (s[i] >= '2' && s[i] <= '7')
			v = s[i] - '2' + 26;
		else
			return false;
		acc = (acc << 5 | (uint32_t)v) & 0xFFFF;
		bits += 5;
		if (bits >= 8) {
			if (o == n)
				return false;
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return o == n;
}

/* The current one-time code of an otpauth:// URI, and the seconds it stays; false if the URI has no secret. */
static bool current_otp(const char *uri, uint32_t *code, int *left)
{
	uint8_t secret[SS_TOTP_SECRET_LEN];
	const char *p = strstr(uri, "secret=");
	if (!p)
		return false;
	p += strlen("secret=");
	if (!base32_decode(p, strcspn(p, "&"), secret, sizeof(secret)))
		return false;
	int64_t now = ss_time_now();
	*code = ss_totp_code(secret, now);
	*left = SS_TOTP_STEP - (int)(now % SS_TOTP_STEP);
	ss_wipe(secret, sizeof(secret));
	return true;
}

struct instructions {
	char *resident[4]; /* id_number, name, password, totp_uri */
	int nresidents;
	int64_t terminal_id;
	const char *secret, *place, *scene, *org;
	const char *admin_token;
	int64_t admin_id;
	const struct ss_json *staff; /* the array of demo-staff.json: every role's token, for the console */
};

/* The first terminal of demo-terminals.json and the admin of demo-staff.json (strings live as long as the values). */
static enum ss_err read_json_files(const char *dir, struct ss_json **terms, struct ss_json **staff,
                                   struct instructions *in)
{
	struct ss_buf b;
	const struct ss_json *arr, *t;
	enum ss_err err;

	ss_buf_init(&b, FILE_MAX);
	if ((err = read_file(dir, FILE_TERMINALS, &b)) || (err = ss_json_parse(b.ptr, b.len, terms)) ||
	    (err = ss_json_get_arr(*terms, "terminals", true, 10000, &arr)))
		goto out;
	if (ss_json_arr_len(arr) == 0 || !ss_json_is_obj(t = ss_json_arr_at(arr, 0))) {
		err = ss_fail(SS_INVALID, NULL, "'%s/%s' lists no terminal", dir, FILE_TERMINALS);
		goto out;
	}
	if ((err = ss_json_get_int(t, "terminal_id", true, 1, INT64_MAX, &in->terminal_id, NULL)) ||
	    (err = ss_json_get_str(t, "secret", true, 64, &in->secret)) ||
	    (err = ss_json_get_str(t, "place", true, SS_PLACE_MAX, &in->place)) ||
	    (err = ss_json_get_str(t, "scene", true, 32, &in->scene)) ||
	    (err = ss_json_get_str(t, "org", true, SS_ORG_MAX, &in->org)))
		goto out;

	if (b.ptr)
		ss_wipe(b.ptr, b.len);
	ss_buf_reset(&b);
	if ((err = read_file(dir, FILE_STAFF, &b)) || (err = ss_json_parse(b.ptr, b.len, staff)) ||
	    (err = ss_json_get_arr(*staff, "staff", true, 100, &arr)))
		goto out;
	in->staff = arr;
	for (size_t i = 0; i < ss_json_arr_len(arr); i++) {
		const struct ss_json *s = ss_json_arr_at(arr, i);
		const char *role = NULL;
		if (!ss_json_is_obj(s) || ss_json_get_str(s, "role", true, 32, &role) || strcmp(role, "admin") != 0)
			continue;
		if (!(err = ss_json_get_str(s, "token", true, 64, &in->admin_token)))
			err = ss_json_get_int(s, "staff_id", true, 1, INT64_MAX, &in->admin_id, NULL);
		goto out;
	}
	err = ss_fail(SS_INVALID, NULL, "'%s/%s' lists no admin", dir, FILE_STAFF);
out:
	if (b.ptr)
		ss_wipe(b.ptr, b.len);
	ss_buf_release(&b);
	return err;
}

/* The first resident of demo-residents.csv, and how many rows it has. */
static enum ss_err read_residents(const char *dir, struct ss_buf *b, struct instructions *in)
{
	enum ss_err err = read_file(dir, FILE_RESIDENTS, b);
	if (err)
		return err;
	char *line = strchr(b->ptr ? b->ptr : "", '\n');
	for (char *p = line; p && p[1]; p = strchr(p + 1, '\n'))
		in->nresidents++;
	if (!line || !in->nresidents)
		return ss_fail(SS_INVALID, NULL, "'%s/%s' lists no resident", dir, FILE_RESIDENTS);
	char *p = line + 1;
	for (int f = 0; f < 4; f++) {
		in->resident[f] = p;
		p += strcspn(p, f < 3 ? ",\n" : "\n");
		if (*p != (f < 3 ? ',' : '\n'))
			return ss_fail(SS_INVALID, NULL, "'%s/%s' is malformed", dir, FILE_RESIDENTS);
		*p++ = '\0';
	}
	return SS_OK;
}

/*
 * Whom to try registration, relatives and the handlers' queue with, from
 * demo-people.json. A directory made before the demo wrote it has none of
 * this to say: nothing is printed.
 */
static enum ss_err print_people(const char *dir, const char *listen, const char *first)
{
	struct ss_buf b;
	struct ss_json *doc = NULL;
	const struct ss_json *reg = NULL, *rel = NULL, *appeals = NULL;
	int64_t upheld = 0;
	char path[PATH_MAX];
	enum ss_err err;

	snprintf(path, sizeof(path), "%s/%s", dir, FILE_PEOPLE);
	if (access(path, F_OK) != 0)
		return SS_OK;
	ss_buf_init(&b, FILE_MAX);
	if ((err = read_file(dir, FILE_PEOPLE, &b)) || (err = ss_json_parse(b.ptr, b.len, &doc)) ||
	    (err = ss_json_get_arr(doc, "register", true, 100, &reg)) ||
	    (err = ss_json_get_arr(doc, "relatives", true, 100, &rel)) ||
	    (err = ss_json_get_obj(doc, "appeals", true, &appeals)) ||
	    (err = ss_json_get_int(doc, "upheld", true, 0, INT64_MAX, &upheld, NULL)))
		goto out;
	if (ss_json_arr_len(reg)) {
		printf("\nRegister on http://%s/ as someone of the registry with no account yet (%s/%s; any phone "
		       "number, a password of 8 or more characters):\n",
		       listen, dir, FILE_PEOPLE);
		for (size_t i = 0; i < ss_json_arr_len(reg); i++) {
			const struct ss_json *u = ss_json_arr_at(reg, i);
			const char *id, *name;
			if (!ss_json_get_str(u, "id_number", true, 32, &id) &&
			    !ss_json_get_str(u, "name", true, SS_NAME_MAX, &name))
				printf("  ID number  %s  name %s\n", id, name);
		}
	}
	if (ss_json_arr_len(rel)) {
		printf("\nAdd a relative, logged in as the 1st resident (%s), on the page's relatives tab "
		       "(POST /v1/me/dependents):\n",
		       first);
		for (size_t i = 0; i < ss_json_arr_len(rel); i++) {
			const struct ss_json *u = ss_json_arr_at(rel, i);
			const char *id, *name, *born, *relation, *note;
			if (!ss_json_get_str(u, "id_number", true, 32, &id) &&
			    !ss_json_get_str(u, "name", true, SS_NAME_MAX, &name) &&
			    !ss_json_get_str(u, "birth_date", true, 16, &born) &&
			    !ss_json_get_str(u, "relation", true, 16, &relation) &&
			    !ss_json_get_str(u, "note", true, 400, &note))
				printf("  %-7s %s %s, born %s: %s\n", relation, id, name, born, note);
		}
		printf("  %-7s any other resident of %s/%s: they accept on their own page\n", "parent", dir,
		       FILE_RESIDENTS);
	}
	printf("\nAppeals in the handlers' queue (the console, with the handler's token):");
	for (int i = 0; i < NSTATES; i++) {
		int64_t n = 0;
		if (!ss_json_get_int(appeals, state_names[i], false, 0, INT64_MAX, &n, NULL))
			printf("%s %lld %s", i ? "," : "", (long long)n, state_names[i]);
	}
	printf("\n");
	if (upheld)
		printf("  the %lldth resident of %s/%s is green again by an upheld appeal: their status says what it "
		       "overrides\n",
		       (long long)upheld, dir, FILE_RESIDENTS);
out:
	ss_json_free(doc);
	if (b.ptr)
		ss_wipe(b.ptr, b.len);
	ss_buf_release(&b);
	return err;
}

static int print_instructions(const char *dir, const char *listen)
{
	struct instructions in = {0};
	struct ss_json *terms = NULL, *staff = NULL;
	struct ss_buf res;
	uint32_t otp = 0;
	int left = 0;

	ss_buf_init(&res, FILE_MAX);
	enum ss_err err = read_residents(dir, &res, &in);
	if (!err)
		err = read_json_files(dir, &terms, &staff, &in);
	if (!err && !current_otp(in.resident[3], &otp, &left))
		err = ss_fail(SS_INVALID, NULL, "'%s/%s' holds a TOTP URI without a secret", dir, FILE_RESIDENTS);
	if (err)
		goto out;

	const char *id = in.resident[0], *name = in.resident[1], *pw = in.resident[2], *uri = in.resident[3];
	printf("\nLog in as a resident on http://%s/ (%d of them in %s/%s%s; all have the password %s):\n", listen,
	       in.nresidents, dir, FILE_RESIDENTS, in.nresidents >= 3 ? ", the 2nd is yellow and the 3rd red" : "", pw);
	printf("  ID number  %s (%s)\n", id, name);
	printf("  password   %s\n", pw);
	printf("  TOTP URI   %s\n", uri);
	printf("  code now   %06u (for %d more s; then add the URI to an authenticator app)\n", otp, left);
	printf("  TOKEN=$(curl -s -H 'X-Channel: app' -H 'Content-Type: application/json' \\\n"
	       "      -d '{\"id_number\":\"%s\",\"password\":\"%s\",\"otp\":\"%06u\"}' http://%s/v1/sessions |\n"
	       "      sed -n 's/.*\"token\":\"\\([0-9a-f]*\\)\".*/\\1/p')\n",
	       id, pw, otp, listen);
	printf("  CODE=$(curl -s -H \"Authorization: Bearer $TOKEN\" http://%s/v1/me/code |\n"
	       "      sed -n 's/.*\"code\":\"\\([^\"]*\\)\".*/\\1/p')\n",
	       listen);
	printf("  curl -s -H \"Authorization: Bearer $TOKEN\" http://%s/v1/me/scans\n", listen);

	printf("\nScan as a terminal, on http://%s/terminal set up with this id and secret (one at every place: "
	       "%s/%s):\n",
	       listen, dir, FILE_TERMINALS);
	printf("  terminal   %lld at %s (%s, %s)\n", (long long)in.terminal_id, in.place, in.scene, in.org);
	printf("  secret     %s\n", in.secret);
	printf("  printf '{\"code\":\"%%s\"}' \"$CODE\" > /tmp/scan.json\n");
	printf("  scripts/sign.py --terminal-id %lld %s POST /v1/scans /tmp/scan.json |\n"
	       "      curl -s -H @- -H 'Content-Type: application/json' --data-binary @/tmp/scan.json "
	       "http://%s/v1/scans\n",
	       (long long)in.terminal_id, in.secret, listen);

	printf("\nStaff, one per role (%s/%s); each token logs in to the console at http://%s/console:\n", dir,
	       FILE_STAFF, listen);
	for (size_t i = 0; i < ss_json_arr_len(in.staff); i++) {
		const struct ss_json *s = ss_json_arr_at(in.staff, i);
		const char *role, *token;
		int64_t staff_id;
		if (ss_json_is_obj(s) && !ss_json_get_str(s, "role", true, 32, &role) &&
		    !ss_json_get_str(s, "token", true, 64, &token) &&
		    !ss_json_get_int(s, "staff_id", true, 1, INT64_MAX, &staff_id, NULL))
			printf("  %-15s staff %lld, token %s\n", role, (long long)staff_id, token);
	}
	printf("  curl -s -H 'Authorization: Bearer %s' http://%s/v1/staff/me\n", in.admin_token, listen);
	err = print_people(dir, listen, name);
out:
	ss_json_free(terms);
	ss_json_free(staff);
	if (res.ptr)
		ss_wipe(res.ptr, res.len);
	ss_buf_release(&res);
	return err ? ss_cli_fail("demo", err) : 0;
}

/* ---- the command ------------------------------------------------------------------------------------------- */

enum state { EMPTY, BUILDING, READY, OTHER_DATA };

static enum ss_err demo_state(struct ss_app *app, enum state *out)
{
	struct ss_arena a;
	struct ss_blob v;
	int64_t people = 0;
	ss_arena_init(&a);
	enum ss_err err = app->store->ops->meta_get(app->store, "demo", &a, &v);
	if (!err)
		*out = v.n == 5 && !memcmp(v.p, "ready", 5) ? READY : BUILDING;
	else if (err == SS_NOT_FOUND && !(err = app->store->ops->person_count(app->store, &people)))
		*out = people ? OTHER_DATA : EMPTY;
	ss_arena_release(&a);
	return err;
}

static enum ss_err set_state(struct ss_app *app, const char *state)
{
	return app->store->ops->meta_set(app->store, "demo", (struct ss_blob){(const uint8_t *)state, strlen(state)});
}

static enum ss_err build(struct demo *d)
{
	enum ss_err err;
	int64_t t0 = ss_time_mono_us(), t1, t2, t3;
	if ((err = set_state(d->app, "building")) || (err = make_staff(d)) || (err = make_terminals(d)) ||
	    (err = make_registry(d)))
		return err;
	t1 = ss_time_mono_us();
	if ((err = register_residents(d)) || (err = name_guardian(d)))
		return err;
	t2 = ss_time_mono_us();
	if ((err = set_statuses(d)) || (err = make_appeals(d)))
		return err;
	t3 = ss_time_mono_us();
	if ((err = make_scans(d)) || (err = write_files(d)) || (err = set_state(d->app, "ready")))
		return err;
	d->phase_us[0] = t1 - t0;
	d->phase_us[1] = t2 - t1;
	d->phase_us[2] = t3 - t2;
	d->phase_us[3] = ss_time_mono_us() - t3;
	return SS_OK;
}

int ss_cmd_demo(int argc, char **argv)
{
	static const char *const names[] = {"data", "residents", "registered", "seed", "listen", NULL};
	const char *values[5] = {NULL, "100000", "3000", "2026", "127.0.0.1:8080"}, *rest[1];
	long long residents, registered, seed;
	int nrest;

	if (!ss_cli_options("demo", argc, argv, names, values, rest, &nrest, 0) || !values[0] ||
	    !ss_str_to_ll(values[1], 1, RESIDENTS_MAX, &residents) ||
	    !ss_str_to_ll(values[2], 1, REGISTERED_MAX, &registered) || !ss_str_to_ll(values[3], 0, LLONG_MAX, &seed))
		return ss_cli_usage("demo", usage);
	if (registered > residents) {
		fprintf(stderr, "suishen demo: --registered must not be more than --residents\n");
		return ss_cli_usage("demo", usage);
	}
	int64_t started = ss_time_mono_us();
	struct ss_app *app = ss_cli_open("demo", values[0], true);
	if (!app)
		return 1;
	enum state state;
	enum ss_err err = demo_state(app, &state);
	if (!err && state == BUILDING)
		err = ss_fail(SS_CONFLICT, "data",
		              "the demo in '%s' was not finished: remove the directory and run suishen demo again",
		              values[0]);
	if (!err && state == OTHER_DATA)
		err = ss_fail(SS_CONFLICT, "data",
		              "'%s' already holds a population registry that is not a demo: give suishen demo a new "
		              "or empty data directory",
		              values[0]);
	if (err || state == READY) {
		ss_app_close(app);
		if (err)
			return ss_cli_fail("demo", err);
		printf("'%s' already holds a demo city: nothing changed\n", values[0]);
		return print_instructions(values[0], values[4]);
	}

	struct demo *d = ss_calloc(1, sizeof(*d));
	d->app = app;
	d->dir = values[0];
	d->nresidents = residents;
	d->nregistered = registered;
	d->seed = (uint64_t)seed;
	d->res = ss_calloc((size_t)registered, sizeof(*d->res));
	err = build(d);
	ss_app_close(app);
	if (!err) {
		printf("A demo city is ready in '%s' (made in %.1f s: registry %.1f s, residents %.1f s, colours %.1f "
		       "s, "
		       "scans and files %.1f s)\n",
		       d->dir, (double)(ss_time_mono_us() - started) / 1e6, (double)d->phase_us[0] / 1e6,
		       (double)d->phase_us[1] / 1e6, (double)d->phase_us[2] / 1e6, (double)d->phase_us[3] / 1e6);
		printf("  %lld people in the population registry; %lld registered residents, %lld yellow and %lld "
		       "red\n",
		       d->nresidents, d->nregistered, d->yellow, d->red);
		printf("  %zu places in %d districts with a terminal each; %lld scans over the past 7 days; %zu "
		       "staff\n",
		       NPLACES, d->districts, d->scans, NSTAFF);
	}
	ss_wipe(d->res, (size_t)registered * sizeof(*d->res));
	free(d->res);
	ss_wipe(d, sizeof(*d));
	free(d);
	if (err)
		return ss_cli_fail("demo", err);
	return print_instructions(values[0], values[4]);
}
