#!/usr/bin/env python3
"""Writes the IfG Ministers Database extract as Probity case CSVs (person, org, office).

Usage: python3 scripts/ifg_to_case.py ../shared/data/ifg-ministers cases/uk-ministers

Contains data from the Institute for Government Ministers Database (CC BY 4.0).
Each output row cites the source id `ifg-ministers` and is marked `confirmed`.
The output is deterministic: rows are sorted by id, then by start date.
"""
import csv
import sys
from pathlib import Path

SOURCE = "ifg-ministers"


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def people(src):
    by_id = {}
    for r in read(src / "person.csv"):
        by_id.setdefault(r["id"], []).append(r)
    rows = []
    for pid in sorted(by_id):
        # The current name is the row with no end date (else the latest ending one).
        names = sorted(by_id[pid], key=lambda r: (r["end_date"] == "", r["end_date"]))
        name = names[-1]["display_name"]
        aliases = sorted({r["display_name"] for r in names} - {name})
        rows.append([pid, name, ";".join(aliases), SOURCE, "confirmed"])
    return rows


def orgs(src):
    rows = []
    for r in sorted(read(src / "organisation.csv"), key=lambda r: r["id"]):
        rows.append([r["id"], r["name"], "government department", SOURCE, "confirmed"])
    return rows


def offices(src):
    posts = {r["id"]: r for r in read(src / "post.csv")}
    rows = []
    for a in read(src / "appointment.csv"):
        post = posts[a["post_id"]]
        rows.append([a["person_id"], post["display_name"], post["organisation_id"],
                     a["start_date"], a["end_date"], SOURCE, "confirmed"])
    rows.sort(key=lambda r: (r[0], r[3], r[1], r[2]))
    return rows


def main():
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    write(out / "person.csv", ["id", "name", "aliases", "source", "status"], people(src))
    write(out / "org.csv", ["id", "name", "kind", "source", "status"], orgs(src))
    write(out / "office.csv", ["person", "title", "body", "from", "until", "source", "status"],
          offices(src))


if __name__ == "__main__":
    main()
