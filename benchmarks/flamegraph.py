#!/usr/bin/env python3
"""Renders a JFR recording's stack samples as a flame graph SVG (no dependencies but the JDK's `jfr`).

    benchmarks/flamegraph.py RECORDING.jfr OUT.svg [--title TEXT] [--threads REGEX] [--collapsed OUT.txt]

Reads `jfr print --events jdk.ExecutionSample,jdk.NativeMethodSample --stack-depth 96`:
ExecutionSample stacks (threads running Java code) and NativeMethodSample stacks (threads inside a
native method: blocked in fdatasync, write, park, epoll ...). Each sample is weighted by its event's
sampling period (JFR's "profile" settings: 10 ms for Java, 20 ms for native), so widths are
estimated thread time. Native samples are marked with a "[native]" frame under the thread's root.
The first level under "all" is the thread name (numbers stripped, so pools merge).

--threads keeps only threads whose name matches REGEX; --collapsed also writes the folded stacks
("root;frame;frame weight" lines, as Brendan Gregg's flamegraph.pl reads them).
"""
import argparse
import collections
import html
import re
import subprocess
import sys
import zlib

PERIOD_MS = {"jdk.ExecutionSample": 10, "jdk.NativeMethodSample": 20}
FRAME = re.compile(r"^\s+(.*?)(?:\s+line: \d+)?(?:\s+bci: \d+)?\s*$")


def read_samples(jfr_file, thread_filter):
    out = subprocess.run(
        ["jfr", "print", "--events", "jdk.ExecutionSample,jdk.NativeMethodSample", "--stack-depth", "96",
         jfr_file],
        check=True, capture_output=True, text=True).stdout
    folded = collections.Counter()
    event = thread = None
    frames = []
    in_stack = False
    for line in out.splitlines():
        s = line.strip()
        if s.endswith("{") and s.startswith("jdk."):
            event, thread, frames, in_stack = s[:-1].strip(), None, [], False
        elif s.startswith("sampledThread =") or s.startswith("sampledThread="):
            m = re.search(r'"(.*)"', s)
            thread = m.group(1) if m else "?"
        elif s.startswith("stackTrace = ["):
            in_stack = True
        elif in_stack and s == "]":
            in_stack = False
        elif in_stack:
            if s == "...":
                frames.append("[truncated]")
            else:
                m = FRAME.match(line)
                name = m.group(1) if m else s
                name = re.sub(r"\(.*\)$", "", name)  # drop parameter lists
                frames.append(name)
        elif s == "}" and event is not None:
            if thread is not None and (thread_filter is None or re.search(thread_filter, thread)):
                root = re.sub(r"[-#]?\d+", "", thread) or thread
                stack = [root]
                if event == "jdk.NativeMethodSample":
                    stack.append("[native]")
                stack.extend(reversed(frames))
                folded[";".join(stack)] += PERIOD_MS.get(event, 10)
            event = None
    return folded


def build_tree(folded):
    tree = {"name": "all", "value": 0, "children": {}}
    for stack, w in folded.items():
        node = tree
        node["value"] += w
        for f in stack.split(";"):
            node = node["children"].setdefault(f, {"name": f, "value": 0, "children": {}})
            node["value"] += w
    return tree


def color(name):
    h = zlib.crc32(name.encode()) & 0xFFFF
    if name.startswith("[native]") or "Native" in name or name.startswith("sun.nio.ch.FileDispatcherImpl"):
        return "rgb(%d,%d,%d)" % (200 + h % 55, 80 + h % 60, 60)        # red: native / kernel-bound
    if name.startswith("io.shale."):
        return "rgb(%d,%d,%d)" % (60 + h % 50, 150 + h % 60, 80)       # green: Shale
    if name.startswith(("java.", "jdk.", "sun.")):
        return "rgb(%d,%d,%d)" % (220, 150 + h % 60, 40 + h % 40)       # orange: JDK
    return "rgb(%d,%d,%d)" % (120 + h % 60, 120 + h % 60, 200 + h % 55)  # blue: other


def render(tree, title, width=1600, row=17):
    depth = [0]

    def measure(n, d):
        depth[0] = max(depth[0], d)
        for c in n["children"].values():
            measure(c, d + 1)

    measure(tree, 0)
    total = tree["value"] or 1
    top = 50
    height = top + (depth[0] + 1) * row + 30
    scale = (width - 20) / total
    parts = [
        '<?xml version="1.0" standalone="no"?>',
        '<svg version="1.1" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg" '
        'font-family="Verdana, sans-serif" font-size="11">' % (width, height),
        '<rect width="100%" height="100%" fill="rgb(250,250,245)"/>',
        '<text x="%d" y="22" font-size="16" text-anchor="middle">%s</text>' % (width // 2, html.escape(title)),
        '<text x="10" y="40" font-size="11" fill="rgb(90,90,90)">%s</text>' % html.escape(
            "width = estimated thread time (JFR samples x period, %d ms total); hover for details; "
            "red = native (I/O, park), green = io.shale, orange = JDK" % total),
    ]

    def draw(n, x, d):
        w = n["value"] * scale
        if w < 0.3:
            return
        y = height - 30 - (d + 1) * row
        pct = 100.0 * n["value"] / total
        label = n["name"]
        parts.append('<g><title>%s (%d ms, %.2f%%)</title><rect x="%.1f" y="%d" width="%.1f" height="%d" '
                     'fill="%s" rx="2"/>' % (html.escape(label), n["value"], pct, x, y, w, row - 1, color(label)))
        chars = int(w / 6.5)
        if chars >= 3:
            text = label if len(label) <= chars else label[:max(chars - 2, 1)] + ".."
            parts.append('<text x="%.1f" y="%d">%s</text>' % (x + 3, y + row - 5, html.escape(text)))
        parts.append("</g>")
        cx = x
        for c in sorted(n["children"].values(), key=lambda c: c["name"]):
            draw(c, cx, d + 1)
            cx += c["value"] * scale

    draw(tree, 10, 0)
    parts.append("</svg>")
    return "\n".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("jfr")
    ap.add_argument("svg")
    ap.add_argument("--title", default="Flame graph")
    ap.add_argument("--threads", default=None)
    ap.add_argument("--collapsed", default=None)
    a = ap.parse_args()
    folded = read_samples(a.jfr, a.threads)
    if not folded:
        sys.exit("no samples in " + a.jfr)
    if a.collapsed:
        with open(a.collapsed, "w") as f:
            for stack, w in sorted(folded.items()):
                f.write("%s %d\n" % (stack, w))
    with open(a.svg, "w") as f:
        f.write(render(build_tree(folded), a.title))


if __name__ == "__main__":
    main()
