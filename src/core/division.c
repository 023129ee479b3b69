/*
 * division: GB/T 2260 administrative division codes as found in ID numbers
 * (see division.h).
 *
 * A code is six digits: province (2), prefecture (2), county (2). The tables
 * below are the province-level divisions and, for Shanghai, every district and
 * county code the city has had since GB 2260-80, current and retired, since
 * retired codes live on in the ID numbers of people registered under them.
 *
 * Outside Shanghai a code is accepted by rule, not by table:
 *   - the province is in the province table;
 *   - "PP0000" (the province itself) is accepted: such codes occur in numbers;
 *   - otherwise the prefecture part is 01-70 (01-20 cities, 21-50 prefectures,
 *     51-70 autonomous prefectures and leagues) or 90 (county-level units
 *     administered by the province directly), and the county part is 00-99;
 *   - 71 (Taiwan), 81 (Hong Kong), 82 (Macao) and 83 (Taiwan residents'
 *     residence permits) only ever appear as "PP0000".
 */
#include "core/division.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>

struct province {
	char code[3];
	const char *name;
	bool whole_only; /* only "PP0000" occurs in ID numbers */
};

static const struct province provinces[] = {
        {"11", "北京市", false},
        {"12", "天津市", false},
        {"13", "河北省", false},
        {"14", "山西省", false},
        {"15", "内蒙古自治区", false},
        {"21", "辽宁省", false},
        {"22", "吉林省", false},
        {"23", "黑龙江省", false},
        {"31", "上海市", false},
        {"32", "江苏省", false},
        {"33", "浙江省", false},
        {"34", "安徽省", false},
        {"35", "福建省", false},
        {"36", "江西省", false},
        {"37", "山东省", false},
        {"41", "河南省", false},
        {"42", "湖北省", false},
        {"43", "湖南省", false},
        {"44", "广东省", false},
        {"45", "广西壮族自治区", false},
        {"46", "海南省", false},
        {"50", "重庆市", false},
        {"51", "四川省", false},
        {"52", "贵州省", false},
        {"53", "云南省", false},
        {"54", "西藏自治区", false},
        {"61", "陕西省", false},
        {"62", "甘肃省", false},
        {"63", "青海省", false},
        {"64", "宁夏回族自治区", false},
        {"65", "新疆维吾尔自治区", false},
        {"71", "台湾省", true},
        {"81", "香港特别行政区", true},
        {"82", "澳门特别行政区", true},
        /* not in GB/T 2260: the code of residence permits of Taiwan residents (810000 and 820000 serve Hong Kong and
           Macao) */
        {"83", "台湾居民居住证", true},
};

struct district {
	char code[7];
	const char *name_zh, *name_en;
};

/* Shanghai's current districts, in code order (GB/T 2260 since 2016). */
static const struct district shanghai[] = {
        {"310101", "黄浦区", "Huangpu"},   {"310104", "徐汇区", "Xuhui"},    {"310105", "长宁区", "Changning"},
        {"310106", "静安区", "Jing'an"},   {"310107", "普陀区", "Putuo"},    {"310109", "虹口区", "Hongkou"},
        {"310110", "杨浦区", "Yangpu"},    {"310112", "闵行区", "Minhang"},  {"310113", "宝山区", "Baoshan"},
        {"310114", "嘉定区", "Jiading"},   {"310115", "浦东新区", "Pudong"}, {"310116", "金山区", "Jinshan"},
        {"310117", "松江区", "Songjiang"}, {"310118", "青浦区", "Qingpu"},   {"310120", "奉贤区", "Fengxian"},
        {"310151", "崇明区", "Chongming"},
};

/* Shanghai codes no longer in use, with the year each went out of use. */
static const struct district shanghai_retired[] = {
        {"310100", "市辖区", NULL}, /* the districts as a whole; still the prefecture-level code */
        {"310102", "南市区", NULL}, /* 2000, into Huangpu */
        {"310103", "卢湾区", NULL}, /* 2011, into Huangpu */
        {"310108", "闸北区", NULL}, /* 2015, into Jing'an */
        {"310111", "吴淞区", NULL}, /* 1988, with Baoshan county into Baoshan district */
        {"310119", "南汇区", NULL}, /* 2009, into Pudong */
        {"310200", "县", NULL},     /* the counties as a whole, until 2016 */
        {"310221", "上海县", NULL}, /* 1992, with the old Minhang district into Minhang */
        {"310222", "嘉定县", NULL}, /* 1992, became Jiading district */
        {"310223", "宝山县", NULL}, /* 1988, became part of Baoshan district */
        {"310224", "川沙县", NULL}, /* 1992, into Pudong */
        {"310225", "南汇县", NULL}, /* 2001, became Nanhui district */
        {"310226", "奉贤县", NULL}, /* 2001, became Fengxian district */
        {"310227", "松江县", NULL}, /* 1998, became Songjiang district */
        {"310228", "金山县", NULL}, /* 1997, became Jinshan district */
        {"310229", "青浦县", NULL}, /* 1999, became Qingpu district */
        {"310230", "崇明县", NULL}, /* 2016, became Chongming district */
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool is_digits6(const char code[6])
{
	for (int i = 0; i < 6; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return true;
}

static const struct province *find_province(const char code[6])
{
	for (size_t i = 0; i < COUNT(provinces); i++)
		if (provinces[i].code[0] == code[0] && provinces[i].code[1] == code[1])
			return &provinces[i];
	return NULL;
}

static const struct district *find_shanghai(const char code[6])
{
	for (size_t i = 0; i < COUNT(shanghai); i++)
		if (memcmp(shanghai[i].code, code, 6) == 0)
			return &shanghai[i];
	for (size_t i = 0; i < COUNT(shanghai_retired); i++)
		if (memcmp(shanghai_retired[i].code, code, 6) == 0)
			return &shanghai_retired[i];
	return NULL;
}

static bool is_shanghai(const char code[6])
{
	return code[0] == '3' && code[1] == '1';
}

bool ss_division_is_valid(const char code[6])
{
	if (!is_digits6(code))
		return false;
	const struct province *p = find_province(code);
	if (!p)
		return false;
	if (memcmp(code + 2, "0000", 4) == 0)
		return true;
	if (p->whole_only)
		return false;
	if (is_shanghai(code))
		return find_shanghai(code) != NULL;
	int prefecture = (code[2] - '0') * 10 + (code[3] - '0');
	return (prefecture >= 1 && prefecture <= 70) || prefecture == 90;
}

const char *ss_division_name(const char code[6])
{
	if (!ss_division_is_valid(code))
		return NULL;
	if (is_shanghai(code) && memcmp(code + 2, "0000", 4) != 0)
		return find_shanghai(code)->name_zh;
	return find_province(code)->name;
}

int ss_division_shanghai_count(void)
{
	return (int)COUNT(shanghai);
}

void ss_division_shanghai_at(int i, const char **code, const char **name_zh, const char **name_en)
{
	assert(i >= 0 && i < (int)COUNT(shanghai));
	*code = shanghai[i].code;
	*name_zh = shanghai[i].name_zh;
	*name_en = shanghai[i].name_en;
}
