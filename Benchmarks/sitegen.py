"""Generates a seed-format upstream (README -> indexes -> article pages) for the scale benchmark.

Shape (DESIGN.md, "The upstream it mirrors"): README.md links to indexes/<n>.md, each index
lists up to 100 articles as `#### [Title](../pages/<channel>/<id>.md?t=<token>)`, and each
article page is Markdown with the embedded HTML blocks of the seed pages: title, link-only
navigation and promotion lines, a lead figure, a body <div> of partly unclosed <p>s with
unknown inline tags, a dateline, an editor line, the share block, the original-address line
and a zero-size tracking image. Text is random CJK characters: synthetic, copied from nowhere.

Sizes are like a real upstream: log-normal with a median of about 9 KB, plus a tail of 0.2 %
of pages between 200 KB and 2 MB; article 0 has 100 KB and is edited by every delta. Everything derives from `seed`, so a run is repeatable.

    python3 sitegen.py DIR N           generate N articles into DIR
    python3 sitegen.py DIR --delta     the next hourly delta: new index tokens, 1 % of the
                                       articles edited, 0.1 % added (prints "edited E added A")
"""
import json
import math
import os
import random
import sys

# 300 common characters; sentences are random draws, so no text is anyone's.
POOL = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经"
    "十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形"
    "相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展"
    "五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战"
    "先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白"
    "教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且"
)
CHANNELS = 20
PER_INDEX = 100


def _vocabulary():
    """4,000 "words" of 1-4 characters drawn from POOL, with Zipf weights (1/rank), so text
    repeats itself the way language does and compresses like real pages."""
    rng = random.Random(4242)
    words = ["".join(rng.choice(POOL) for _ in range(rng.choice((1, 2, 2, 2, 3, 4)))) for _ in range(4000)]
    weights, total = [], 0.0
    for rank in range(len(words)):
        total += 1.0 / (rank + 3)
        weights.append(total)
    return words, weights


WORDS, CUM_WEIGHTS = _vocabulary()


def text(rng, n):
    """About n characters of word salad with commas and full stops."""
    out, size = [], 0
    while size < n:
        for w in rng.choices(WORDS, cum_weights=CUM_WEIGHTS, k=rng.randint(6, 14)):
            out.append(w)
            size += len(w)
        out.append(rng.choice("，，，。"))
        size += 1
    return "".join(out)[:n]


def page_size_target(rng):
    if rng.random() < 0.002:
        return rng.randint(200_000, 2_000_000)
    return int(min(2_000_000, max(1_500, rng.lognormvariate(math.log(9_000), 0.75))))


def article_path(i):
    return f"pages/{i % CHANNELS}/{100000 + i}.md"


def article(i, size, edit=0):
    """The page of article i, about `size` bytes; `edit` > 0 changes one paragraph's text."""
    rng = random.Random(i * 7919 + 17)
    title = text(rng, rng.randint(10, 22))
    ch = i % CHANNELS
    year, month, day = 2026, 1 + i % 12, 1 + i % 28
    head = [
        f"### {title}", "------------------------", "",
        f"#### [首页](../../README.md)  &nbsp;&nbsp;|&nbsp;&nbsp; [频道{ch}](../../indexes/{ch}.md)   &nbsp;&nbsp;|&nbsp;&nbsp; [投稿](https://help.example.net/README.md)",
        "", "",
        f'<div><img alt="{text(rng, 8)}" src="https://img.example.org/{year}/{i}.jpeg"/>',
        f'<br/><figcaption class="caption">\n {text(rng, 20)}\n</figcaption></div><hr/>', "",
        f"#### [ 📮 {text(rng, 8)}](https://promo.example.net/a/README.md) &nbsp; | &nbsp;[{text(rng, 4)}](https://promo.example.net/b/README.md)",
        "",
        '<div><div class="Content__Wrapper sc-4x8p2-0 dMoRtz">',
        ' <p class="meta-top">', '  <span class="meta">',
        f"   【{text(rng, 4)}日报{year}年{month}月{day}日】（本报记者{text(rng, 3)}报道）",
        "  </span>", f"  {text(rng, 60)}", " </p>",
    ]
    tail = [
        ' <p class="meta-btm">', f"  责任编辑：{text(rng, 3)}", " </p>", "</div>", "</div>", "<hr/>",
        "手机上长按复制下列链接或二维码分享本文：<br/>",
        f"https://share.example.net/{article_path(i)} <br/>",
        f"<a href='https://share.example.net/{article_path(i)}'><img src='https://qr.example.net/{article_path(i)}.png'/></a> <br/>",
        f"原文地址：https://origin.example.org/post/{100000 + i}", "", "",
        "------------------------",
        f"#### [首页](../../README.md)  &nbsp;&nbsp;|&nbsp;&nbsp; [频道{ch}](../../indexes/{ch}.md)",
        "", "",
        f"<img src='http://track.example.net/px/{article_path(i)}' width='0px' height='0px'/>",
    ]
    body = []
    used = sum(len(s.encode()) + 1 for s in head + tail)
    k = 0
    while used < size or k < 3:  # at least three paragraphs: an edit (of the second) shows
        n = rng.randint(40, 220)
        p = text(rng, n)
        if edit and k == 1:
            p = text(random.Random(edit * 104729 + i), n)  # the edited paragraph
        if k % 5 == 3:
            cut = n // 2
            lines = [" <p>", f"  {p[:cut]}", f'  <ok href="/term/{k}">', f"   {text(rng, 3)}", "  </ok>", f"  {p[cut:]}"]
        else:
            lines = [" <p>", f"  {p}"]
        if k % 3 != 1:
            lines.append(" </p>")
        body += lines
        used += sum(len(s.encode()) + 1 for s in lines)
        k += 1
    return "\n".join(head + body + tail) + "\n"


def write(path, data):
    """Atomically; a rewritten file's mtime moves on by at least a second, because nginx's
    ETag is `"<mtime in seconds>-<size>"` and an edit keeps the size (every character is three
    bytes), so a rewrite within the same second would otherwise keep its ETag."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    old = os.stat(path).st_mtime if os.path.exists(path) else None
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(data)
    os.replace(tmp, path)
    if old is not None and os.stat(path).st_mtime < old + 1:
        os.utime(path, (old + 1, old + 1))


def write_indexes(root, state):
    token = f"{state['hour']:08d}"
    count = state["count"]
    n_indexes = (count + PER_INDEX - 1) // PER_INDEX
    readme = ["# 合成新闻站", "", "一个用于基准测试的合成站点。", ""]
    for x in range(n_indexes):
        readme += [f"#### [目录{x}](indexes/{x}.md?t={token})", ""]
        lines = [f"### 目录{x}", "------------------------", "", "#### [首页](../README.md)", ""]
        for i in range(x * PER_INDEX, min(count, (x + 1) * PER_INDEX)):
            title = text(random.Random(i * 7919 + 17), 12)
            lines += [f"#### [{title}](../{article_path(i)}?t={token})", ""]
        write(f"{root}/indexes/{x}.md", "\n".join(lines))
    write(f"{root}/README.md", "\n".join(readme))


def generate(root, count, seed=1):
    rng = random.Random(seed)
    sizes = [page_size_target(rng) for _ in range(count)]
    sizes[0] = 100_000  # article 0: the 100 KB page every delta edits (the diff figure)
    state = {"count": count, "hour": 1, "sizes": sizes, "edits": {}}
    for i in range(count):
        write(f"{root}/{article_path(i)}", article(i, sizes[i]))
    write_indexes(root, state)
    save(root, state)


def delta(root):
    """One hourly regeneration: every index rewritten with a new token, 1 % of the articles
    edited (one paragraph each), 0.1 % added. Returns (edited, added)."""
    state = load(root)
    state["hour"] += 1
    rng = random.Random(state["hour"] * 31337)
    count = state["count"]
    edited = [0] + rng.sample(range(1, count), max(1, count // 100) - 1)
    for i in edited:
        e = state["edits"].get(str(i), 0) + state["hour"]
        state["edits"][str(i)] = e
        write(f"{root}/{article_path(i)}", article(i, state["sizes"][i], edit=e))
    added = max(1, count // 1000)
    for i in range(count, count + added):
        state["sizes"].append(page_size_target(rng))
        write(f"{root}/{article_path(i)}", article(i, state["sizes"][i]))
    state["count"] = count + added
    write_indexes(root, state)
    save(root, state)
    return len(edited), added


def paths(root):
    state = load(root)
    n_indexes = (state["count"] + PER_INDEX - 1) // PER_INDEX
    return ["README.md"] + [f"indexes/{x}.md" for x in range(n_indexes)] + [article_path(i) for i in range(state["count"])]


def save(root, state):
    with open(f"{root}/.sitegen.json", "w") as f:
        json.dump(state, f)


def load(root):
    with open(f"{root}/.sitegen.json") as f:
        return json.load(f)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[2] != "--delta":
        generate(sys.argv[1], int(sys.argv[2]))
    elif len(sys.argv) == 3:
        e, a = delta(sys.argv[1])
        print(f"edited {e} added {a}")
    else:
        sys.exit(__doc__)
