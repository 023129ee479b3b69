#!/usr/bin/python3
"""Writes N records (JSON Lines) about the people of a population CSV, for bench/records: a deterministic mix of
close contacts, quarantine ends, negative and positive tests, vaccinations, inbound travel, fever declarations and
risk-area visits over the last 30 days."""
import json
import random
import sys
import time

people_csv, n = sys.argv[1], int(sys.argv[2])
ids = [line.split(",", 1)[0] for line in open(people_csv, encoding="utf-8").read().splitlines()[1:]]
rng = random.Random(5)
now = int(time.time()) - 60
kinds = [("close_contact", lambda: {}), ("quarantine_end", lambda: {}),
         ("test_result", lambda: {"result": "negative" if rng.random() < 0.97 else "positive"}),
         ("vaccination", lambda: {"dose": rng.randint(1, 3)}), ("inbound_travel", lambda: {"origin": "新加坡"}),
         ("health_declaration", lambda: {"temperature": round(rng.uniform(36.0, 38.5), 1), "symptoms": []}),
         ("risk_area_visit", lambda: {"area": "310115", "level": rng.choice(["high", "medium", "low"])})]
weights = [5, 3, 60, 15, 2, 10, 5]
out = sys.stdout
for i in range(n):
    kind, attrs = rng.choices(kinds, weights)[0]
    at = now - rng.randint(0, 30 * 86400)
    rec = {"record_id": f"b{i}", "kind": kind, "id_number": ids[rng.randrange(len(ids))],
           "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)), "attributes": attrs()}
    out.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
