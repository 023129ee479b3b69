#!/usr/bin/env python3
"""gen-population.py: synthetic population registry CSV for tests and benchmarks.

    gen-population.py N [--seed S] [--bad-lines 3,17] > population.csv

Writes the header `id_number,name,sex,birth_date,division,phone` and N rows of
made-up residents that pass `suishen import population`: GB 11643 ID numbers
with correct check characters, all different (mostly Shanghai districts, some retired Shanghai
codes for people born before the code went, some other provinces), Chinese
names (a common surname and one or two common given-name characters), sex
matching the ID's 17th digit (odd: M), birth date matching the ID, and a
mobile number 1[3-9]xxxxxxxxx (a few rows have none). The division column is
where the person lives now: the ID's district, or its successor for a retired
code.

--bad-lines names file line numbers (the header is line 1, so rows are lines
2 to N+1) to make invalid, each in one of these ways, in turn: a wrong check
character, a birth date that does not exist (in the ID and the birth_date
column alike, with a check character that fits), an empty name, a sex that is
neither M nor F, a phone number that is too short.

The output depends only on N, the seed and the bad lines. Python 3 standard
library only.
"""

import argparse
import bisect
import datetime
import random
import sys

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"

SHANGHAI = [
    "310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112",
    "310113", "310114", "310115", "310116", "310117", "310118", "310120", "310151",
]
# retired Shanghai code -> (first year it was no longer given, the district that took it over)
SHANGHAI_RETIRED = {
    "310102": (2000, "310101"), "310103": (2011, "310101"), "310108": (2015, "310106"),
    "310111": (1988, "310113"), "310119": (2009, "310115"), "310221": (1992, "310112"),
    "310222": (1992, "310114"), "310223": (1988, "310113"), "310224": (1992, "310115"),
    "310225": (2001, "310115"), "310226": (2001, "310120"), "310227": (1998, "310117"),
    "310228": (1997, "310116"), "310229": (1999, "310118"), "310230": (2016, "310151"),
}
# real county-level codes of other provinces
OTHER = [
    "110105", "110108", "120101", "130102", "140105", "210102", "220102", "230103", "320102",
    "320505", "330106", "340104", "350203", "360102", "370102", "410105", "420106", "430104",
    "440106", "440305", "450103", "460105", "500103", "510107", "520102", "530102", "610113",
    "620102", "630104", "640104", "650102",
]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫"]
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国文辉鑫宇浩然子轩欣怡梓涵思雨佳琪雪梅晓东海燕"
    "红玉志俊嘉诗婷晨阳博睿一诺依可馨瑶宏亮春林斌波倩颖琳慧婉清萍凤霖泽昊天佑安宁永康德成"
)

FIRST_BIRTH = datetime.date(1930, 1, 1)
LAST_BIRTH = datetime.date(2024, 12, 31)  # in the past for any "now" these files are used with

BAD_KINDS = ("check", "date", "name", "sex", "phone")


def partial_sum(digits, offset):
    return sum(WEIGHTS[offset + i] * (ord(c) - 48) for i, c in enumerate(digits))


def build_tables():
    dates = []  # (YYYYMMDD, YYYY-MM-DD, partial check sum)
    d, one = FIRST_BIRTH, datetime.timedelta(days=1)
    while d <= LAST_BIRTH:
        compact = d.strftime("%Y%m%d")
        dates.append((compact, d.isoformat(), partial_sum(compact, 6)))
        d += one
    years = [int(x[0][:4]) for x in dates]
    divisions = []  # (ID division, division column, partial sum, how many dates it may take, index)
    for code in SHANGHAI:
        divisions.append((code, code, partial_sum(code, 0), len(dates), len(divisions)))
    for code, (until, successor) in SHANGHAI_RETIRED.items():
        divisions.append((code, successor, partial_sum(code, 0), bisect.bisect_left(years, until), len(divisions)))
    for code in OTHER:
        divisions.append((code, code, partial_sum(code, 0), len(dates), len(divisions)))
    seqs = [("%03d" % s, partial_sum("%03d" % s, 14), "M" if s % 2 else "F") for s in range(1000)]
    return dates, divisions, seqs


def main():
    ap = argparse.ArgumentParser(description="Write a synthetic population registry CSV to standard output.")
    ap.add_argument("n", type=int, help="number of rows")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--bad-lines", default="", help="comma-separated file line numbers (2..N+1) to make invalid")
    args = ap.parse_args()
    if args.n < 0:
        ap.error("N must not be negative")
    bad = {}
    try:
        wanted = sorted({int(x) for x in args.bad_lines.split(",") if x.strip()})
    except ValueError:
        ap.error("--bad-lines takes line numbers, like 3,17")
    for i, line in enumerate(wanted):
        if not 2 <= line <= args.n + 1:
            ap.error("bad line %d is not a row: rows are lines 2 to %d" % (line, args.n + 1))
        bad[line] = BAD_KINDS[i % len(BAD_KINDS)]

    dates, divisions, seqs = build_tables()
    shanghai_current = len(SHANGHAI)
    shanghai_all = shanghai_current + len(SHANGHAI_RETIRED)
    others = len(divisions) - shanghai_all
    ndates = len(dates)
    surnames, nsur = SURNAMES, len(SURNAMES)
    given, ngiven = GIVEN, len(GIVEN)

    used = set()
    rng = random.Random(args.seed)
    rnd = rng.random
    out = sys.stdout.buffer
    out.write(b"id_number,name,sex,birth_date,division,phone\n")
    chunk = []
    for line in range(2, args.n + 2):
        u = rnd()
        if u < 0.80:
            div = divisions[int(u / 0.80 * shanghai_current)]
        elif u < 0.85:
            div = divisions[shanghai_current + int((u - 0.80) / 0.05 * len(SHANGHAI_RETIRED))]
        else:
            div = divisions[shanghai_all + int((u - 0.85) / 0.15 * others)]
        if div[3] <= 0:
            div = divisions[0]
        # ID numbers are unique: on a collision, the next sequence number of the same parity (same sex),
        # and another date if all 500 of those are taken
        tries = 500
        while tries == 500:
            date_index = int(rnd() * div[3])
            seq_index = int(rnd() * 1000)
            key = (div[4] * ndates + date_index) * 1000
            tries = 0
            while key + seq_index in used and tries < 500:
                seq_index = (seq_index + 2) % 1000
                tries += 1
        used.add(key + seq_index)
        date = dates[date_index]
        seq = seqs[seq_index]
        u = rnd()
        if u < 0.01:
            name = COMPOUND_SURNAMES[int(u * 100 * len(COMPOUND_SURNAMES))]
        else:
            name = surnames[int(u * nsur)]
        u = rnd()
        name += given[int(u * ngiven)]
        if u * 1000 % 1 < 0.7:  # two given characters for about 70%
            name += given[int((u * 1000 % 1) / 0.7 * ngiven)]
        u = rnd()
        phone = "" if u < 0.03 else "1%d%09d" % (3 + int(u * 7), int(u * 1e15) % 1000000000)
        body = div[0] + date[0] + seq[0]
        check = CHECK[(div[2] + date[2] + seq[1]) % 11]
        birth, sex = date[1], seq[2]
        kind = bad.get(line)
        if kind == "check":
            check = CHECK[(CHECK.index(check) + 1 + int(rnd() * 10)) % 11]
        elif kind == "date":
            # the 30th of February, in the birth year: never a real date
            compact = date[0][:4] + "0230"
            body = div[0] + compact + seq[0]
            check = CHECK[(div[2] + partial_sum(compact, 6) + seq[1]) % 11]
            birth = date[0][:4] + "-02-30"
        elif kind == "name":
            name = ""
        elif kind == "sex":
            sex = "X"
        elif kind == "phone":
            phone = "13800"
        chunk.append("%s%s,%s,%s,%s,%s,%s\n" % (body, check, name, sex, birth, div[1], phone))
        if len(chunk) >= 8192:
            out.write("".join(chunk).encode())
            chunk.clear()
    out.write("".join(chunk).encode())
    out.flush()


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        sys.exit(1)
