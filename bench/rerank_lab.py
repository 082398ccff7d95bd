#!/usr/bin/env python3
"""Re-ranking experiments offline, on a corpus bench_eval.sh kept (BENCH_KEEP=DIR).

    BENCH_KEEP=DIR bench/run.sh eval
    createdb lab && pg_restore -d lab DIR/bench_eval_html.dump
    bench/rerank_lab.py DSN DIR bench_eval_html [--platctl ./platctl]
    LAB_MISSES=1 bench/rerank_lab.py DSN DIR NAME    the questions not answered at rank 1

DSN is a database holding DIR/NAME.dump; platctl search runs against it with the caller's
configuration (run it with an empty one, as the bench does); the questions and the
same-run ranks are DIR/NAME.{q.jsonl,plat.tsv,bm25.tsv}. For every answerable question it
takes platctl search's top 50 (fused, with --explain for both halves' ranks), recomputes the
fusion as a search of k 10 makes it (each half's first 40), checks that this reproduces
the kept top 10 ranks, then re-ranks those candidates with each method and prints one line
per method: document MRR, page or section MRR, document recall@5, against BM25's.
Nothing here is part of platctl: methods that win are implemented in lib/search/rerank.c.
"""
import csv
import io
import json
import math
import os
import subprocess
import sys
from collections import defaultdict

csv.field_size_limit(1 << 30)
DEPTH, CAND, K, RRF_K = 50, 40, 10, 60


def copy_out(dsn, query):
    out = subprocess.run(["psql", "-qtX", "--csv", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", query],
                         check=True, capture_output=True, text=True).stdout
    return list(csv.reader(io.StringIO(out)))


def load(dsn, keep, name, platctl):
    qs = [json.loads(l) for l in open(os.path.join(keep, name + ".q.jsonl"))]
    qs = [q for q in qs if q["answerable"]]
    chunks = {}
    for cid, did, doc, page, anchor, ord_, tokens in copy_out(
            dsn, "SELECT c.id, d.id, d.name, c.page, c.anchor, c.ord, c.tokens FROM chunks c JOIN documents d ON d.id = c.document_id"):
        chunks[(did, int(ord_))] = {"id": int(cid), "doc": doc, "page": int(page) if page else None,
                                    "anchor": anchor or None, "did": did, "tokens": int(tokens), "pos": {}, "head": defaultdict(int)}
    by_id = {c["id"]: c for c in chunks.values()}
    for cid, lex, pos in copy_out(dsn, "SELECT c.id, u.lexeme, array_to_string(u.positions, ' ') FROM chunks c, unnest(c.tsv) u"):
        by_id[int(cid)]["pos"][lex] = [int(p) for p in pos.split()] if pos else [1]
    for cid, lex, pos in copy_out(dsn, "SELECT c.id, u.lexeme, coalesce(array_length(u.positions, 1), 1) FROM chunks c, unnest(c.head_tsv) u"):
        by_id[int(cid)]["head"][lex] = int(pos)
    df = defaultdict(int)
    for c in by_id.values():
        for l in set(c["pos"]) | set(c["head"]):
            df[l] += 1
    n = len(by_id)
    avgdl = sum(c["tokens"] for c in by_id.values()) / n
    # the question's lexemes in question order
    vals = ",".join("(%d, %s)" % (q["n"], "$q$" + q["question"].replace("$q$", "") + "$q$") for q in qs)
    qlex = defaultdict(list)
    for qn, lex, first in copy_out(dsn, "SELECT q.n, u.lexeme, u.positions[1] FROM (VALUES %s) q(n, t), unnest(to_tsvector('english', q.t)) u" % vals):
        qlex[int(qn)].append((int(first) if first else 0, lex))
    for q in qs:
        q["lex"] = [l for _, l in sorted(qlex[q["n"]])]
    # candidates
    env = dict(os.environ, PLATCTL_DATABASE_URL=dsn)
    for q in qs:
        out = subprocess.run([platctl, "search", q["question"], "-k", str(DEPTH), "--explain", "-o", "json"],
                             check=True, capture_output=True, text=True, env=env).stdout
        res = json.loads(out)
        cands = []
        for r in res:
            c = chunks[(r["document_id"], r["chunk"])]
            x = r.get("explain") or {}
            fr = r.get("fts_rank")
            vr = r.get("vector_rank")
            fw = (x.get("fusion") or {}).get("fts_weight", 1)
            vw = (x.get("fusion") or {}).get("vector_weight", 1)
            fs = (x.get("fts") or {}).get("score", 0.0) if x.get("fts") else 0.0
            # the fusion a search of k 10 makes: each half's first CAND only
            s = (fw / (RRF_K + fr) if fr and fr <= CAND else 0) + (vw / (RRF_K + vr) if vr and vr <= CAND else 0)
            cands.append({"c": c, "rrf": s, "fts": fs, "fr": fr, "vr": vr})
        cands = [x for x in cands if x["rrf"] > 0]
        cands.sort(key=lambda x: (-x["rrf"], x["c"]["id"]))
        q["cands"] = cands
    return qs, df, n, avgdl


def idf(df, n, l):
    d = df.get(l, 0)
    return math.log(1 + (n - d + 0.5) / (d + 0.5))


def ranks(q, order):
    """The first rank of an expected document, page, section in order (0: not in the first K)."""
    d = p = s = 0
    for i, x in enumerate(order[:K], 1):
        c = x["c"]
        if c["doc"] in q["expect"]:
            d = d or i
            if q["pages"] and c["page"] in q["pages"]:
                p = p or i
            if q["sections"] and c["anchor"] in q["sections"]:
                s = s or i
    return d, p, s


def summarise(rows, qs):
    out = {}
    for lvl, col, key in (("doc", 0, "expect"), ("page", 1, "pages"), ("section", 2, "sections")):
        rs = [r[col] for r, q in zip(rows, qs) if q[key]]
        if rs:
            out[lvl] = (sum(1 / r for r in rs if r) / len(rs), sum(1 for r in rs if 0 < r <= 5) / len(rs))
    return out


# ---- features over a candidate ----
def bm25f(c, terms, df, n, avgdl, k1=1.2, b=0.75, hw=3.0):
    """terms: {lexeme: weight}."""
    norm = 1 - b + b * c["tokens"] / avgdl
    s = 0.0
    for l, w in terms.items():
        tf = len(c["pos"].get(l, ())) / norm + hw * c["head"].get(l, 0)
        if tf > 0:
            s += w * idf(df, n, l) * tf * (k1 + 1) / (tf + k1)
    return s


def min_span(c, lex):
    """The shortest window holding every query word the chunk has (>= 2 of them): its length
    and how many words; (None, m) otherwise."""
    lists = [(p, l) for l in set(lex) for p in c["pos"].get(l, ())]
    present = {l for _, l in lists}
    if len(present) < 2:
        return None, len(present)
    lists.sort()
    need, have, best, j = len(present), defaultdict(int), None, 0
    covered = 0
    for i, (p, l) in enumerate(lists):
        if have[l] == 0:
            covered += 1
        have[l] += 1
        while covered == need:
            span = p - lists[j][0] + 1
            best = span if best is None or span < best else best
            have[lists[j][1]] -= 1
            if have[lists[j][1]] == 0:
                covered -= 1
            j += 1
    return best, need


def pair_prox(c, lex, df, n, window=5):
    """BM25TP-like: idf-weighted sum over query word pairs of 1/d^2 for occurrences within
    window."""
    ls = [l for l in dict.fromkeys(lex) if l in c["pos"]]
    s = 0.0
    for i in range(len(ls)):
        for j in range(i + 1, len(ls)):
            acc = 0.0
            for p in c["pos"][ls[i]]:
                for r in c["pos"][ls[j]]:
                    d = abs(p - r)
                    if 0 < d <= window:
                        acc += 1.0 / (d * d)
            if acc:
                s += min(idf(df, n, ls[i]), idf(df, n, ls[j])) * acc * 2.2 / (acc + 1.2)
    return s


def sdm(c, lex, df, n):
    """Sequential dependence's two extra parts: ordered adjacent pairs (within 1 position
    gap of 2, stopwords removed leave gaps) and unordered pairs within 8."""
    o = u = 0.0
    for a, b in zip(lex, lex[1:]):
        pa, pb = c["pos"].get(a), c["pos"].get(b)
        if not pa or not pb:
            continue
        w = min(idf(df, n, a), idf(df, n, b))
        sb = set(pb)
        on = sum(1 for p in pa if (p + 1) in sb or (p + 2) in sb)
        un = sum(1 for p in pa for r in pb if abs(p - r) <= 8)
        o += w * on / (on + 1.2) * 2.2
        u += w * un / (un + 1.2) * 2.2
    return o, u


def coverage(c, lex, df, n):
    ls = set(lex)
    tot = sum(idf(df, n, l) for l in ls)
    have = sum(idf(df, n, l) for l in ls if l in c["pos"] or l in c["head"])
    return have / tot if tot else 0


def rm3_terms(q, df, n, fb_docs, fb_terms, lam):
    top = q["cands"][:fb_docs]
    mx = max((x["rrf"] for x in top), default=1)
    pw = defaultdict(float)
    for x in top:
        c = x["c"]
        ln = sum(len(v) for v in c["pos"].values()) or 1
        w = x["rrf"] / mx
        for l, v in c["pos"].items():
            pw[l] += w * len(v) / ln
    # words in most passages say nothing about this question
    exp = sorted(((v * (1 if df.get(l, 0) < 0.05 * n else 0), l) for l, v in pw.items()), reverse=True)[:fb_terms]
    tot = sum(v for v, _ in exp) or 1
    terms = defaultdict(float)
    for l in dict.fromkeys(q["lex"]):
        terms[l] += (1 - lam) / len(set(q["lex"]))
    for v, l in exp:
        terms[l] += lam * v / tot
    return terms


def rerank(q, feat, w, df, n, avgdl):
    """final = rrf / max rrf + w * feature / max feature over the candidates."""
    cs = q["cands"]
    if not cs:
        return cs
    vals = [feat(x) for x in cs]
    mf = max(vals) or 1
    mr = cs[0]["rrf"] or 1
    scored = [(x["rrf"] / mr + w * v / mf, x) for x, v in zip(cs, vals)]
    scored.sort(key=lambda t: (-t[0], t[1]["c"]["id"]))
    return [x for _, x in scored]


def rank_fuse(q, feat, w):
    """Reciprocal rank fusion of the fused order with the feature's order: a feature's
    scale then does not matter."""
    cs = q["cands"]
    vals = [feat(x) for x in cs]
    by = sorted(range(len(cs)), key=lambda i: (-vals[i], cs[i]["c"]["id"]))
    fr = {i: r for r, i in enumerate(by, 1)}
    scored = [(1 / (RRF_K + i + 1) + (w / (RRF_K + fr[i]) if vals[i] > 0 else 0), cs[i]) for i in range(len(cs))]
    scored.sort(key=lambda t: (-t[0], t[1]["c"]["id"]))
    return [x for _, x in scored]


def doc_evidence(q, w):
    """A passage gains from the other candidates of its document (their rrf, summed)."""
    cs = q["cands"]
    per = defaultdict(float)
    for x in cs:
        per[x["c"]["did"]] += x["rrf"]
    mr = cs[0]["rrf"] if cs else 1
    scored = [((x["rrf"] + w * (per[x["c"]["did"]] - x["rrf"])) / mr, x) for x in cs]
    scored.sort(key=lambda t: (-t[0], t[1]["c"]["id"]))
    return [x for _, x in scored]


def main():
    args = sys.argv[1:]
    platctl = "./platctl"
    if "--platctl" in args:
        i = args.index("--platctl")
        platctl = args[i + 1]
        del args[i:i + 2]
    dsn, keep, name = args
    qs, df, n, avgdl = load(dsn, keep, name, platctl)
    plat = [l.rstrip("\n").split("\t") for l in open(os.path.join(keep, name + ".plat.tsv"))]
    bm = [l.rstrip("\n").split("\t") for l in open(os.path.join(keep, name + ".bm25.tsv"))]
    toint = lambda v: int(v) if v else 0
    kept = [tuple(toint(v) for v in r[1:4]) for r in plat]
    bmr = [tuple(toint(v) for v in r[1:4]) for r in bm]
    base = [ranks(q, q["cands"]) for q in qs]
    same = sum(1 for a, b in zip(base, kept) if a == b)
    print("%s: %d questions, %d chunks; the recomputed fusion gives the kept ranks for %d of them" % (name, len(qs), n, same))
    for a, b, q in zip(base, kept, qs):
        if a != b:
            print("  differs: q%d kept %s recomputed %s" % (q["n"], b, a))

    def line(label, rows):
        s = summarise(rows, qs)
        b = summarise(bmr, qs)
        parts = []
        for lvl in ("doc", "page", "section"):
            if lvl in s:
                parts.append("%s MRR %.3f (%+.3f)" % (lvl, s[lvl][0], s[lvl][0] - b[lvl][0]))
        parts.append("doc R@5 %.2f (%+.2f)" % (s["doc"][1], s["doc"][1] - b["doc"][1]))
        print("  %-28s %s" % (label, ", ".join(parts)))

    line("BM25 (same run)", bmr)
    line("platctl search (kept)", kept)
    line("fused top 50, no re-rank", base)
    line("BM25F alone (fts score)", [ranks(q, sorted(q["cands"], key=lambda x: (-x["fts"], x["c"]["id"]))) for q in qs])
    for w in (0.1, 0.2, 0.3, 0.5):
        line("min span w=%.1f" % w, [ranks(q, rerank(q, lambda x, q=q: (lambda s: 0 if s[0] is None else s[1] / s[0])(min_span(x["c"], q["lex"])), w, df, n, avgdl)) for q in qs])
    for w in (0.1, 0.2, 0.3, 0.5):
        line("pair prox (BM25TP) w=%.1f" % w, [ranks(q, rerank(q, lambda x, q=q: pair_prox(x["c"], q["lex"], df, n), w, df, n, avgdl)) for q in qs])
    for w in (0.1, 0.2, 0.3, 0.5):
        line("SDM ordered+unordered w=%.1f" % w, [ranks(q, rerank(q, lambda x, q=q: (lambda o: o[0] + o[1])(sdm(x["c"], q["lex"], df, n)), w, df, n, avgdl)) for q in qs])
    for w in (0.1, 0.2, 0.3, 0.5):
        line("coverage w=%.1f" % w, [ranks(q, rerank(q, lambda x, q=q: coverage(x["c"], q["lex"], df, n), w, df, n, avgdl)) for q in qs])
    for fb, lam in ((5, 0.3), (10, 0.3), (5, 0.5), (10, 0.5)):
        for w in (0.3, 0.5, 1.0):
            line("RM3 %d docs lam %.1f w=%.1f" % (fb, lam, w),
                 [ranks(q, rerank(q, lambda x, t=rm3_terms(q, df, n, fb, 20, lam): bm25f(x["c"], t, df, n, avgdl), w, df, n, avgdl)) for q in qs])
    for w in (0.25, 0.5, 1.0):
        line("rank-fused SDM w=%.2f" % w, [ranks(q, rank_fuse(q, lambda x, q=q: (lambda o: o[0] + o[1])(sdm(x["c"], q["lex"], df, n)), w)) for q in qs])
        line("rank-fused pair prox w=%.2f" % w, [ranks(q, rank_fuse(q, lambda x, q=q: pair_prox(x["c"], q["lex"], df, n), w)) for q in qs])
        line("rank-fused RM3 10/0.3 w=%.2f" % w, [ranks(q, rank_fuse(q, lambda x, t=rm3_terms(q, df, n, 10, 20, 0.3): bm25f(x["c"], t, df, n, avgdl), w)) for q in qs])
    for w in (0.05,):
        line("SDM w=0.05", [ranks(q, rerank(q, lambda x, q=q: (lambda o: o[0] + o[1])(sdm(x["c"], q["lex"], df, n)), w, df, n, avgdl)) for q in qs])
    for w in (0.1, 0.2, 0.3, 0.5):
        line("document evidence w=%.1f" % w, [ranks(q, doc_evidence(q, w)) for q in qs])


def misses(dsn, keep, name, platctl):
    """Per question whose first expected document is not first: what came first."""
    qs, df, n, avgdl = load(dsn, keep, name, platctl)
    for q in qs:
        d, p, s = ranks(q, q["cands"])
        if d != 1:
            top = [(x["c"]["doc"], x["c"]["anchor"] or x["c"]["page"], x["fr"], x["vr"]) for x in q["cands"][:3]]
            print("q%d d%d s%d %s | expect %s | top %s" % (q["n"], d, s, q["question"], q["expect"], top))


if __name__ == "__main__":
    if os.environ.get("LAB_MISSES"):
        misses(*sys.argv[1:4], platctl=os.environ.get("LAB_PLATCTL", "./platctl"))
    else:
        main()
