#!/usr/bin/env python3
"""Tests of scripts/regress.py through its command line: the files it writes, sharding
and merging, failure reports with reproducing commands, the mutation score, and the
dense and sparse kernel kinds.

    tests/debug/test_regress.py --bin-dir build/bin
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REGRESS = os.path.join(ROOT, "scripts", "regress.py")
BIN_DIR = os.path.join(ROOT, "build", "bin")


def regress(*args, streams=("--stream-commands", "0")):
    """Runs regress.py; the command-stream part is left out unless `streams` asks for it."""
    return subprocess.run([sys.executable, REGRESS, "--bin-dir", BIN_DIR, "--quiet", *streams,
                           *args], capture_output=True, text=True, timeout=600)


class RegressOutputs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.out = os.path.join(cls.tmp.name, "run")
        cls.result = regress("--seeds", "12", "--configs", "4x4", "--mutants", "2",
                          "--jobs", "2", "--batch-size", "5", "--out", cls.out)
        with open(os.path.join(cls.out, "summary.json")) as f:
            cls.summary = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_passes_and_reports(self):
        self.assertEqual(self.result.returncode, 0, self.result.stdout + self.result.stderr)
        self.assertIn("mutation score 1.000", self.result.stdout)

    def test_summary_counts_and_tests(self):
        counts = self.summary["counts"]
        tests = self.summary["tests"]
        self.assertEqual(counts["total"], len(tests))
        self.assertEqual(len(tests), 2 * 12 + 3 * 2)  # dense and sparse by default
        self.assertEqual(counts["passed"] + counts["failed"] + counts["errors"]
                         + counts["skipped"], counts["total"])
        self.assertEqual(self.summary["kernels"], 2 * 12)
        for kind in ("dense", "sparse"):
            seeds = sorted(t["seed"] for t in tests if t["kind"] == kind)
            self.assertEqual(seeds, list(range(1, 13)), kind)
        for test in tests:
            with self.subTest(test=test["id"]):
                for key in ("seed", "shape", "wall_s", "result", "reproduce", "config"):
                    self.assertIn(key, test)
                self.assertEqual(len(test["shape"]), 3)
                self.assertTrue(test["reproduce"].split()[0].endswith("tessera-4x4"))
                if test["kind"] in ("dense", "sparse"):
                    self.assertEqual(test["result"], "pass")
                    self.assertGreater(test["cycles"], 0)
        self.assertIn("kernels passed: dense 12/12, sparse 12/12", self.result.stdout)

    def test_sparse_kernels_are_spmm_runs(self):
        sparse = [t for t in self.summary["tests"] if t["kind"] == "sparse"]
        self.assertEqual({t["operand"] for t in sparse}, {"a", "b"})  # seeds 1..12 pick both
        for test in sparse:
            with self.subTest(test=test["id"]):
                formats = {"a": ["unstructured"], "b": ["2:4", "1:4", "unstructured"]}
                self.assertIn(test["format"], formats[test["operand"]])
                argv = shlex.split(test["reproduce"])
                self.assertEqual(argv[1], "spmm")
                self.assertEqual(argv[-1], "--check")
                m, k, n = test["shape"]
                self.assertIn(f"--m {m} --k {k} --n {n} ", test["reproduce"])
                if test["format"] == "unstructured":
                    self.assertTrue(0 <= test["density"] <= 1)
                    flag = "--a-density" if test["operand"] == "a" else "--density"
                    self.assertIn(f" {flag} {test['density']} ", test["reproduce"])
                else:
                    self.assertNotIn("density", test)
                    self.assertIn(f" --nm {test['format']} ", test["reproduce"])

    def test_sparse_reproduce_line_runs_the_same_kernel(self):
        # The smallest sparse kernel of each operand, run from its printed command alone:
        # it must pass in exactly the cycles the regression counted.
        for operand in ("a", "b"):
            with self.subTest(operand=operand):
                test = min((t for t in self.summary["tests"]
                            if t["kind"] == "sparse" and t["operand"] == operand),
                           key=lambda t: t["shape"][0] * t["shape"][1] * t["shape"][2])
                run = subprocess.run(shlex.split(test["reproduce"]), capture_output=True,
                                     text=True, timeout=120)
                self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
                self.assertIn("check: PASS", run.stdout)
                cycles = re.search(r": (\d+) cycles", run.stdout)
                self.assertIsNotNone(cycles, run.stdout)
                self.assertEqual(int(cycles.group(1)), test["cycles"])

    def test_mutation_score_covers_every_fault_class(self):
        mutation = self.summary["mutation"]
        self.assertEqual(set(mutation["by_class"]),
                         {"pe-stuck0", "stream-in-drop", "stream-out-drop"})
        for name, cls in mutation["by_class"].items():
            with self.subTest(fault_class=name):
                self.assertEqual(cls["injected"], 2)
                self.assertEqual(cls["survived"], 0)
        self.assertEqual(self.summary["mutation_score"], 1.0)
        for test in self.summary["tests"]:
            if test["kind"] == "mutant":
                self.assertIn("--inject-fault " + test["fault"], test["reproduce"])
                if test.get("caught") and "matches_fault_model" in test:
                    self.assertTrue(test["matches_fault_model"], test["id"])

    def test_junit_matches_summary(self):
        root = ET.parse(os.path.join(self.out, "junit.xml")).getroot()
        self.assertEqual(root.tag, "testsuites")
        cases = root.findall("./testsuite/testcase")
        self.assertEqual(len(cases), self.summary["counts"]["total"])
        self.assertEqual(int(root.get("tests")), len(cases))
        self.assertEqual(int(root.get("failures")), 0)
        self.assertTrue(all(c.get("classname").startswith("regress.4x4.") for c in cases))
        self.assertEqual(sum(c.get("classname") == "regress.4x4.sparse" for c in cases), 12)


class RegressShards(unittest.TestCase):
    def listing(self, shard):
        run = regress("--seeds", "10", "--configs", "4x4,16x16", "--shard", shard, "--list")
        self.assertEqual(run.returncode, 0, run.stderr)
        return run.stdout.split()

    def test_shards_are_disjoint_and_complete(self):
        whole = self.listing("1/1")
        parts = [self.listing(f"{k}/3") for k in (1, 2, 3)]
        self.assertEqual(sorted(sum(parts, [])), sorted(whole))
        self.assertEqual(len(set(sum(parts, []))), len(whole))
        self.assertTrue(all(abs(len(p) - len(whole) / 3) <= 1 for p in parts))

    def test_merge_combines_shards(self):
        with tempfile.TemporaryDirectory() as tmp:
            dirs = []
            for k in (1, 2):
                out = os.path.join(tmp, f"shard{k}")
                run = regress("--seeds", "6", "--configs", "4x4", "--mutants", "1",
                              "--shard", f"{k}/2", "--out", out)
                self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
                dirs.append(out)
            merged = os.path.join(tmp, "merged")
            run = regress("--merge", *dirs, "--out", merged)
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
            with open(os.path.join(merged, "summary.json")) as f:
                summary = json.load(f)
            self.assertEqual(summary["counts"]["total"], 2 * 6 + 3)
            self.assertEqual(summary["mutation"]["injected"], 3)
            self.assertTrue(os.path.exists(os.path.join(merged, "junit.xml")))
            run = regress("--merge", dirs[0], dirs[0], "--out", merged)
            self.assertEqual(run.returncode, 2)  # overlapping shards

    def test_bad_shard_is_a_usage_error(self):
        for shard in ("0/2", "3/2", "1-2", "x"):
            run = regress("--shard", shard, "--list")
            self.assertEqual(run.returncode, 2, shard)


class RegressStreams(unittest.TestCase):
    def test_command_streams_run_in_chunks_with_their_seeds(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = regress("--seeds", "0", "--configs", "", "--mutants", "0", "--out", tmp,
                          streams=("--stream-commands", "3000", "--stream-chunk", "1000",
                                   "--stream-configs", "4x4,16x16"))
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
            self.assertIn("command streams: 6/6 runs passed", run.stdout)
            with open(os.path.join(tmp, "summary.json")) as f:
                summary = json.load(f)
            streams = [t for t in summary["tests"] if t["kind"] == "stream"]
            self.assertEqual(len(streams), 6)
            self.assertEqual({t["config"] for t in streams}, {"4x4", "16x16"})
            self.assertEqual(len({(t["config"], t["seed"]) for t in streams}), 6)
            self.assertTrue(all(t["result"] == "pass" for t in streams))


class RegressFailures(unittest.TestCase):
    def test_each_failure_prints_a_command_that_reproduces_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = regress("--seeds", "3", "--configs", "4x4", "--mutants", "0",
                          "--inject-fault", "pe:0,0:stuck0", "--out", tmp)
            self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
            lines = [l.strip() for l in run.stdout.splitlines()]
            commands = [l[len("reproduce: "):] for l in lines if l.startswith("reproduce: ")]
            with open(os.path.join(tmp, "summary.json")) as f:
                summary = json.load(f)
            failed = summary["counts"]["failed"]
            self.assertGreaterEqual(failed, 1)  # a clamp can hide a missing product
            self.assertEqual(len(commands), failed + summary["counts"]["errors"])
            root = ET.parse(os.path.join(tmp, "junit.xml")).getroot()
            self.assertEqual(len(root.findall(".//failure")), failed)
            # The printed command fails the same way on its own.
            argv = shlex.split(commands[0]) + ["--no-capture"]
            again = subprocess.run(argv, capture_output=True, text=True, timeout=120)
            self.assertEqual(again.returncode, 1, again.stdout + again.stderr)
            self.assertIn("check: FAIL", again.stdout)

    def test_unknown_config_is_a_usage_error(self):
        run = regress("--configs", "7x3", "--list")
        self.assertEqual(run.returncode, 2)

    def test_unknown_kind_is_a_usage_error(self):
        run = regress("--kinds", "dense,banded", "--list")
        self.assertEqual(run.returncode, 2)
        self.assertIn("unknown kind 'banded'", run.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=BIN_DIR)
    args, rest = parser.parse_known_args()
    BIN_DIR = os.path.abspath(args.bin_dir)
    unittest.main(argv=[sys.argv[0]] + rest)
