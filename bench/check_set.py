#!/usr/bin/env python3
"""Checks a labelled question set against its corpus before anything is measured on it.

usage: check_set.py SET CORPUS...

CORPUS is a PDF (or .pdf.gz, named without .gz, as bench_eval.sh uploads it) or a
directory of HTML pages (searched recursively; a page is known by its base name, as
upload stores it). Every answerable question must name documents of the corpus, pages
within their page counts (1-based, as poppler counts them) and section ids that an
expected page has (<section id="...">, or any id="..." for pages without sections); an
unanswerable one (answerable: false) takes no labels. Duplicate questions are errors.
Prints "N answerable, M unanswerable" and exits 0, or lists the problems and exits 1.
"""
import gzip
import os
import re
import subprocess
import sys
import tempfile

import yaml


def pdf_pages(path):
    if path.endswith(".gz"):
        with gzip.open(path) as src, tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
            tmp.write(src.read())
            tmp.flush()
            return pdf_pages(tmp.name)
    out = subprocess.run(["pdfinfo", path], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


def load_corpus(args):
    pages, ids = {}, {}
    for arg in args:
        if os.path.isdir(arg):
            for root, _, files in os.walk(arg):
                for f in files:
                    if f.endswith((".html", ".htm")):
                        text = open(os.path.join(root, f), encoding="utf-8", errors="replace").read()
                        found = re.findall(r'<section[^>]*\sid="([^"]+)"', text) or re.findall(r'\sid="([^"]+)"', text)
                        ids.setdefault(f, set()).update(found)
        else:
            name = os.path.basename(arg)
            name = name[:-3] if name.endswith(".gz") else name
            pages[name] = pdf_pages(arg)
    return pages, ids


def as_list(v):
    return [] if v is None else v if isinstance(v, list) else [v]


def check(qs, pages, ids):
    problems, seen = [], set()
    for i, q in enumerate(qs):
        where = f"questions[{i}]"
        if not isinstance(q, dict) or not isinstance(q.get("question"), str) or not q["question"].strip():
            problems.append(f"{where}: no question text")
            continue
        where += f" ({q['question'][:50]!r})"
        if q["question"] in seen:
            problems.append(f"{where}: asked twice")
        seen.add(q["question"])
        answerable = q.get("answerable", True)
        if not isinstance(answerable, bool):
            problems.append(f"{where}: answerable must be true or false")
            continue
        expect, pg, sec = as_list(q.get("expect")), as_list(q.get("pages")), as_list(q.get("sections"))
        if not answerable:
            if expect or pg or sec:
                problems.append(f"{where}: an unanswerable question takes no expect, pages or sections")
            continue
        if not expect:
            problems.append(f"{where}: no expected document")
        for e in expect:
            if e not in pages and e not in ids:
                problems.append(f"{where}: {e} is not in the corpus")
        for p in pg:
            if not isinstance(p, int) or isinstance(p, bool) or p < 1:
                problems.append(f"{where}: page {p!r} is not a page number")
            elif not any(p <= pages.get(e, 0) for e in expect):
                problems.append(f"{where}: page {p} is past the end of {', '.join(expect)}")
        if pg and not any(e in pages for e in expect):
            problems.append(f"{where}: pages labelled on documents without pages")
        for s in sec:
            if not any(s in ids.get(e, ()) for e in expect):
                problems.append(f"{where}: no section id {s!r} in {', '.join(expect)}")
    return problems


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[2])
    data = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
    qs = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(qs, list) or not qs:
        sys.exit(f"{sys.argv[1]}: expected a mapping with a non-empty list 'questions'")
    pages, ids = load_corpus(sys.argv[2:])
    problems = check(qs, pages, ids)
    for p in problems:
        print(f"{sys.argv[1]}: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    n = sum(1 for q in qs if q.get("answerable", True))
    print(f"{n} answerable, {len(qs) - n} unanswerable")


if __name__ == "__main__":
    main()
