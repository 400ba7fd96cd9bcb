#!/usr/bin/python3
"""Side-by-side table of netmarl's peer benchmarks against PyTorch eager (and the machine's SGEMM).

Inputs:
  --ours   Google Benchmark JSON files of the bench_peers_* binaries (names
           `<kernel>_<mode>/<backend>/N:<n>/B:<b>`, counter FLOPS = the torch script's flop count
           per call as a rate).
  --torch  the JSON lines ../shared/peers/torch_kernels.py printed (kernels qmix, qtran, gnn_mf,
           dgn, gemm), run in the same session.
Output: a Markdown table on stdout (or --markdown FILE) and, with --plot FILE.png, a gnuplot bar
chart of the speed-up over PyTorch per kernel and shape.

Targets (the kernels issue): GEMM-dominated shapes (gnn_mf, loopy_bp, dgn everywhere; qmix and
qtran at B = 1600) need >= 70 % of the best SGEMM throughput on the shape of their dominant product;
overhead-dominated shapes (qmix and qtran at B = 32, N <= 20) need >= 5x PyTorch eager. The SGEMM
reference is the higher of torch.mm's GFLOP/s at (rows, 128, 128) in the same run and the best
figure in ../shared/peers/RESULTS.md for that shape, rows the nearest of 32, 1600 and 39200 to the
kernel's row count.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile

NAME = re.compile(r"^(?P<kernel>[a-z_]+?)_(?P<mode>fwd_bwd|fwd)/(?P<backend>[a-z0-9_<>]+)"
                  r"/N:(?P<N>\d+)/B:(?P<B>\d+)")


def load_ours(paths):
    """{(kernel, mode, N, B): {backend: (median us, GFLOP/s)}}."""
    runs = {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        for b in data.get("benchmarks", []):
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            m = NAME.match(b.get("run_name", b["name"]))
            if not m:
                continue
            scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b.get("time_unit", "ns")]
            us = b["real_time"] * scale
            gflops = b.get("FLOPS", 0.0) * 1e-9
            key = (m["kernel"], m["mode"], int(m["N"]), int(m["B"]))
            entry = runs.setdefault(key, {})
            # Repetitions without aggregates: keep the fastest median-free sample set's minimum.
            if m["backend"] not in entry or b.get("aggregate_name") == "median":
                entry[m["backend"]] = (us, gflops)
    return runs


# Torch variants that compute a different network from ours (QMIX with one-layer hypernetworks).
# The others are implementations of the same network (sparse COO, CSR or index_add neighbour sums;
# gathered or dense-masked attention): the fastest is the peer.
OTHER_NETWORK = {("qmix", "hypernet1")}


def load_torch(path):
    """({(kernel, mode, N, B): (best median us, variant)}, {(m, n, k): GFLOP/s})."""
    kernels, gemm = {}, {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            if "time_us_median" not in r:
                continue
            p = r["params"]
            if r["kernel"] == "gemm":
                gemm[(p["m"], p["n"], p["k"])] = r["gflops_median"]
                continue
            if (r["kernel"], r["variant"]) in OTHER_NETWORK:
                continue
            key = (r["kernel"], r["mode"], int(p["N"]), int(p["B"]))
            if key not in kernels or r["time_us_median"] < kernels[key][0]:
                kernels[key] = (r["time_us_median"], r["variant"])
    return kernels, gemm


def dominant_rows(kernel, N, B):
    # Rows of the largest product: one row per (sample, agent) for the graph layers, one per sample
    # for the mixers' hypernetworks.
    return N * B if kernel in ("gnn_mf", "loopy_bp", "dgn") else B


# The best single-thread FP32 SGEMM measured on this machine kind (../shared/peers/RESULTS.md:
# oneDNN or OpenBLAS at (rows, 128, 128)). A run's own torch.mm figure can be lower (shared host,
# clock drift); the target is judged against the higher of the two, never the easier one.
SGEMM_CEILING = {32: 121.0, 1600: 106.0, 39200: 88.0}


def sgemm_reference(gemm, rows):
    """(GFLOP/s, rows of the shape used, source) of the SGEMM the kernel is judged against."""
    measured = {m: g for (m, n, k), g in gemm.items() if n == 128 and k == 128}
    shapes = sorted(set(measured) | set(SGEMM_CEILING))
    m = min(shapes, key=lambda c: abs(math.log(c) - math.log(rows)))
    in_run, ceiling = measured.get(m, 0.0), SGEMM_CEILING.get(m, 0.0)
    if in_run >= ceiling:
        return in_run, m, "this run"
    return ceiling, m, "RESULTS.md"


def target_of(kernel, N, B):
    if kernel in ("gnn_mf", "loopy_bp", "dgn") or B >= 1600:
        return "sgemm70"
    if kernel in ("qmix", "qtran") and B <= 32 and N <= 20:
        return "torch5x"
    return None


def build_rows(ours, torch_kernels, gemm):
    rows = []
    for key in sorted(ours, key=lambda k: (k[0], k[1], k[3], k[2])):
        kernel, mode, N, B = key
        entry = ours[key]
        simd = entry.get("simd")
        ref = entry.get("reference")
        if simd is None:
            continue
        t = torch_kernels.get(key)
        sg = sgemm_reference(gemm, dominant_rows(kernel, N, B))
        speedup = t[0] / simd[0] if t else None
        of_sgemm = simd[1] / sg[0] if sg and simd[1] > 0 else None
        target = target_of(kernel, N, B)
        met = None
        if target == "torch5x" and speedup is not None:
            met = speedup >= 5.0
        elif target == "sgemm70" and of_sgemm is not None:
            met = of_sgemm >= 0.70
        rows.append(dict(kernel=kernel, mode=mode, N=N, B=B, simd_us=simd[0], simd_gflops=simd[1],
                         ref_us=ref[0] if ref else None, torch_us=t[0] if t else None,
                         torch_variant=t[1] if t else None, speedup=speedup,
                         sgemm=sg[0] if sg else None, sgemm_rows=sg[1] if sg else None,
                         sgemm_source=sg[2] if sg else None,
                         of_sgemm=of_sgemm, target=target, met=met))
    return rows


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def markdown(rows):
    out = ["| kernel | mode | N | B | ours simd (us) | ours reference (us) | PyTorch (us) | "
           "PyTorch / ours | ours GFLOP/s | SGEMM GFLOP/s (rows) | % of SGEMM | target | met |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        target = {"sgemm70": ">= 70% SGEMM", "torch5x": ">= 5x torch", None: "-"}[r["target"]]
        met = {True: "yes", False: "**no**", None: "-"}[r["met"]]
        sg = "-" if r["sgemm"] is None else f"{r['sgemm']:.0f} ({r['sgemm_rows']}, {r['sgemm_source']})"
        out.append(f"| {r['kernel']} | {r['mode']} | {r['N']} | {r['B']} | {fmt(r['simd_us'], '.1f')} | "
                   f"{fmt(r['ref_us'], '.1f')} | {fmt(r['torch_us'], '.1f')} | "
                   f"{fmt(r['speedup'], '.2f')} | {fmt(r['simd_gflops'], '.1f')} | {sg} | "
                   f"{fmt(None if r['of_sgemm'] is None else 100 * r['of_sgemm'], '.0f')} | "
                   f"{target} | {met} |")
    return "\n".join(out) + "\n"


def plot(rows, path):
    points = [r for r in rows if r["speedup"] is not None]
    if not points:
        return
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "speedup.dat")
        with open(data, "w") as f:
            for r in points:
                f.write(f"\"{r['kernel']} {r['mode']} N{r['N']} B{r['B']}\" {r['speedup']:.4f}\n")
        script = f"""
set terminal pngcairo noenhanced size 1400,{400 + 14 * len(points)} font ",10"
set output "{path}"
set title "netmarl simd vs PyTorch eager, 1 thread (time ratio; > 1: netmarl faster)"
set style fill solid 0.8
set boxwidth 0.7
set logscale x 2
set xlabel "PyTorch time / netmarl time"
set ytics nomirror
set grid xtics
unset key
set yrange [-1:{len(points)}]
set arrow from 1, graph 0 to 1, graph 1 nohead dt 2
set arrow from 5, graph 0 to 5, graph 1 nohead dt 3 lc rgb "red"
plot "{data}" using (0.5*($2+1)):0:(1):($2):($0-0.35):($0+0.35):ytic(1) with boxxyerror
"""
        try:
            subprocess.run(["gnuplot"], input=script, text=True, check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"compare_torch: no plot ({e})", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", nargs="+", required=True, help="bench_peers_*.json files")
    ap.add_argument("--torch", required=True, help="torch_kernels.py JSON lines")
    ap.add_argument("--markdown", help="write the table here instead of stdout")
    ap.add_argument("--json", help="write the rows as JSON here")
    ap.add_argument("--plot", help="write a PNG bar chart of the speed-ups here (gnuplot)")
    a = ap.parse_args()
    ours = load_ours(a.ours)
    if not ours:
        sys.exit("compare_torch: no <kernel>_<mode>/<backend>/N:/B: benchmarks in " + " ".join(a.ours))
    torch_kernels, gemm = load_torch(a.torch)
    rows = build_rows(ours, torch_kernels, gemm)
    table = markdown(rows)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(table)
    else:
        sys.stdout.write(table)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    if a.plot:
        plot(rows, a.plot)


if __name__ == "__main__":
    main()
