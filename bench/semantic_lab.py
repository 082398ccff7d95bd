#!/usr/bin/python3
"""Corpus-trained semantic signals, offline (issue #14, 2.2): does a word space learned
from the tenant's own chunks lift document MRR over BM25 on both eval sets?

    bench/semantic_lab.py DSN DIR NAME [--platctl ./platctl]

Same inputs as bench/rerank_lab.py (whose loader and scoring it reuses): DSN holds
DIR/NAME.dump restored. Chunks are bags of their tsvector lexemes (body + 3x heading), so
the question goes through the same to_tsvector('english') as the search does.
Signals, all trained on the chunks only (no outside data):
  LSA      tf-idf chunk x lexeme matrix, truncated SVD (k dims), chunks and the folded-in
           question compared by cosine;
  PPMI-SVD lexeme vectors from chunk-window co-occurrence (PPMI, SVD), a chunk or question
           is the idf-weighted mean of its lexemes' vectors;
  QE       query expansion: each question lexeme's nearest lexemes in the PPMI-SVD space
           added at low weight to a BM25F re-score.
Each is used (a) as a re-rank feature on the fused top 50 (rrf/max + w*f/max), (b) rank-fused
into the fused order, (c) as a third retrieval list over ALL chunks in the RRF (so it can
bring in what neither half found). Prints one line per variant as rerank_lab does.
"""
import math
import os
import sys
from collections import defaultdict

import numpy as np
from scipy.sparse import csr_matrix, diags
from scipy.sparse.linalg import svds

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rerank_lab as rl  # noqa: E402


def bags(chunks, hw=3):
    for c in chunks:
        b = defaultdict(float)
        for l, p in c["pos"].items():
            b[l] += len(p)
        for l, v in c["head"].items():
            b[l] += hw * v
        yield b


def vocab_of(chunks, df, n, min_df=2, max_df=0.5):
    voc = sorted(l for l, d in df.items() if d >= min_df and d <= max_df * n)
    return {l: i for i, l in enumerate(voc)}


def tfidf_matrix(chunks, voc, df, n):
    rows, cols, vals = [], [], []
    for i, b in enumerate(bags(chunks)):
        for l, tf in b.items():
            j = voc.get(l)
            if j is not None:
                rows.append(i); cols.append(j)
                vals.append((1 + math.log(tf)) * math.log(n / df[l]))
    return csr_matrix((vals, (rows, cols)), shape=(len(chunks), len(voc)))


def normalize(m):
    nr = np.linalg.norm(m, axis=1, keepdims=True)
    nr[nr == 0] = 1
    return m / nr


def lsa(chunks, voc, df, n, k):
    X = tfidf_matrix(chunks, voc, df, n)
    X = diags(1 / np.maximum(np.sqrt(X.multiply(X).sum(axis=1)).A1, 1e-9)) @ X
    u, s, vt = svds(X, k=k)
    doc = normalize(u * s)
    return doc, vt.T  # term loadings: a question q maps to q @ V


def ppmi_svd(chunks, voc, k, window=5):
    """Lexeme co-occurrence within +-window positions in a chunk, PPMI, SVD."""
    V = len(voc)
    co = defaultdict(float)
    for c in chunks:
        seq = sorted((p, voc[l]) for l, ps in c["pos"].items() if l in voc for p in ps)
        for a in range(len(seq)):
            pa, ia = seq[a]
            for b in range(a + 1, len(seq)):
                pb, ib = seq[b]
                if pb - pa > window:
                    break
                if ia != ib:
                    co[(ia, ib)] += 1
                    co[(ib, ia)] += 1
    if not co:
        return np.zeros((V, k))
    keys = np.array(list(co.keys()))
    vals = np.array(list(co.values()))
    M = csr_matrix((vals, (keys[:, 0], keys[:, 1])), shape=(V, V))
    tot = vals.sum()
    rs = np.asarray(M.sum(axis=1)).ravel()
    cs = np.asarray(M.sum(axis=0)).ravel() ** 0.75  # context smoothing (Levy et al.)
    cs = cs / cs.sum()
    M = M.tocoo()
    pmi = np.log(M.data * 1.0 / tot / (rs[M.row] / tot) / cs[M.col])
    keep = pmi > 0
    P = csr_matrix((pmi[keep], (M.row[keep], M.col[keep])), shape=(V, V))
    u, s, _ = svds(P, k=min(k, V - 2))
    return normalize(u * np.sqrt(s))


def main():
    args = sys.argv[1:]
    platctl = "./platctl"
    if "--platctl" in args:
        i = args.index("--platctl"); platctl = args[i + 1]; del args[i:i + 2]
    dsn, keep, name = args
    qs, df, n, avgdl, chunks = load_all(dsn, keep, name, platctl)
    bm = [l.rstrip("\n").split("\t") for l in open(os.path.join(keep, name + ".bm25.tsv"))]
    toint = lambda v: int(v) if v else 0
    bmr = [tuple(toint(v) for v in r[1:4]) for r in bm]
    b = rl.summarise(bmr, qs)
    res = {}

    def line(label, orders):
        rows = [rl.ranks(q, o) for q, o in zip(qs, orders)]
        s = rl.summarise(rows, qs)
        res[label] = (s["doc"][0] - b["doc"][0], s["doc"][1] - b["doc"][1])
        print("  %-36s doc MRR %.3f (%+.3f), doc R@5 %.2f (%+.2f)" % (
            label, s["doc"][0], s["doc"][0] - b["doc"][0], s["doc"][1], s["doc"][1] - b["doc"][1]), flush=True)

    print("%s: %d questions, %d chunks" % (name, len(qs), n))
    line("fused top 50, no re-rank", [q["cands"] for q in qs])
    voc = vocab_of(chunks, df, n)
    pos = {c["id"]: i for i, c in enumerate(chunks)}
    vocl = sorted(voc, key=voc.get)
    idfv = np.array([math.log(n / df[l]) for l in sorted(voc, key=voc.get)])

    def qvec_terms(q):
        v = np.zeros(len(voc))
        for l in q["lex"]:
            j = voc.get(l)
            if j is not None:
                v[j] += idfv[j]
        return v

    spaces = []
    for k in (64, 128, 256):
        D, T = lsa(chunks, voc, df, n, k)
        spaces.append(("LSA k=%d" % k, D, lambda q, T=T: qvec_terms(q) @ T))
    for k in (100, 200):
        W = ppmi_svd(chunks, voc, k)
        X = tfidf_matrix(chunks, voc, df, n)
        D = normalize(np.asarray(X @ W))
        spaces.append(("PPMI-SVD k=%d" % k, D, lambda q, W=W: qvec_terms(q) @ W))
        for nn in (3, 5):
            for wq in (0.2, 0.4):
                for w in (0.3, 0.6):
                    orders = []
                    for q in qs:
                        terms = defaultdict(float)
                        for l in dict.fromkeys(q["lex"]):
                            terms[l] += 1.0
                            j = voc.get(l)
                            if j is None:
                                continue
                            sims = W @ W[j]
                            sims[j] = -1
                            for t in np.argsort(-sims)[:nn]:
                                terms[vocl[t]] += wq * max(sims[t], 0)
                        orders.append(rl.rerank(q, lambda x, t=terms: rl.bm25f(x["c"], t, df, n, avgdl), w, df, n, avgdl))
                    line("QE PPMI k=%d nn=%d wq=%.1f w=%.1f" % (k, nn, wq, w), orders)
    for label, D, qf in spaces:
        qv = [normalize(qf(q)[None, :])[0] for q in qs]
        cos = [D @ v for v in qv]
        for w in (0.1, 0.2, 0.4):
            line("%s re-rank w=%.1f" % (label, w),
                 [rl.rerank(q, lambda x, cv=cv: max(cv[pos[x["c"]["id"]]], 0), w, df, n, avgdl) for q, cv in zip(qs, cos)])
        for w in (0.5, 1.0):
            line("%s rank-fused w=%.1f" % (label, w),
                 [rl.rank_fuse(q, lambda x, cv=cv: max(cv[pos[x["c"]["id"]]], 0), w) for q, cv in zip(qs, cos)])
        for w in (0.3, 0.6, 1.0):
            orders = []
            for q, cv in zip(qs, cos):
                top = np.argsort(-cv)[:rl.CAND]
                s = defaultdict(float)
                ref = {}
                for x in q["cands"]:
                    s[x["c"]["id"]] += x["rrf"]; ref[x["c"]["id"]] = x
                for r, i in enumerate(top, 1):
                    cid = chunks[i]["id"]
                    s[cid] += w / (rl.RRF_K + r)
                    ref.setdefault(cid, {"c": chunks[i], "rrf": 0})
                orders.append([ref[c] for c in sorted(s, key=lambda c: (-s[c], c))])
            line("%s 3rd RRF list w=%.1f" % (label, w), orders)


def load_all(dsn, keep, name, platctl):
    qs, df, n, avgdl = rl.load(dsn, keep, name, platctl)
    # every chunk, not only candidates: rerank_lab.load keeps them in a closure, so reload
    by_id = {}
    for cid, did, doc, page, anchor, ord_, tokens in rl.copy_out(
            dsn, "SELECT c.id, d.id, d.name, c.page, c.anchor, c.ord, c.tokens FROM chunks c JOIN documents d ON d.id = c.document_id"):
        by_id[int(cid)] = {"id": int(cid), "doc": doc, "page": int(page) if page else None,
                           "anchor": anchor or None, "did": did, "tokens": int(tokens), "pos": {}, "head": defaultdict(int)}
    for q in qs:
        for x in q["cands"]:
            by_id[x["c"]["id"]] = x["c"]
    for cid, lex, p in rl.copy_out(dsn, "SELECT c.id, u.lexeme, array_to_string(u.positions, ' ') FROM chunks c, unnest(c.tsv) u"):
        by_id[int(cid)]["pos"][lex] = [int(v) for v in p.split()] if p else [1]
    for cid, lex, p in rl.copy_out(dsn, "SELECT c.id, u.lexeme, coalesce(array_length(u.positions, 1), 1) FROM chunks c, unnest(c.head_tsv) u"):
        by_id[int(cid)]["head"][lex] = int(p)
    return qs, df, n, avgdl, [by_id[c] for c in sorted(by_id)]


if __name__ == "__main__":
    main()
