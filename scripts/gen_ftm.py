#!/usr/bin/env python3
"""Writes a synthetic FollowTheMoney JSON-lines file for load tests of `probity import ftm`.

Usage: scripts/gen_ftm.py LINES OUT.ftm.jsonl [--seed N]

Entities first (persons, companies, public bodies, positions), then links that refer to
them (ownerships with free-text percentages, directorships, employment, payments,
occupancies, events, family, associates, unknown links) and a few unknown schemata, so
every mapping and the generic `ftm_fact` path are exercised. Deterministic for a seed.
"""

import json
import random
import sys

PCTS = ["25", "25%", "12.5 %", "25-50%", "more than 25%", "50 to 75 percent", "75% or more"]
SOURCES = [f"https://register.example/filing/{i}" for i in range(200)]


def date(rng):
    y = rng.randint(1995, 2025)
    kind = rng.random()
    if kind < 0.2:
        return f"{y}"
    if kind < 0.4:
        return f"{y}-{rng.randint(1, 12):02d}"
    if kind < 0.9:
        return f"{y}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return f"{y}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00Z"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    total, out = int(sys.argv[1]), sys.argv[2]
    seed = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--seed" else 7
    rng = random.Random(seed)
    n_person, n_org, n_body, n_pos = total // 5, total // 10, max(total // 1000, 1), max(total // 1000, 1)
    written = 0
    with open(out, "w", encoding="utf-8") as f:
        def emit(i, schema, props):
            nonlocal written
            props.setdefault("sourceUrl", [rng.choice(SOURCES)])
            f.write(json.dumps({"id": i, "schema": schema, "properties": props}, separators=(",", ":")))
            f.write("\n")
            written += 1

        for i in range(n_person):
            emit(f"p{i}", "Person", {"name": [f"Person {i}"], "birthDate": [date(rng)], "nationality": ["gb"]})
        for i in range(n_org):
            emit(f"c{i}", "Company", {"name": [f"Company {i} Ltd"], "jurisdiction": ["gb"]})
        for i in range(n_body):
            emit(f"b{i}", "PublicBody", {"name": [f"Public Body {i}"]})
        for i in range(n_pos):
            emit(f"pos{i}", "Position", {"name": [f"Minister {i}"], "organization": [f"b{i % n_body}"]})
        person = lambda: f"p{rng.randrange(n_person)}"
        org = lambda: f"c{rng.randrange(n_org)}"
        k = 0
        while written < total:
            k += 1
            r = rng.random()
            if r < 0.30:
                emit(f"own{k}", "Ownership", {"owner": [person()], "asset": [org()],
                                              "percentage": [rng.choice(PCTS)], "startDate": [date(rng)]})
            elif r < 0.55:
                emit(f"dir{k}", "Directorship", {"director": [person()], "organization": [org()],
                                                 "role": ["director"], "startDate": [date(rng)], "endDate": [date(rng)]})
            elif r < 0.65:
                emit(f"emp{k}", "Employment", {"employee": [person()], "employer": [org()], "startDate": [date(rng)]})
            elif r < 0.75:
                emit(f"pay{k}", "Payment", {"payer": [org()], "beneficiary": [org()],
                                            "amount": [str(rng.randint(100, 10**7))], "currency": ["GBP"], "date": [date(rng)]})
            elif r < 0.80:
                emit(f"occ{k}", "Occupancy", {"holder": [person()], "post": [f"pos{rng.randrange(n_pos)}"],
                                              "startDate": [date(rng)]})
            elif r < 0.87:
                emit(f"ev{k}", "Event", {"name": ["Meeting"], "date": [date(rng)],
                                         "involved": [person(), person(), org()]})
            elif r < 0.91:
                emit(f"fam{k}", "Family", {"person": [person()], "relative": [person()], "relationship": ["sibling"]})
            elif r < 0.95:
                emit(f"ass{k}", "Associate", {"person": [person()], "associate": [person()]})
            elif r < 0.97:
                emit(f"rep{k}", "Representation", {"agent": [org()], "client": [org()], "startDate": [date(rng)]})
            elif r < 0.99:
                emit(f"lnk{k}", "UnknownLink", {"subject": [person()], "object": [org()], "role": ["adviser"]})
            else:
                emit(f"ves{k}", "Vessel", {"name": [f"MV {k}"], "flag": ["pa"]})


if __name__ == "__main__":
    main()
