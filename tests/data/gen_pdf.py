#!/usr/bin/env python3
"""Write test PDFs: N pages of real, extractable text (Helvetica), and poison variants.

    gen_pdf.py --pages 2000 --out big.pdf
    gen_pdf.py --pages 20 --mode truncated --out half.pdf    # first half of a valid file
    gen_pdf.py --mode garbage --out bad.pdf                  # a PDF header, then noise

Every page reads "Page P of N", then --sentences sentences (default 5; a typical
printed page has 30-40) whose words depend on the page number (and --seed), so pages
are told apart by their text: page P also ends with the token "pagemarkP" (pagemark17). The file is PDF 1.4 with one content stream per
page and an exact cross-reference table; pdfinfo and pdftotext read it without warnings.
Standard library only; 2,000 pages take well under a second.
"""
import argparse
import random
import sys

WORDS = (
    "agreement invoice contract supplier customer payment delivery warranty liability "
    "termination renewal schedule annex clause party obligation notice confidential "
    "license territory price discount quantity order shipment inspection acceptance "
    "insurance indemnity dispute arbitration governing law jurisdiction amendment "
    "assignment subcontractor audit record retention privacy security incident report "
    "budget forecast revenue margin quarter growth risk control policy procedure "
    "employee training laptop encryption backup recovery network access review approval"
).split()


def page_lines(page, pages, rng, sentences):
    lines = [f"Page {page} of {pages}"]
    for _ in range(sentences):
        words = [rng.choice(WORDS) for _ in range(rng.randint(7, 11))]
        words[0] = words[0].capitalize()
        lines.append(" ".join(words) + ".")
    lines.append(f"Reference pagemark{page} ends this page.")
    return lines


def content_stream(lines):
    # Parentheses and backslashes are escaped; text is WinAnsi (Latin-1) encoded.
    # The leading shrinks with the line count so that every line stays on the page.
    lead = min(16, max(2, 660 // max(1, len(lines))))
    ops = ["BT", f"/F1 {min(12, lead)} Tf", f"{lead} TL", "72 740 Td"]
    for i, line in enumerate(lines):
        if i:
            ops.append("T*")
        esc = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({esc}) Tj")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1", errors="replace")


def text_pages(path):
    """A text file's pages (split at form feeds), each wrapped at 90 characters."""
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    pages = []
    for chunk in raw.split("\f"):
        lines = []
        for para in chunk.strip("\n").split("\n"):
            words, line = para.split(), ""
            for w in words:
                if line and len(line) + 1 + len(w) > 90:
                    lines.append(line)
                    line = w
                else:
                    line = f"{line} {w}" if line else w
            lines.append(line)
        pages.append(lines)
    return pages


def build_pdf(pages, seed, sentences=5, given=None):
    """given: the pages' lines (from --from-text) instead of generated text."""
    if given is not None:
        pages = len(given)
    rng = random.Random(seed)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}

    def obj(num, body):
        offsets[num] = len(out)
        out.extend(b"%d 0 obj\n" % num)
        out.extend(body)
        out.extend(b"\nendobj\n")

    # 1 catalog, 2 page tree, 3 font, then per page: 4+2i page, 5+2i content stream.
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(pages))
    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, f"<< /Type /Pages /Count {pages} /Kids [{kids}] /MediaBox [0 0 612 792] >>".encode())
    obj(3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for i in range(pages):
        p, c = 4 + 2 * i, 5 + 2 * i
        obj(p, f"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents {c} 0 R >>".encode())
        lines = given[i] if given is not None else page_lines(i + 1, pages, rng, sentences)
        data = content_stream(lines)
        obj(c, b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")

    count = 4 + 2 * pages
    xref = len(out)
    rows = [b"xref\n0 %d\n" % count, b"0000000000 65535 f \n"]
    rows.extend(b"%010d 00000 n \n" % offsets[n] for n in range(1, count))
    out.extend(b"".join(rows))
    out.extend(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, xref))
    return bytes(out)


def garbage(size, seed):
    rng = random.Random(seed)
    return b"%PDF-1.7\n" + bytes(rng.getrandbits(8) for _ in range(size))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1, help="number of pages (default 1)")
    ap.add_argument("--out", required=True, help="output file ('-' for stdout)")
    ap.add_argument("--sentences", type=int, default=5,
                    help="sentences per page besides the header and the pagemark line (default 5)")
    ap.add_argument("--seed", type=int, default=1, help="varies the words (default 1)")
    ap.add_argument("--mode", choices=("valid", "truncated", "garbage"), default="valid",
                    help="valid (default); truncated: the first half of the valid file; "
                    "garbage: a PDF header followed by --garbage-bytes of noise")
    ap.add_argument("--garbage-bytes", type=int, default=64 * 1024)
    ap.add_argument("--from-text", metavar="FILE",
                    help="the pages of a UTF-8 text file (form feeds separate pages) instead of generated text")
    a = ap.parse_args()
    if a.pages < 1:
        ap.error("--pages must be at least 1")
    if not 0 <= a.sentences <= 300:
        ap.error("--sentences must be between 0 and 300")

    if a.mode == "garbage":
        data = garbage(a.garbage_bytes, a.seed)
    else:
        data = build_pdf(a.pages, a.seed, a.sentences, text_pages(a.from_text) if a.from_text else None)
        if a.mode == "truncated":
            data = data[: len(data) // 2]
    if a.out == "-":
        sys.stdout.buffer.write(data)
    else:
        with open(a.out, "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
