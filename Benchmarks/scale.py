"""Scale benchmark (issue 9): mirrord against nginx on 127.0.0.1, next to curl's floors.

For each N, on a generated seed-format site (Benchmarks/sitegen.py) served by nginx:

  fetch floor         every URL fetched by `curl --parallel --parallel-max 32` into files
  write floor         the files the contract keeps for each fetched page, written by Python
                      threads (one per core) with no parsing or compression: a content-addressed
                      blob (temp file, fsync, link), the raw copy, the .md and the .json (temp
                      file, rename); each blob folder fsynced once
  cold mirror         `mirrord --once` on an empty store          (ratio to the fetch floor,
                      and to the fetch and write floors together)
  revalidation floor  every URL again with its nginx ETag in If-None-Match (all 304)
  resync              `mirrord --once --all`, nothing changed      (ratio to revalidation floor)
  hourly delta        new index tokens, 1 % edited, 0.1 % added; curl with the old ETags is
                      the floor; `mirrord --once --all` must record exactly those changes
  reparse             `mirrord --reparse --all`: every stored version, raw MB/s
  diff                `mirrorctl diff` of a 100 KB article's two revisions (wall, median of 5)
  peak RSS            ru_maxrss of each mirrord process (the largest is reported)
  store               state_dir bytes (SQLite + compressed blobs) / raw bytes of all versions,
                      cold, after the delta, and after `mirrord --compact` (then `mirrorctl verify`)
  status latency      `mirrorctl status --json` every 200 ms while a daemon does a cold mirror

Every counter is checked against what the generator did; a wrong count fails the run.

    python3 Benchmarks/scale.py BIN_DIR N [N...]     e.g. .build/release 3000 30000
"""
import json
import os
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sitegen  # noqa: E402

PARALLEL = 32


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """nginx (Debian) serving `root` on 127.0.0.1:port; ETags are nginx's `"<mtime>-<size>"`."""

    def __init__(self, work, root):
        self.port = free_port()
        self.prefix = f"{work}/nginx"
        os.makedirs(f"{self.prefix}/tmp", exist_ok=True)
        user = "user root;" if os.geteuid() == 0 else ""
        conf = f"""
            {user}
            worker_processes 2;
            daemon off;
            pid {self.prefix}/nginx.pid;
            error_log {self.prefix}/error.log warn;
            events {{ worker_connections 4096; }}
            http {{
                access_log off;
                sendfile on;
                tcp_nopush on;
                keepalive_requests 1000000;
                client_body_temp_path {self.prefix}/tmp;
                proxy_temp_path {self.prefix}/tmp;
                fastcgi_temp_path {self.prefix}/tmp;
                uwsgi_temp_path {self.prefix}/tmp;
                scgi_temp_path {self.prefix}/tmp;
                types {{ text/markdown md; }}
                default_type application/octet-stream;
                charset utf-8;
                charset_types text/markdown;
                server {{ listen 127.0.0.1:{self.port}; root {root}; }}
            }}
        """
        with open(f"{self.prefix}/nginx.conf", "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen(["nginx", "-p", self.prefix, "-c", f"{self.prefix}/nginx.conf", "-e", f"{self.prefix}/error.log"])
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.proc.kill()
        raise SystemExit("nginx did not start: see " + self.prefix + "/error.log")

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        self.proc.wait(timeout=10)


def etag(path):
    st = os.stat(path)
    return f'"{int(st.st_mtime):x}-{st.st_size:x}"'


def curl_pass(work, name, base, paths, etags=None, passes=1):
    """`curl --parallel` over `paths`, the fastest of `passes` runs; with `etags`, each request
    is conditional. Returns (seconds, {status: count}, bytes downloaded). Files stay until the
    work dir goes: deleting thousands of files just before mirrord creates its own makes ext4
    (without a journal, as here) scan the recently freed inodes on every create, which
    doubled the cold mirror's time in a first version of this script."""
    cfg = f"{work}/{name}.curl"
    out = f"{work}/{name}"
    with open(cfg, "w") as f:
        for i, p in enumerate(paths):
            if i:
                f.write("next\n")
            f.write(f'url = "{base}/{p}"\n')
            f.write(f'output = "{out}/{p}"\ncreate-dirs\n' if etags is None else 'output = "/dev/null"\n')
            if etags is not None and p in etags:
                f.write(f"header = \"If-None-Match: {etags[p].replace(chr(34), chr(92) + chr(34))}\"\n")
            f.write('write-out = "%{http_code} %{size_download}\\n"\n')
    seconds = None
    for _ in range(passes):
        t = time.perf_counter()
        r = subprocess.run(["curl", "--silent", "--show-error", "--parallel", "--parallel-max", str(PARALLEL), "-K", cfg],
                           capture_output=True, text=True)
        seconds = min(seconds or 1e9, time.perf_counter() - t)
        if r.returncode != 0:
            raise SystemExit(f"curl {name} failed: {r.stderr[:500]}")
    codes, size = {}, 0
    for line in r.stdout.splitlines():
        code, n = line.split()
        codes[code] = codes.get(code, 0) + 1
        size += int(n)
    return seconds, codes, size


def write_floor(work, fetched, paths):
    """The cost of the files DESIGN.md's store and mirror tree keep per page, on this filesystem,
    with nothing else: each fetched page (`fetched/PATH`, from the fetch floor) becomes a blob
    named by its SHA-256 (temp file, write, fsync, link into `blobs/XX/`), a raw copy, a `.md`
    and a `.json` (temp file, write, rename; the parsed copies get the page's own bytes, as the
    cold mirror's `.md` and `.json` together are 1.8× its raw bytes). One thread per core; each
    blob folder is fsynced once at the end (mirrord does so once per group-commit batch). Python
    holds the GIL only between system calls (its user time is under a tenth of the total).
    Returns seconds (wall). The files stay: freed inodes slow ext4's next creates (curl_pass)."""
    import hashlib
    import threading
    root = f"{work}/writefloor"
    os.makedirs(f"{root}/tmp")
    workers = len(os.sched_getaffinity(0))
    folders, failures = set(), []

    def write(path, data, sync):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, data)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)

    def run(part):
        try:
            for p in part:
                with open(f"{fetched}/{p}", "rb") as f:
                    data = f.read()
                digest = hashlib.sha256(data).hexdigest()
                folder = f"{root}/blobs/{digest[:2]}"
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
                temp = f"{root}/tmp/{digest}"
                write(temp, data, True)
                try:
                    os.link(temp, f"{folder}/{digest}")
                except FileExistsError:
                    pass
                os.unlink(temp)
                stem = os.path.splitext(p)[0]
                for name in (f"raw/{p}", f"parsed/{stem}.md", f"parsed/{stem}.json"):
                    final = f"{root}/{name}"
                    os.makedirs(os.path.dirname(final), exist_ok=True)
                    write(final + ".tmp", data, False)
                    os.rename(final + ".tmp", final)
        except OSError as e:
            failures.append(e)

    # Warm the page cache, as the fetch floor's files are when mirrord's bodies arrive.
    for p in paths:
        with open(f"{fetched}/{p}", "rb") as f:
            f.read()
    t = time.perf_counter()
    threads = [threading.Thread(target=run, args=(paths[k::workers],)) for k in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for folder in sorted(folders):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        os.fsync(fd)
        os.close(fd)
    seconds = time.perf_counter() - t
    if failures:
        raise SystemExit(f"write floor failed: {failures[0]}")
    return seconds


def perf(step):
    """SCALE_PERF=STEP:FILE (cold, resync, delta, reparse or compact) records that step with
    `perf record -g` for profiling; the figures of a recorded step are not comparable."""
    want = os.environ.get("SCALE_PERF", "")
    if want.split(":", 1)[0] != step:
        return []
    return ["perf", "record", "-g", "-o", want.split(":", 1)[1]]


def run_mirrord(args, env=None):
    """Runs a mirrord process to completion; returns (seconds, rusage). Fails on exit ≠ 0."""
    t = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    stderr_lines = []
    for line in proc.stderr:
        stderr_lines.append(line)
        if len(stderr_lines) > 50:
            stderr_lines.pop(0)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(b"".join(stderr_lines).decode(errors="replace"))
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode}")
    return seconds, usage


def write_config(work, port, name):
    state = f"{work}/{name}"
    path = f"{state}.toml"
    with open(path, "w") as f:
        f.write(f"""
state_dir = "{state}/state"
mirror_dir = "{state}/mirror"
control_socket = "{state}/control.sock"
poll_interval = "1h"

[http]
user_agent = "mirrord-bench"
concurrency = {PARALLEL}
per_host_concurrency = {PARALLEL}

[[source]]
name = "bench"
start = ["http://127.0.0.1:{port}/README.md"]
index_links = ["indexes/*.md"]
article_links = ["pages/**/*.md"]
ignore_query = ["t"]
assets = false
""")
    return path, state


def last_run(state):
    db = sqlite3.connect(f"file:{state}/state/mirror.sqlite3?mode=ro", uri=True)
    row = db.execute("SELECT fetched, not_modified, new_documents, new_versions, new_revisions, errors FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    totals = db.execute("SELECT COUNT(*), SUM(kind='article'), SUM(kind='index') FROM documents").fetchone()
    raw = db.execute("SELECT COALESCE(SUM(size), 0), COUNT(*) FROM versions").fetchone()
    article_revisions = db.execute(
        "SELECT COUNT(*) FROM versions v JOIN documents d ON d.id = v.document_id "
        "WHERE d.kind = 'article' AND v.revision IS NOT NULL AND v.run_id = (SELECT MAX(id) FROM runs)").fetchone()[0]
    db.close()
    keys = ["fetched", "not_modified", "new_documents", "new_versions", "new_revisions", "errors"]
    return dict(zip(keys, row), article_revisions=article_revisions), {"documents": totals[0], "articles": totals[1], "indexes": totals[2],
                                  "raw_bytes": raw[0], "versions": raw[1]}


def tree_bytes(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except FileNotFoundError:
                pass
    return total


def expect(what, got, want):
    if got != want:
        raise SystemExit(f"benchmark check failed: {what}: got {got}, expected {want}")


def socket_status(path):
    """GET /v1/status straight on the control socket (no client process): (ms, parsed JSON)."""
    t = time.perf_counter()
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(path)
        s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    ms = (time.perf_counter() - t) * 1000
    head, _, body = data.partition(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n")[0]:
        raise SystemExit(f"GET /v1/status: {head[:80]!r}")
    return ms, json.loads(body)


def status_during_cold_mirror(binaries, config, state):
    """Starts the daemon on an empty store and, every 200 ms until its startup run has
    finished, times `mirrorctl status --json` (a whole client process) and a bare
    GET /v1/status on the socket. Returns (client ms, socket ms, cold seconds, VmHWM KiB)."""
    latencies, direct = [], []
    t0 = time.perf_counter()
    deadline = t0 + 1800  # half an hour: far beyond any size this harness runs, never endless
    daemon = subprocess.Popen([f"{binaries}/mirrord", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hwm = 0
    try:
        while True:
            time.sleep(0.2)
            if time.perf_counter() > deadline:
                raise SystemExit("the daemon's startup run did not finish in time (status run)")
            if daemon.poll() is not None:
                raise SystemExit(f"mirrord exited {daemon.returncode} during the status run")
            t = time.perf_counter()
            r = subprocess.run([f"{binaries}/mirrorctl", "--config", config, "status", "--json"], capture_output=True, text=True)
            ms = (time.perf_counter() - t) * 1000
            if r.returncode != 0:
                continue  # the socket is not up yet
            latencies.append(ms)
            ms, s = socket_status(f"{state}/control.sock")
            direct.append(ms)
            with open(f"/proc/{daemon.pid}/status") as f:
                hwm = max([hwm] + [int(l.split()[1]) for l in f if l.startswith("VmHWM:")])
            if s["state"] == "idle" and s.get("last_run") and s["last_run"].get("finished"):
                return latencies, direct, time.perf_counter() - t0, hwm
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)


def bench(binaries, n, work):
    site = f"{work}/site"
    t = time.perf_counter()
    sitegen.generate(site, n)
    gen_seconds = time.perf_counter() - t
    nginx = Nginx(work, site)
    base = f"http://127.0.0.1:{nginx.port}"
    rows = {}
    try:
        paths = sitegen.paths(site)
        site_bytes = sum(os.path.getsize(f"{site}/{p}") for p in paths)
        sizes = sorted(os.path.getsize(f"{site}/{p}") for p in paths if p.startswith("pages/"))

        fetch_s, codes, _ = curl_pass(work, "floor", base, paths, passes=3)
        expect("fetch floor statuses", codes, {"200": len(paths)})
        write_s = write_floor(work, f"{work}/floor", paths)
        config, state = write_config(work, nginx.port, "mirror")
        cold_s, cold_ru = run_mirrord(perf("cold") + [f"{binaries}/mirrord", "--config", config, "--once"])
        run, totals = last_run(state)
        expect("cold: articles", totals["articles"], n)
        expect("cold: errors", run["errors"], 0)
        store_cold = tree_bytes(f"{state}/state")
        blobs_cold = tree_bytes(f"{state}/state/blobs")
        raw_cold = totals["raw_bytes"]

        etags = {p: etag(f"{site}/{p}") for p in paths}
        reval_s, codes, _ = curl_pass(work, "reval", base, paths, etags, passes=3)
        expect("revalidation floor statuses", codes, {"304": len(paths)})
        before = tree_bytes(f"{state}/mirror")
        resync_s, resync_ru = run_mirrord(perf("resync") + [f"{binaries}/mirrord", "--config", config, "--once", "--all"])
        run, totals = last_run(state)
        expect("resync: not modified", run["not_modified"], len(paths))
        expect("resync: new versions", run["new_versions"], 0)
        expect("resync: mirror tree bytes", tree_bytes(f"{state}/mirror"), before)

        edited, added = sitegen.delta(site)
        new_paths = sitegen.paths(site)
        delta_floor_s, codes, delta_bytes = curl_pass(work, "delta", base, new_paths, etags)
        changed = len(new_paths) - codes.get("304", 0)
        delta_s, delta_ru = run_mirrord(perf("delta") + [f"{binaries}/mirrord", "--config", config, "--once", "--all"])
        run, totals = last_run(state)
        expect("delta: new documents (articles and any new index)", run["new_documents"], len(new_paths) - len(paths))
        expect("delta: new article revisions", run["article_revisions"], edited + added)
        expect("delta: articles", totals["articles"], n + added)

        reparse_s, reparse_ru = run_mirrord(perf("reparse") + [f"{binaries}/mirrord", "--config", config, "--reparse", "--all"])
        run2, totals2 = last_run(state)
        expect("reparse: versions unchanged", totals2["versions"], totals["versions"])

        url = f"{base}/{sitegen.article_path(0)}"
        diffs = []
        for _ in range(5):
            t = time.perf_counter()
            r = subprocess.run([f"{binaries}/mirrorctl", "--config", config, "diff", url], capture_output=True, text=True)
            diffs.append((time.perf_counter() - t) * 1000)
            if r.returncode != 0 or not r.stdout.strip():
                raise SystemExit(f"mirrorctl diff {url} failed: {r.stderr.strip()}")
        store_delta = tree_bytes(f"{state}/state")

        # The daemon does this by itself when idle; `--compact` does it all at once.
        compact_s, compact_ru = run_mirrord(perf("compact") + [f"{binaries}/mirrord", "--config", config, "--compact"])
        store_compact = tree_bytes(f"{state}/state")
        verify = subprocess.run([f"{binaries}/mirrorctl", "--config", config, "verify"], capture_output=True, text=True)
        if verify.returncode != 0:
            raise SystemExit(f"mirrorctl verify after --compact failed: {verify.stdout.strip()} {verify.stderr.strip()}")

        config2, state2 = write_config(work, nginx.port, "daemon")
        latencies, direct, daemon_cold_s, hwm = status_during_cold_mirror(binaries, config2, state2)

        rss = max(cold_ru.ru_maxrss, resync_ru.ru_maxrss, delta_ru.ru_maxrss, reparse_ru.ru_maxrss, compact_ru.ru_maxrss, hwm)
        rows = {
            "n": n, "urls": len(paths), "site_mb": site_bytes / 1e6, "median_kb": sizes[len(sizes) // 2] / 1e3,
            "max_kb": sizes[-1] / 1e3, "gen_s": gen_seconds,
            "fetch_floor_s": fetch_s, "write_floor_s": write_s, "cold_s": cold_s, "cold_cpu_s": cold_ru.ru_utime + cold_ru.ru_stime,
            "reval_floor_s": reval_s, "resync_s": resync_s,
            "delta_floor_s": delta_floor_s, "delta_s": delta_s, "delta_changed": changed, "edited": edited, "added": added,
            "reparse_s": reparse_s, "reparse_mb": totals["raw_bytes"] / 1e6, "reparse_versions": totals["versions"],
            "diff_ms": statistics.median(diffs), "diff_kb": os.path.getsize(f"{site}/{sitegen.article_path(0)}") / 1e3,
            "rss_mib": rss / 1024, "rss_cold_mib": cold_ru.ru_maxrss / 1024, "rss_reparse_mib": reparse_ru.ru_maxrss / 1024,
            "rss_daemon_mib": hwm / 1024,
            "store_cold": store_cold, "blobs_cold": blobs_cold, "raw_cold": raw_cold, "store_delta": store_delta, "raw_delta": totals["raw_bytes"],
            "store_compact": store_compact, "compact_s": compact_s, "compact_cpu_s": compact_ru.ru_utime + compact_ru.ru_stime,
            "rss_compact_mib": compact_ru.ru_maxrss / 1024,
            "mirror_tree": tree_bytes(f"{state}/mirror"),
            "status_p50_ms": statistics.median(latencies), "status_max_ms": max(latencies), "status_n": len(latencies),
            "socket_p50_ms": statistics.median(direct), "socket_max_ms": max(direct),
            "daemon_cold_s": daemon_cold_s,
        }
    finally:
        nginx.stop()
    return rows


def table(results):
    r0 = results[0]
    cols = [r["n"] for r in results]
    lines = [f"{'N articles':<44}" + "".join(f"{c:>20,}" for c in cols) + "   target"]

    def row(label, fmt, target=""):
        lines.append(f"{label:<44}" + "".join(f"{fmt(r):>20}" for r in results) + f"   {target}")

    row("site: URLs / MB (median, max page KB)", lambda r: f"{r['urls']} / {r['site_mb']:.0f} ({r['median_kb']:.1f}, {r['max_kb']:.0f})")
    row("fetch floor: curl --parallel-max 32", lambda r: f"{r['fetch_floor_s']:.2f} s")
    row("write floor: blob+fsync, raw, .md, .json", lambda r: f"{r['write_floor_s']:.2f} s {r['write_floor_s'] / r['fetch_floor_s']:.1f}×")
    row("cold mirror (mirrord --once)", lambda r: f"{r['cold_s']:.2f} s {r['cold_s'] / r['fetch_floor_s']:.1f}×", "≤ 6× fetch floor (aim 2×)")
    row("  to fetch + write floors", lambda r: f"{r['cold_s'] / (r['fetch_floor_s'] + r['write_floor_s']):.1f}×")
    row("  its CPU time (user+sys)", lambda r: f"{r['cold_cpu_s']:.2f} s")
    row("revalidation floor: curl If-None-Match", lambda r: f"{r['reval_floor_s']:.2f} s")
    row("resync, nothing changed (--once --all)", lambda r: f"{r['resync_s']:.2f} s {r['resync_s'] / r['reval_floor_s']:.1f}×", "≤ 1.5× revalidation floor")
    row("delta floor: curl, old ETags", lambda r: f"{r['delta_floor_s']:.2f} s")
    row("hourly delta (--once --all)", lambda r: f"{r['delta_s']:.2f} s {r['delta_s'] / r['delta_floor_s']:.1f}×")
    row("  changes found: edited + added", lambda r: f"{r['edited']} + {r['added']}")
    row("reparse of all stored versions", lambda r: f"{r['reparse_s']:.2f} s {r['reparse_mb'] / r['reparse_s']:.1f} MB/s")
    row("diff: mirrorctl diff, two revisions", lambda r: f"{r['diff_ms']:.0f} ms ({r['diff_kb']:.0f} KB)")
    row("peak RSS of mirrord (any run)", lambda r: f"{r['rss_mib']:.1f} MiB", f"≤ 64 MiB, < 20 % growth")
    row("  cold / reparse / daemon", lambda r: f"{r['rss_cold_mib']:.0f}/{r['rss_reparse_mib']:.0f}/{r['rss_daemon_mib']:.0f}")
    row("store (state_dir) / raw bytes, cold", lambda r: f"{r['store_cold'] / r['raw_cold']:.2f}×")
    row("  blobs (with dictionaries) / database", lambda r: f"{r['blobs_cold'] / r['raw_cold']:.2f}× / {(r['store_cold'] - r['blobs_cold']) / r['raw_cold']:.2f}×")
    row("  after the delta", lambda r: f"{r['store_delta'] / r['raw_delta']:.2f}×")
    row("  after mirrord --compact (zstd 19)", lambda r: f"{r['store_compact'] / r['raw_delta']:.2f}×", "≤ 0.35×")
    row("  its time (CPU); peak RSS", lambda r: f"{r['compact_s']:.1f} s ({r['compact_cpu_s']:.1f}); {r['rss_compact_mib']:.0f} MiB")
    row("mirror tree (raw/ + parsed/) / raw", lambda r: f"{r['mirror_tree'] / r['raw_delta']:.2f}×")
    row("mirrorctl status during a cold mirror", lambda r: f"{r['status_p50_ms']:.0f}/{r['status_max_ms']:.0f} ms", "< 20 ms (p50/max)")
    row("  GET /v1/status on the socket", lambda r: f"{r['socket_p50_ms']:.1f}/{r['socket_max_ms']:.1f} ms")
    row("  samples; daemon cold mirror", lambda r: f"{r['status_n']}; {r['daemon_cold_s']:.1f} s")
    if len(results) > 1:
        growth = results[-1]["rss_mib"] / r0["rss_mib"] - 1
        lines.append(f"{'peak RSS growth, first N to last N':<44}{growth * 100:>20.0f} %")
    return "\n".join(lines)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binaries = os.path.abspath(sys.argv[1])
    for tool in ("nginx", "curl"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install -y nginx-light curl")
    results, works = [], []
    try:
        for n in (int(a) for a in sys.argv[2:]):
            works.append(tempfile.mkdtemp(prefix=f"mirrord-scale-{n}-"))
            print(f"N={n}: generating the site, then floors and mirrord runs (work dir {works[-1]})", file=sys.stderr, flush=True)
            results.append(bench(binaries, n, works[-1]))
    finally:
        # Only at the end (see curl_pass): SCALE_KEEP=1 keeps them for a look.
        for work in works if not os.environ.get("SCALE_KEEP") else []:
            shutil.rmtree(work, ignore_errors=True)
    print(table(results))
    if os.environ.get("SCALE_JSON"):
        with open(os.environ["SCALE_JSON"], "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
