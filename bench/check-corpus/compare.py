#!/usr/bin/env python3
"""Pairs plinth's findings (SARIF) with checkov's (JSON) on one repository.

Usage: compare.py NAME PLINTH.sarif CHECKOV.json [--details]

A checkov check is "covered" when a plinth rule lists its id (the `checkov` property of the
rules in plinth's SARIF, the same list `plinth check --explain ID` prints). Two findings
match when they are in the same file, the plinth rule lists the checkov id, and plinth's
line lies in checkov's reported line range (checkov reports a whole resource) or within 3
lines of its start. Prints one JSON object (figures) on stdout; --details lists the
unmatched findings on stderr for review.
"""
import json
import sys
from collections import Counter, defaultdict

READS = (".tf", ".tfvars", ".hcl")


def plinth_findings(path):
    doc = json.load(open(path))
    run = doc["runs"][0]
    rules = {r["id"]: r.get("properties", {}).get("checkov", []) for r in run["tool"]["driver"]["rules"]}
    out = []
    for r in run["results"]:
        loc = r.get("locations", [{}])[0].get("physicalLocation", {})
        out.append({
            "rule": r["ruleId"],
            "level": r["level"],
            "file": loc.get("artifactLocation", {}).get("uri", ""),
            "line": loc.get("region", {}).get("startLine", 0),
            "message": r["message"]["text"],
        })
    return rules, out


def checkov_findings(path):
    doc = json.load(open(path))
    reports = doc if isinstance(doc, list) else [doc]
    out = []
    for rep in reports:
        for f in rep.get("results", {}).get("failed_checks", []):
            start, end = (f.get("file_line_range") or [0, 0])[:2]
            out.append({
                "id": f["check_id"],
                "file": f.get("file_path", "").lstrip("/"),
                "start": start,
                "end": end,
                "name": f.get("check_name", ""),
                "resource": f.get("resource", ""),
            })
    return out


def family(rule_id):
    return rule_id[:3]


def main():
    name, sarif, ckv = sys.argv[1:4]
    details = "--details" in sys.argv
    rules, plinth = plinth_findings(sarif)
    checkov = checkov_findings(ckv)
    covered_ids = defaultdict(set)  # checkov id -> plinth rules
    for rule, ids in rules.items():
        for i in ids:
            covered_ids[i].add(rule)
    # plinth reads .tf/.tfvars/.hcl files; checkov's secrets framework reads every file.
    outside = [c for c in checkov if not c["file"].endswith(READS)]
    checkov = [c for c in checkov if c["file"].endswith(READS)]
    ck_cov = [c for c in checkov if c["id"] in covered_ids]
    pl_cov = [p for p in plinth if rules.get(p["rule"])]
    pairs = []
    matched_ck, matched_pl = set(), set()
    for ci, c in enumerate(ck_cov):
        for pi, p in enumerate(pl_cov):
            if p["file"] != c["file"] or p["rule"] not in covered_ids[c["id"]]:
                continue
            if c["start"] <= p["line"] <= c["end"] or abs(p["line"] - c["start"]) <= 3:
                pairs.append((c, p))
                matched_ck.add(ci)
                matched_pl.add(pi)
    result = {
        "repository": name,
        "plinth_findings": len(plinth),
        "plinth_by_family": dict(sorted(Counter(family(p["rule"]) for p in plinth).items())),
        "plinth_by_level": dict(sorted(Counter(p["level"] for p in plinth).items())),
        "plinth_secret_errors": sum(1 for p in plinth if p["rule"].startswith("SCR") and p["level"] == "error"),
        "checkov_failed": len(checkov),
        "checkov_outside_tf": len(outside),
        "checkov_by_prefix": dict(sorted(Counter(c["id"].rsplit("_", 1)[0] for c in checkov).items())),
        "checkov_covered": len(ck_cov),
        "plinth_covered": len(pl_cov),
        "pairs": len(pairs),
        "checkov_covered_matched": len(matched_ck),
        "plinth_covered_matched": len(matched_pl),
        "recall_vs_checkov": round(len(matched_ck) / len(ck_cov), 3) if ck_cov else None,
        "agreement_of_plinth": round(len(matched_pl) / len(pl_cov), 3) if pl_cov else None,
        "covered_checkov_ids": dict(sorted(Counter(c["id"] for c in ck_cov).items())),
    }
    print(json.dumps(result))
    if details:
        for ci, c in enumerate(ck_cov):
            if ci not in matched_ck:
                print(f"checkov only: {c['id']} {c['file']}:{c['start']}-{c['end']} {c['resource']} {c['name']}", file=sys.stderr)
        for pi, p in enumerate(pl_cov):
            if pi not in matched_pl:
                print(f"plinth only:  {p['rule']} {p['level']} {p['file']}:{p['line']} {p['message']}", file=sys.stderr)
        for c, p in pairs:
            print(f"pair: {c['id']} ~ {p['rule']} {c['file']}:{c['start']} / {p['line']}", file=sys.stderr)


if __name__ == "__main__":
    main()
