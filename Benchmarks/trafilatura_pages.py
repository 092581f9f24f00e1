"""Pages/s of trafilatura (PyPI) on the same pages mirrord-bench extracts, for Benchmarks/run.

Usage: python3 Benchmarks/trafilatura_pages.py ROOT   (prints `seed N` and `html N`)
"""
import pathlib, sys, time
import trafilatura

root = pathlib.Path(sys.argv[1])
sets = {
    "seed": sorted((root / "Config/demo-upstream/pages").rglob("*.md")),
    "html": sorted((root / "Tests/MirrorExtractTests/HTMLFixtures").glob("*.html")),
}
for name, files in sets.items():
    pages = [f.read_text(encoding="utf-8") for f in files]
    for p in pages:  # warm-up
        trafilatura.extract(p, with_metadata=True)
    rounds, start = 3, time.perf_counter()
    for _ in range(rounds):
        for p in pages:
            trafilatura.extract(p, with_metadata=True)
    print(f"{name} {len(pages) * rounds / (time.perf_counter() - start):.1f}")
