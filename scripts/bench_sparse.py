#!/usr/bin/env python3
"""Sparse-gather benchmark sweep (`make bench-sparse`).

Runs `tessera bench spmm --json` at 256x256x256 on the default engine: a sparse B
(SPGEMM) at unstructured densities from 1 % to 100 % and in the 2:4 and 1:4 formats, and
a sparse A (SPGEMMA: ReLU activations, 40-70 % zeros, so densities 30-60 %, plus 10 % and
100 %) with B dense. Writes
  build/bench/sparse.json   one object per run (the CLI's JSON line, as printed; its
                            "operand" says which operand was sparse, "a" or "b")
  build/bench/sparse.png    speedup over the dense path against density, a series per
                            operand, with the ideal 1/density line (matplotlib from the
                            project venv)
and prints the README table.

Usage: scripts/bench_sparse.py [--tessera PATH] [--out DIR] [--size S] [--no-plot]
Exit: 0 done; 1 a run failed; 2 bad usage.
"""
import argparse
import json
import os
import subprocess
import sys

DENSITIES = [0.01, 0.02, 0.05, 0.10, 0.25, 0.50, 0.75, 1.00]
FORMATS = ["2:4", "1:4"]
A_DENSITIES = [0.10, 0.30, 0.40, 0.50, 0.60, 1.00]


def run(tessera, size, extra):
    cmd = [tessera, "bench", "spmm", "--m", str(size), "--k", str(size), "--n", str(size),
           "--json", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench_sparse: {' '.join(cmd)} exited {proc.returncode}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def unstructured(operand):
        return sorted((r for r in results
                       if r["operand"] == operand and r["format"] == "unstructured"),
                      key=lambda r: r["density"])

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    ideal = unstructured("b")
    xs = [r["density"] * 100 for r in ideal]
    ax.plot(xs, [1 / r["density"] for r in ideal], "k--", label="ideal (1/density)")
    for operand, label in (("b", "sparse B, unstructured (SPGEMM)"),
                           ("a", "sparse A, unstructured (SPGEMMA)")):
        series = unstructured(operand)
        ax.plot([r["density"] * 100 for r in series], [r["speedup"] for r in series], "o-",
                label=label)
    for r in results:
        if r["format"] != "unstructured":
            ax.plot([r["density"] * 100], [r["speedup"]], "s", label="sparse B, " + r["format"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("density of the sparse operand (%)")
    ax.set_ylabel("speedup over the dense path")
    ax.set_title("Tessera SPGEMM / SPGEMMA, 256x256x256, 16x16 lanes")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tessera", default=os.path.join(root, "build", "bin", "tessera"))
    ap.add_argument("--out", default=os.path.join(root, "build", "bench"))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args()

    results = []
    for d in DENSITIES:
        results.append(run(args.tessera, args.size, ["--density", str(d)]))
    for f in FORMATS:
        results.append(run(args.tessera, args.size, ["--nm", f]))
    for d in A_DENSITIES:
        results.append(run(args.tessera, args.size, ["--a-density", str(d)]))

    os.makedirs(args.out, exist_ok=True)
    json_path = os.path.join(args.out, "sparse.json")
    with open(json_path + ".tmp", "w") as fh:
        json.dump(results, fh, indent=1)
    os.replace(json_path + ".tmp", json_path)

    print("| sparse | format | density | cycles | dense cycles | speedup | ideal | of ideal "
          "| utilization |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        ideal = 1 / r["density"] if r["density"] > 0 else float("inf")
        print(f"| {r['operand'].upper()} | {r['format']} | {r['density'] * 100:.3g} % | "
              f"{r['cycles']:,} | {r['dense_cycles']:,} | {r['speedup']:.2f} | {ideal:.1f} | "
              f"{r['speedup'] / ideal:.2f} | {r['utilization']:.3f} |")
    print(f"bench_sparse: {json_path}")
    if not args.no_plot:
        png = os.path.join(args.out, "sparse.png")
        plot(results, png + ".tmp.png")
        os.replace(png + ".tmp.png", png)
        print(f"bench_sparse: {png}")


if __name__ == "__main__":
    main()
