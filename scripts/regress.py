#!/usr/bin/env python3
"""Seeded random regression of Tessera kernels over several array configurations.

Every seed becomes one kernel per kind and configuration: its shape, output mode and
data all follow from the seed, so a failure is reproduced by the one command printed for
it (`tessera gemm ... --check`, or `tessera spmm ... --check` for a sparse kernel). A
dense kernel runs the systolic array; a sparse one the sparse-gather path, its seed also
choosing the sparse operand (B through SPGEMM in 2:4, 1:4 or unstructured, or A through
SPGEMMA, unstructured) and, when unstructured, its density. A few more runs inject
faults into dense kernels (mutants) and must be caught by the checks; their share
caught is the mutation score. Results go to OUT/junit.xml and OUT/summary.json.

Kernels run in batches through the hidden `tessera regress-batch` command (many kernels
per process, each on a fresh engine), JOBS batches at a time.

Split a regression across machines with --shard K/N (K = 1..N): shard K runs every Nth
test, so the shards are disjoint, together complete, and similar in cost. Merge their
output directories afterwards with --merge (docs/debugging.md has CI and Slurm recipes).

After the kernels, the constrained-random command-stream testbench (cmd_stream_tb, built
from tests/rtl) runs --stream-commands commands on each --stream-configs engine, in
chunks of --stream-chunk commands with one seed each, every chunk one test with its own
reproduce command (--stream-commands 0 leaves it out).

Examples:
  scripts/regress.py                                  # 1000 seeds x 2 kinds x 2 configs
  scripts/regress.py --seeds 100 --configs 4x4 --jobs 2
  scripts/regress.py --kinds sparse --seeds 200       # the sparse path alone
  scripts/regress.py --shard 2/8 --out build/regress/shard2
  scripts/regress.py --merge build/regress/shard* --out build/regress
"""

import argparse
import concurrent.futures
import datetime
import json
import math
import os
import random
import re
import shlex
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MUTANT_CLASSES = ["pe-stuck0", "stream-in-drop", "stream-out-drop"]
KINDS = ["dense", "sparse"]
SPARSE_B_FORMATS = ["2:4", "1:4", "unstructured"]
SPARSE_DENSITIES = [0.0, 0.01, 0.1, 0.25, 0.5, 1.0]
SPARSE_MAX_K = 1024  # several of the runtime's K chunks (at most 256 each)
SCHEMA = 1
CYCLE_CAP = 250_000  # array row passes per kernel, bounds the slowest kernels


def fail_usage(message):
    print(f"regress: {message}", file=sys.stderr)
    sys.exit(2)


# ---- engines ---------------------------------------------------------------------------

class Engine:
    """One tessera binary and the configuration it was built for."""

    def __init__(self, config, binary, rows, cols, max_k):
        self.config, self.binary = config, binary
        self.rows, self.cols, self.max_k = rows, cols, max_k

    def command(self):
        """The binary as the user should type it from here: relative below the current
        directory, absolute elsewhere."""
        path = os.path.relpath(self.binary)
        if path.startswith(os.pardir):
            return os.path.abspath(self.binary)
        return path if os.sep in path else "./" + path


def engine_info(binary):
    out = subprocess.run([binary, "info"], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        return None
    array = re.search(r"array\s+(\d+) x (\d+)", out.stdout)
    max_k = re.search(r"max K per pass\s+(\d+)", out.stdout)
    if not array or not max_k:
        return None
    return int(array.group(1)), int(array.group(2)), int(max_k.group(1))


def find_engines(configs, bin_dir):
    """Maps each config (e.g. 4x4) to the binary built for it: bin/tessera-<config>, or
    bin/tessera when that is the config (the default build)."""
    engines, infos = {}, {}
    for config in configs:
        if not re.fullmatch(r"\d+x\d+", config):
            fail_usage(f"--configs: '{config}' is not ROWSxCOLS")
        for name in (f"tessera-{config}", "tessera"):
            binary = os.path.join(bin_dir, name)
            if not os.access(binary, os.X_OK):
                continue
            if binary not in infos:
                infos[binary] = engine_info(binary)
            info = infos[binary]
            if info and f"{info[0]}x{info[1]}" == config:
                engines[config] = Engine(config, binary, *info)
                break
        else:
            fail_usage(f"no tessera binary for config {config} in {bin_dir} "
                       f"(expected tessera-{config}; run `make build`)")
    return engines


# ---- the test list ---------------------------------------------------------------------

def dense_shape(seed, engine):
    """Shape and output mode of a seed's dense kernel on one engine (kernel_shape)."""
    rng = random.Random(seed * 1_000_003 + engine.rows * 131 + engine.cols)
    return kernel_shape(rng, engine, engine.max_k)


def kernel_shape(rng, engine, max_k):
    """Shape and output mode drawn from rng: a quarter at the tiling edges (1, R-1, R,
    R+1, ...), most small to medium, some large (log-uniform up to several accumulator
    banks of rows, K up to max_k, many column blocks), trimmed so that no kernel runs
    much past CYCLE_CAP array passes."""
    r, c = engine.rows, engine.cols

    def pick(edges, medium, large):
        roll = rng.random()
        if roll < 0.25:
            return rng.choice(edges)
        if roll < 0.75:
            return rng.randint(1, medium)
        return int(round(math.exp(rng.uniform(math.log(medium), math.log(large)))))

    m = pick([1, 2, r - 1, r, r + 1, r + c, 2 * r + c + 1], 4 * (r + c), 96 * r)
    k = min(pick([1, r - 1, r, r + 1, 2 * r, 3 * r + 1], 8 * r, max_k), max_k)
    n = pick([1, c - 1, c, c + 1, 2 * c + 1], 4 * c, 24 * c)
    m, k, n = max(1, m), max(1, k), max(1, n)
    # Every output row passes the array once per (row block, column block).
    while m > 1 and m * -(-k // r) * -(-n // c) > CYCLE_CAP:
        m = (m + 1) // 2
    # "single": requantized with TFLite's single rounding instead of the default double.
    mode = rng.choices(["raw", "requant", "relu", "single"], weights=[4, 3, 2, 2])[0]
    return m, k, n, mode


def sparse_kernel(seed, engine):
    """A seed's sparse kernel on one engine: kernel_shape's shape and mode (from a stream
    of its own, K up to SPARSE_MAX_K even where the dense path stops short of it, so that
    K runs over several of the runtime's chunks), then the sparse operand (B two times in
    three), B's format, and for an unstructured one its density: half of them from
    SPARSE_DENSITIES (empty, nearly empty, ..., full), half uniform to 0.001."""
    rng = random.Random(seed * 1_000_033 + engine.rows * 137 + engine.cols + 0x5eed)
    m, k, n, mode = kernel_shape(rng, engine, max(engine.max_k, SPARSE_MAX_K))
    sparse = {"operand": rng.choices(["b", "a"], weights=[2, 1])[0]}
    sparse["format"] = rng.choice(SPARSE_B_FORMATS) if sparse["operand"] == "b" \
        else "unstructured"
    if sparse["format"] == "unstructured":
        sparse["density"] = rng.choice(SPARSE_DENSITIES) if rng.random() < 0.5 \
            else round(rng.random(), 3)
    return m, k, n, mode, sparse


def make_tests(args, engines):
    tests = []
    first = args.first_seed
    for config, engine in engines.items():
        for kind in args.kinds:
            for seed in range(first, first + args.seeds):
                sparse = {}
                if kind == "sparse":
                    m, k, n, mode, sparse = sparse_kernel(seed, engine)
                else:
                    m, k, n, mode = dense_shape(seed, engine)
                tests.append({"id": f"{config}/{kind}/seed{seed}", "config": config,
                              "kind": kind, "seed": seed, "shape": [m, k, n], "mode": mode,
                              **sparse})
        # Mutants reuse the dense kernels of the first seeds; each class gets its own
        # seeds. They stay dense: the pe-stuck0 fault model is the systolic array's.
        for index, fault_class in enumerate(MUTANT_CLASSES):
            for i in range(args.mutants):
                seed = first + i * len(MUTANT_CLASSES) + index
                m, k, n, mode = dense_shape(seed, engine)
                tests.append({"id": f"{config}/mutant/{fault_class}/seed{seed}",
                              "config": config, "kind": "mutant", "fault_class": fault_class,
                              "seed": seed, "shape": [m, k, n], "mode": mode})
    return tests


def shard_of(tests, shard):
    index, count = shard
    return [t for i, t in enumerate(tests) if i % count == index - 1]


def job_line(test, inject):
    m, k, n = test["shape"]
    kind = "sparse" if test["kind"] == "sparse" else "dense"
    job = {"id": test["id"], "kind": kind, "m": m, "k": k, "n": n, "seed": test["seed"],
           "requant": test["mode"] in ("requant", "single"), "relu": test["mode"] == "relu"}
    if test["mode"] == "single":
        job["rounding"] = "single"
    for key in ("operand", "format", "density"):
        if key in test:
            job[key] = test[key]
    if test["kind"] == "mutant":
        job["mutant"] = test["fault_class"]
    elif inject:
        job["inject"] = inject
    return json.dumps(job)


def sparse_args(test):
    """The tessera spmm flags of a sparse test's operand, format and density."""
    if test["format"] != "unstructured":
        return f" --nm {test['format']}"
    flag = "--a-density" if test["operand"] == "a" else "--density"
    return f" {flag} {test['density']}"


def reproduce(test, engine, fault_specs):
    m, k, n = test["shape"]
    mode = {"raw": "", "requant": " --requant", "relu": " --relu",
            "single": " --requant --rounding single"}[test["mode"]]
    faults = "".join(f" --inject-fault {spec}" for spec in fault_specs)
    command = "spmm" if test["kind"] == "sparse" else "gemm"
    pattern = sparse_args(test) if test["kind"] == "sparse" else ""
    return (f"{engine.command()} {command} --m {m} --k {k} --n {n}{pattern} --seed {test['seed']}"
            f"{mode}{faults} --check")


# ---- running ---------------------------------------------------------------------------

def run_batch(engine, tests, inject, timeout):
    """Runs tests in one regress-batch process; returns {id: result}. Tests a crash or a
    timeout left without a result are absent."""
    stdin = "\n".join(job_line(t, inject) for t in tests) + "\n"
    proc = subprocess.Popen([engine.binary, "regress-batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    results = {}
    for line in out.splitlines():
        try:
            result = json.loads(line)
        except json.JSONDecodeError:
            continue
        if result.get("id") is not None:
            results[result["id"]] = result
    return results, proc.returncode, err


def run_tests(tests, engines, args):
    by_config = {}
    for test in tests:
        by_config.setdefault(test["config"], []).append(test)
    batches = []
    for config, config_tests in by_config.items():
        for i in range(0, len(config_tests), args.batch_size):
            batches.append((engines[config], config_tests[i:i + args.batch_size]))

    results, done, lock = {}, [0], threading.Lock()
    started = time.monotonic()

    def work(engine, batch):
        got, code, err = run_batch(engine, batch, args.inject_fault, args.timeout)
        exits = {t["id"]: (code, err) for t in batch}
        missing = [t for t in batch if t["id"] not in got]
        # A crash or hang: run the rest one by one so it shows which kernel did it.
        for test in missing if len(batch) > 1 else []:
            single, code, err = run_batch(engine, [test], args.inject_fault, args.timeout)
            got.update(single)
            exits[test["id"]] = (code, err)
        for test in batch:
            if test["id"] not in got:
                code, err = exits[test["id"]]
                why = f"exit {code}" if code is not None and code >= 0 else f"signal {-code}"
                got[test["id"]] = {"id": test["id"], "result": "error",
                                   "message": f"regress-batch gave no result ({why}): "
                                              f"{err.strip()[-300:]}"}
        with lock:
            results.update(got)
            done[0] += len(batch)
            failed = sum(1 for r in results.values() if r["result"] in ("fail", "error"))
            if not args.quiet:
                print(f"[{done[0]:5d}/{len(tests)}] {engine.config:>6}  "
                      f"{time.monotonic() - started:6.1f} s  {failed} failed", flush=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for future in [pool.submit(work, e, b) for e, b in batches]:
            future.result()
    return results


# ---- command streams -------------------------------------------------------------------

def stream_tests(args):
    tests = []
    if args.stream_commands <= 0:
        return tests
    chunks = -(-args.stream_commands // args.stream_chunk)
    for config in args.stream_configs:
        left = args.stream_commands
        for i in range(chunks):
            seed = args.first_seed + i
            count = min(args.stream_chunk, left)
            left -= count
            tests.append({"id": f"{config}/stream/seed{seed}", "config": config,
                          "kind": "stream", "seed": seed, "commands": count})
    return tests


def run_stream_tests(tests, args):
    binary = os.path.join(args.bin_dir, "cmd_stream_tb")
    if tests and not os.access(binary, os.X_OK):
        fail_usage(f"no {binary} (run `make build`), or pass --stream-commands 0")
    done, lock, started = [0], threading.Lock(), time.monotonic()

    def work(test):
        command = [binary, "--config", test["config"], "--seed", str(test["seed"]),
                   "--commands", str(test["commands"])] + args.stream_args + ["--quiet"]
        begin = time.monotonic()
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
            code, out = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired:
            code, out = None, f"timeout after {args.timeout} s"
        test["wall_s"] = round(time.monotonic() - begin, 3)
        test["reproduce"] = " ".join(shlex.quote(a) for a in command[:-1])
        if code == 0:
            test["result"] = "pass"
        else:
            fails = [line for line in out.splitlines() if line.startswith("FAIL")]
            test["result"] = "fail" if code == 1 else "error"
            test["message"] = (fails[0] if fails else out.strip()[-300:]) or f"exit {code}"
        with lock:
            done[0] += 1
            if not args.quiet:
                failed = sum(1 for t in tests if t.get("result") in ("fail", "error"))
                print(f"[{done[0]:5d}/{len(tests)}] stream {test['config']:>6}  "
                      f"{time.monotonic() - started:6.1f} s  {failed} failed", flush=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for future in [pool.submit(work, t) for t in tests]:
            future.result()


# ---- reports ---------------------------------------------------------------------------

def outcome(test):
    """pass / fail / error / skipped; an equivalent mutant (the fault cannot change the
    output) that was not caught is skipped, not failed."""
    result = test["result"]
    if test["kind"] == "mutant" and result == "pass" and not test.get("caught") \
            and test.get("equivalent"):
        return "skipped"
    return result


def summarize(tests, meta):
    counts = {"total": len(tests), "passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    names = {"pass": "passed", "fail": "failed", "error": "errors", "skipped": "skipped"}
    for test in tests:
        counts[names[outcome(test)]] += 1
    mutation = {"injected": 0, "caught": 0, "equivalent": 0, "survived": 0, "by_class": {}}
    for test in tests:
        if test["kind"] != "mutant":
            continue
        cls = mutation["by_class"].setdefault(
            test["fault_class"],
            {"injected": 0, "caught": 0, "equivalent": 0, "survived": 0, "detected_by": {}})
        for bucket in (mutation, cls):
            bucket["injected"] += 1
        if test.get("caught"):
            for bucket in (mutation, cls):
                bucket["caught"] += 1
            how = test.get("detected_by") or "unknown"
            cls["detected_by"][how] = cls["detected_by"].get(how, 0) + 1
            if "matches_fault_model" in test:  # pe-stuck0: wrong exactly as predicted?
                cls.setdefault("matches_fault_model", 0)
                cls["matches_fault_model"] += bool(test["matches_fault_model"])
        elif test.get("equivalent"):
            for bucket in (mutation, cls):
                bucket["equivalent"] += 1
        else:
            for bucket in (mutation, cls):
                bucket["survived"] += 1
    for bucket in [mutation] + list(mutation["by_class"].values()):
        live = bucket["injected"] - bucket["equivalent"]
        bucket["score"] = round(bucket["caught"] / live, 4) if live else None
    kernels = [t for t in tests if t["kind"] not in ("mutant", "stream")]
    summary = dict(meta)
    summary.update({
        "counts": counts,
        "kernels": len(kernels),
        "mutation_score": mutation["score"],
        "mutation": mutation,
        "sim_cycles": sum(t.get("sim_cycles") or 0 for t in tests),
        "kernel_wall_s": round(sum(t.get("wall_s") or 0 for t in tests), 3),
        "tests": tests,
    })
    return summary


def test_name(test):
    if test["kind"] == "stream":
        return f"seed {test['seed']}: {test['commands']} random commands"
    m, k, n = test["shape"]
    if test["kind"] == "sparse":
        return f"seed {test['seed']}: spmm {m}x{k}x{n} {test['mode']}{sparse_args(test)}"
    name = f"seed {test['seed']}: gemm {m}x{k}x{n} {test['mode']}"
    if test["kind"] == "mutant":
        name += f" + {test.get('fault') or test['fault_class']}"
    return name


def write_junit(path, summary):
    suites = ET.Element("testsuites", name="tessera-regress")
    by_config = {}
    for test in summary["tests"]:
        by_config.setdefault(test["config"], []).append(test)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for config, tests in by_config.items():
        suite = ET.SubElement(suites, "testsuite", name=f"regress.{config}")
        stats = {"tests": len(tests), "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
        for test in tests:
            kind = test["kind"] if test["kind"] != "mutant" else f"mutant.{test['fault_class']}"
            case = ET.SubElement(suite, "testcase", classname=f"regress.{config}.{kind}",
                                 name=test_name(test), time=f"{test.get('wall_s') or 0:.3f}")
            stats["time"] += test.get("wall_s") or 0
            state = outcome(test)
            text = f"reproduce: {test['reproduce']}"
            if state == "fail":
                stats["failures"] += 1
                ET.SubElement(case, "failure", message=test.get("message", "failed")).text = text
            elif state == "error":
                stats["errors"] += 1
                ET.SubElement(case, "error", message=test.get("message", "error")).text = text
            elif state == "skipped":
                stats["skipped"] += 1
                ET.SubElement(case, "skipped",
                              message="equivalent mutant: the fault cannot change this output")
        for key, value in stats.items():
            suite.set(key, f"{value:.3f}" if key == "time" else str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, f"{value:.3f}" if key == "time" else str(value))
    ET.indent(suites)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def write_outputs(out_dir, summary):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    write_junit(os.path.join(out_dir, "junit.xml"), summary)


def print_report(summary, out_dir):
    counts, mutation = summary["counts"], summary["mutation"]
    bad = [t for t in summary["tests"] if outcome(t) in ("fail", "error")]
    for test in bad:
        print(f"{outcome(test).upper()} {test['id']}: {test.get('message', '')}")
        print(f"  reproduce: {test['reproduce']}")
    print(f"regress: {counts['total']} tests ({summary['kernels']} kernels, "
          f"{mutation['injected']} injected faults): {counts['passed']} passed, "
          f"{counts['failed']} failed, {counts['errors']} errors, {counts['skipped']} skipped")
    kinds = {}
    for test in summary["tests"]:
        if test["kind"] not in ("mutant", "stream"):
            tally = kinds.setdefault(test["kind"], [0, 0])
            tally[0] += outcome(test) == "pass"
            tally[1] += 1
    if kinds:
        print("regress: kernels passed: " + ", ".join(
            f"{kind} {passed}/{total}" for kind, (passed, total) in sorted(kinds.items())))
    if mutation["injected"]:
        per_class = ", ".join(f"{name} {c['caught']}/{c['injected'] - c['equivalent']}"
                              for name, c in sorted(mutation["by_class"].items()))
        score = "n/a" if mutation["score"] is None else f"{mutation['score']:.3f}"
        print(f"regress: mutation score {score} ({per_class})")
    print(f"regress: wrote {os.path.join(out_dir, 'junit.xml')} and "
          f"{os.path.join(out_dir, 'summary.json')}")
    return 1 if bad else 0


def merge(dirs, out_dir):
    tests, shards = [], []
    for directory in dirs:
        path = os.path.join(directory, "summary.json")
        try:
            with open(path) as f:
                part = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            fail_usage(f"--merge: cannot read {path}: {e}")
        tests.extend(part["tests"])
        shards.append(part.get("shard"))
    ids = [t["id"] for t in tests]
    if len(ids) != len(set(ids)):
        fail_usage("--merge: the shards overlap (a test id appears twice)")
    meta = {"schema": SCHEMA, "merged_from": dirs, "shards": shards,
            "created": datetime.datetime.now().isoformat(timespec="seconds")}
    summary = summarize(tests, meta)
    write_outputs(out_dir, summary)
    return print_report(summary, out_dir)


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Each failure prints the one command that reproduces it.")
    parser.add_argument("--seeds", type=int, default=1000,
                        help="seeds per kind and configuration (default 1000)")
    parser.add_argument("--first-seed", type=int, default=1, help="first seed (default 1)")
    parser.add_argument("--configs", default="4x4,16x16",
                        help="array configurations, comma separated (default 4x4,16x16)")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"kernel kinds, comma separated (default {','.join(KINDS)})")
    parser.add_argument("--mutants", type=int, default=None,
                        help="injected faults per class and configuration "
                             "(default seeds/50, at least 2)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="batches run at once (default: CPU count)")
    parser.add_argument("--shard", default="1/1", help="run shard K of N (K = 1..N)")
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "regress"),
                        help="output directory (default build/regress)")
    parser.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"),
                        help="where the tessera binaries are (default build/bin)")
    parser.add_argument("--batch-size", type=int, default=20, help="kernels per process")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per batch")
    parser.add_argument("--inject-fault", action="append", default=[], metavar="SPEC",
                        help="force this fault into every kernel (checks that the runner "
                             "reports failures; see tessera gemm --help)")
    parser.add_argument("--list", action="store_true", help="list this shard's tests and exit")
    parser.add_argument("--merge", nargs="+", metavar="DIR",
                        help="merge the summaries of shard output directories into --out")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--stream-commands", type=int, default=100_000,
                        help="random commands of cmd_stream_tb per stream config "
                             "(default 100000; 0: none)")
    parser.add_argument("--stream-configs", default="4x4,8x4,16x16",
                        help="cmd_stream_tb configurations (default 4x4,8x4,16x16)")
    parser.add_argument("--stream-chunk", type=int, default=10_000,
                        help="commands per cmd_stream_tb run, one seed each (default 10000)")
    parser.add_argument("--stream-args", default="",
                        help="more cmd_stream_tb flags, e.g. the triage flag "
                             "--no-invalid-behind-packet")
    args = parser.parse_args()
    match = re.fullmatch(r"(\d+)/(\d+)", args.shard)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        fail_usage(f"--shard: expected K/N with 1 <= K <= N, got '{args.shard}'")
    args.shard = (int(match.group(1)), int(match.group(2)))
    if args.seeds < 0 or args.jobs < 1 or args.batch_size < 1:
        fail_usage("--seeds must be >= 0, --jobs and --batch-size >= 1")
    args.configs = [c for c in args.configs.split(",") if c]
    args.stream_configs = [c for c in args.stream_configs.split(",") if c]
    args.stream_args = shlex.split(args.stream_args)
    if args.stream_chunk < 1:
        fail_usage("--stream-chunk must be >= 1")
    args.kinds = [k for k in args.kinds.split(",") if k]
    for kind in args.kinds:
        if kind not in KINDS:
            fail_usage(f"--kinds: unknown kind '{kind}' (known: {', '.join(KINDS)})")
    if args.mutants is None:
        args.mutants = max(2, args.seeds // 50) if args.seeds else 0
    return args


def main():
    args = parse_args()
    if args.merge:
        return merge(args.merge, args.out)
    engines = find_engines(args.configs, args.bin_dir)
    tests = shard_of(make_tests(args, engines), args.shard)
    streams = shard_of(stream_tests(args), args.shard)
    if args.list:
        for test in streams:
            print(test["id"])
        for test in tests:
            print(test["id"])
        return 0
    print(f"regress: {len(tests)} tests (shard {args.shard[0]}/{args.shard[1]}) on "
          f"{', '.join(args.configs)} with {args.jobs} jobs", flush=True)
    started = time.monotonic()
    results = run_tests(tests, engines, args)
    run_stream_tests(streams, args)
    wall = time.monotonic() - started
    for test in tests:
        result = results[test["id"]]
        for key in ("result", "cycles", "sim_cycles", "wall_s", "mismatches", "message",
                    "fault", "caught", "detected_by", "equivalent", "matches_fault_model"):
            if key in result and result[key] is not None:
                test[key] = result[key]
        faults = [test["fault"]] if test.get("fault") else \
            (args.inject_fault if test["kind"] != "mutant" else [])
        test["reproduce"] = reproduce(test, engines[test["config"]], faults)
    meta = {
        "schema": SCHEMA,
        "created": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(shlex.quote(a) for a in sys.argv),
        "shard": f"{args.shard[0]}/{args.shard[1]}",
        "configs": args.configs,
        "kinds": args.kinds,
        "seeds": {"first": args.first_seed, "count": args.seeds},
        "jobs": args.jobs,
        "wall_s": round(wall, 3),
    }
    summary = summarize(tests + streams, meta)
    write_outputs(args.out, summary)
    if streams:
        passed = sum(1 for t in streams if t["result"] == "pass")
        print(f"regress: command streams: {passed}/{len(streams)} runs passed, "
              f"{sum(t['commands'] for t in streams)} commands on {', '.join(args.stream_configs)}, "
              f"{sum(t['wall_s'] for t in streams):.1f} s")
    print(f"regress: {wall:.1f} s wall, {summary['sim_cycles']} simulated cycles")
    return print_report(summary, args.out)


if __name__ == "__main__":
    sys.exit(main())
