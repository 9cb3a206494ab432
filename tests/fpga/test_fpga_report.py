#!/usr/bin/env python3
"""scripts/fpga_report.py's timing summary on a made-up nextpnr report: which endpoints
arrive after their clock's period, by how much in all, and the registers behind them, traced to RTL lines through the
synthesized netlist. Plain asserts (no pytest): ctest runs it as `fpga_report`."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import boards  # noqa: E402
import fpga_report  # noqa: E402


def endpoint(cell, port, delay, clock="$glbnet$clk"):
    return {"cell": cell, "port": port, "event": f"posedge {clock}", "delay": [delay / 2, delay]}


def net(driver, endpoints, clock="$glbnet$clk"):
    return {"net": driver + "_net", "driver": driver, "port": "F",
            "event": f"posedge {clock}", "endpoints": endpoints}


def main():
    clocks = {"$glbnet$clk": {"achieved_mhz": 88.0, "target_mhz": 100.0},
              "$glbnet$clk_os": {"achieved_mhz": 70.0, "target_mhz": 50.0}}
    pnr = {"detailed_net_timings": [
        net("a", [endpoint("u_core.u_engine.u_acc.old_q_TRELLIS_FF_Q_1", "DI", 11.0),
                  endpoint("u_core.u_engine.u_acc.old_q_TRELLIS_FF_Q_2", "DI", 10.5),
                  endpoint("u_core.u_engine.u_acc.old_q_TRELLIS_FF_Q_3", "DI", 9.0)]),
        # Named after a FIFO's net, made by the dispatcher: the RTL line says so.
        net("b", [endpoint("u_core.u_engine.u_cmd_fifo.mem_q.0.19_DO_TRELLIS_FF_DI", "DI", 11.25)]),
        net("c", [endpoint("u_core.u_bridge.x_TRELLIS_FF_Q", "CE", 19.0, "$glbnet$clk_os")],
            "$glbnet$clk_os"),
        # A crossing (clk_os -> clk) is not timed against either period.
        net("d", [endpoint("u_core.sync_TRELLIS_FF_Q", "M", 30.0)], "$glbnet$clk_os"),
        # Unconstrained endpoints (IO) neither.
        {"net": "io", "driver": "e", "port": "Q", "event": "<async>",
         "endpoints": [{"cell": "pad", "port": "I", "event": "<async>", "delay": [1, 50.0]}]},
    ]}
    netlist = {"modules": {"top": {"attributes": {"top": 1}, "cells": {
        "u_core.u_engine.u_acc.old_q_TRELLIS_FF_Q_1":
            {"attributes": {"src": "rtl/core/tsr_accumulator.sv:184.3|/share/lattice/x.v:1.2"}},
        "u_core.u_engine.u_acc.old_q_TRELLIS_FF_Q_2":
            {"attributes": {"src": "rtl/core/tsr_accumulator.sv:184.3"}},
        "u_core.u_engine.u_cmd_fifo.mem_q.0.19_DO_TRELLIS_FF_DI":
            {"attributes": {"src": "rtl/core/tsr_dispatch.sv:433.5|/share/lattice/x.v:3.1"}},
        "u_core.u_bridge.x_TRELLIS_FF_Q": {"attributes": {"src": "/share/lattice/x.v:3.1"}},
    }}}}
    sources = fpga_report.register_sources(netlist["modules"])
    assert sources["u_core.u_engine.u_acc.old_q_TRELLIS_FF_Q_1"] == "rtl/core/tsr_accumulator.sv:184"
    assert "u_core.u_bridge.x_TRELLIS_FF_Q" not in sources

    per_clock, worst = fpga_report.endpoint_timing(pnr, clocks, sources)
    main_clock = per_clock["$glbnet$clk"]
    assert main_clock["endpoints"] == 4, main_clock
    assert main_clock["endpoints_late"] == 3, main_clock
    assert abs(main_clock["late_ns"] - 2.75) < 1e-6, main_clock
    assert per_clock["$glbnet$clk_os"] == {"endpoints": 1, "endpoints_late": 0, "late_ns": 0.0}
    assert [(g["rtl"], g["count"], g["worst_slack_ns"]) for g in worst] == [
        ("rtl/core/tsr_dispatch.sv:433", 1, -1.25),
        ("rtl/core/tsr_accumulator.sv:184", 2, -1.0)], worst
    assert worst[0]["cell"] == "u_cmd_fifo.mem_q.0" and worst[0]["port"] == "DI"
    # Without the netlist the groups fall back on the packed cells' names.
    _, by_name = fpga_report.endpoint_timing(pnr, clocks)
    assert [g["cell"] for g in by_name] == ["u_cmd_fifo.mem_q.0", "u_acc.old_q"], by_name
    # A report without the detailed timings (an older nextpnr run) gives nothing to sum.
    assert fpga_report.endpoint_timing({}, clocks)[1] == []
    # fpga.sh --speed (boards.part): the part placed for, the board's own without a grade.
    ulx3s = {"part": "LFE5U-85F-6BG381C", "speed": 6}
    assert boards.part(ulx3s, None) == "LFE5U-85F-6BG381C"
    assert boards.part(ulx3s, 6) == "LFE5U-85F-6BG381C"
    assert boards.part(ulx3s, 8) == "LFE5U-85F-8BG381C"
    assert boards.part({"part": "iCE40UP5K-SG48"}, None) == "iCE40UP5K-SG48"
    print("fpga_report: timing summary and part checks passed")


if __name__ == "__main__":
    main()
