"""Extraction quality on real pages, mirrord beside trafilatura in the same run.

Usage: python3 Benchmarks/extraction_eval.py BIN_DIR [--corpora DIR] [--details FILE]

- Body text: `trafilatura-eval.tar.zst` (990 entries over real news, blog and government pages
  in many languages). Per entry every `with` snippet found in the extracted body is a true
  positive, a missing one a false negative, every `without` snippet found a false positive;
  precision, recall and F1 are over all entries together, whitespace normalised on both sides
  (the corpus README's scoring). trafilatura runs with its defaults (with its fallback
  extractors) and with `fast=True`, comments excluded, on the same bytes.
- Metadata: `readability-test-pages.tar.zst` (130 pages with Readability.js's expected title,
  byline and publishedTime): how often each extractor gives the expected value.
- Speed: pages/s of each over the whole corpus, pages held in memory (mirrord-bench's best of
  three passes, trafilatura's one pass per mode); mirrord's figure includes charset decoding.

The corpora are unpacked once into $TMPDIR/mirrord-corpora (never into the project tree).
`--details FILE` writes every entry's missed and leaked snippets for both extractors.
"""
import argparse, json, os, pathlib, re, subprocess, sys, tempfile, time

root = pathlib.Path(__file__).resolve().parent.parent
ap = argparse.ArgumentParser()
ap.add_argument("bin_dir")
ap.add_argument("--corpora", default=str(root.parent / "shared" / "corpora"))
ap.add_argument("--details")
ap.add_argument("--no-trafilatura", action="store_true", help="score mirrord only (while developing)")
args = ap.parse_args()

cache = pathlib.Path(tempfile.gettempdir()) / "mirrord-corpora"
for name in ("trafilatura-eval", "readability-test-pages"):
    target = cache / name
    if not (target / ".unpacked").exists():
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(f"zstd -dc '{args.corpora}/{name}.tar.zst' | tar -x -C '{target}'", shell=True, check=True)
        (target / ".unpacked").touch()

ws = re.compile(r"\s+")


def norm(s):
    return ws.sub(" ", s or "").strip()


# MARK: the pages
ev = cache / "trafilatura-eval"
evaldata = json.loads((ev / "evaldata.json").read_text())
entries = []
for url, v in evaldata.items():
    path = ev / "eval" / v["file"]
    if not path.exists():
        path = ev / "cache" / v["file"]
    entries.append((url, path, v))
rd = cache / "readability-test-pages" / "test-pages"
rpages = sorted(p for p in rd.iterdir() if (p / "source.html").exists())


def run_mirrord(pages):
    """pages: [(url, path)] → ([row], seconds)"""
    with tempfile.TemporaryDirectory() as tmp:
        lst, out = pathlib.Path(tmp) / "list", pathlib.Path(tmp) / "out"
        lst.write_text("".join(f"{p}\t{u}\n" for u, p in pages))
        r = subprocess.run([f"{args.bin_dir}/mirrord-bench", "--extract-list", str(lst), str(out)],
                           capture_output=True, text=True, check=True)
        seconds = float(r.stdout.split()[-1])
        return [json.loads(l) for l in out.read_text().splitlines()], seconds


def score(texts):
    tp = fp = fn = 0
    details = []
    for (url, _, v), text in zip(entries, texts):
        t = norm(text)
        missed = [s for s in v["with"] if norm(s) not in t]
        leaked = [s for s in v["without"] if norm(s) in t]
        tp += len(v["with"]) - len(missed)
        fn += len(missed)
        fp += len(leaked)
        details.append({"url": url, "file": v["file"], "missed": missed, "leaked": leaked, "chars": len(t)})
    p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return {"precision": p, "recall": r, "f1": 2 * p * r / max(1e-9, p + r), "empty": sum(1 for x in texts if not norm(x))}, details


results = {}
rows, seconds = run_mirrord([(u, p) for u, p, _ in entries])
results["mirrord"] = (*score([r["text"] for r in rows]), len(entries) / seconds)
fallbacks = sum(1 for r in rows if r["extraction"] == "fallback")

if not args.no_trafilatura:
    try:
        import trafilatura
    except ImportError:
        sys.exit("trafilatura is not installed (pip install trafilatura); or pass --no-trafilatura")
    raw = [(u, p.read_bytes()) for u, p, _ in entries]
    for label, fast in (("trafilatura", False), ("trafilatura fast", True)):
        start = time.perf_counter()
        texts = [trafilatura.extract(b, url=u, fast=fast, include_comments=False) or "" for u, b in raw]
        elapsed = time.perf_counter() - start
        results[label] = (*score(texts), len(entries) / elapsed)

print(f"body text, {len(entries)} pages of trafilatura's evaluation set "
      f"({sum(len(v['with']) for _, _, v in entries)} main-text and {sum(len(v['without']) for _, _, v in entries)} boilerplate snippets)")
print(f"{'extractor':<18}{'precision':>10}{'recall':>8}{'F1':>8}{'empty':>7}{'pages/s':>9}")
for label, (s, _, pps) in results.items():
    print(f"{label:<18}{s['precision']:>10.4f}{s['recall']:>8.4f}{s['f1']:>8.4f}{s['empty']:>7}{pps:>9.1f}")
if "trafilatura" in results:
    ratio = results["mirrord"][2] / results["trafilatura"][2]
    print(f"mirrord: F1 target ≥ 0.93, {ratio:.1f}× trafilatura's pages/s (target ≥ 10×); "
          f"{fallbacks} pages had no article body and got the fallback text")
else:
    print(f"mirrord: {fallbacks} pages had no article body and got the fallback text")

# MARK: metadata against Readability.js's expectations


def date_of(s):
    m = re.match(r"\d{4}-\d{2}-\d{2}", s or "")
    return m.group(0) if m else None


def same_name(got, want):
    g, w = norm(got).lower(), norm(want).lower()
    w = re.sub(r"^(by|von|par|por)\s+", "", w)
    return bool(g) and (g == w or (len(g) >= 4 and g in w))


expected = [json.loads((p / "expected-metadata.json").read_text()) for p in rpages]
mrows, _ = run_mirrord([(f"http://fakehost/test/{p.name}/", p / "source.html") for p in rpages])
meta = {"mirrord": [(r["title"], r["author"], r["published"]) for r in mrows]}
if not args.no_trafilatura:
    tm = []
    for p in rpages:
        d = trafilatura.bare_extraction((p / "source.html").read_bytes(), url=f"http://fakehost/test/{p.name}/", with_metadata=True)
        d = d.as_dict() if hasattr(d, "as_dict") else (d or {})
        tm.append((d.get("title"), d.get("author"), d.get("date")))
    meta["trafilatura"] = tm
print()
counts = {k: sum(1 for e in expected if e.get(k)) for k in ("title", "byline", "publishedTime")}
print(f"metadata, {len(rpages)} pages of Readability.js's test set: pages where the expected value is given "
      f"(title {counts['title']}, byline {counts['byline']}, date {counts['publishedTime']}) and matched")
print(f"{'extractor':<18}{'title':>8}{'byline':>8}{'date':>8}")
meta_misses = {}
for label, got in meta.items():
    t = b = d = 0
    misses = []
    for p, e, (title, author, published) in zip(rpages, expected, got):
        if e.get("title"):
            ok = norm(title) == norm(e["title"])
            t += ok
            if not ok: misses.append((p.name, "title", title, e["title"]))
        if e.get("byline"):
            ok = same_name(author, e["byline"])
            b += ok
            if not ok: misses.append((p.name, "byline", author, e["byline"]))
        if e.get("publishedTime"):
            ok = date_of(published) == date_of(e["publishedTime"])
            d += ok
            if not ok: misses.append((p.name, "date", published, e["publishedTime"]))
    meta_misses[label] = misses
    print(f"{label:<18}{t:>8}{b:>8}{d:>8}")

if args.details:
    out = {label: [d for d in det if d["missed"] or d["leaked"]] for label, (_, det, _) in results.items()}
    out["metadata"] = meta_misses
    pathlib.Path(args.details).write_text(json.dumps(out, ensure_ascii=False, indent=1))
