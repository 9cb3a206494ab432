#!/usr/bin/env python3
"""Reads the board table scripts/boards.json for the shell scripts of the FPGA flow.

  boards.py list                 board names, one a line (the order of the table)
  boards.py params BOARD         the engine parameters as NAME=VALUE words
  boards.py get BOARD KEY        one field (family, device, package, top, clock_mhz, ...)
  boards.py shell BOARD          every scalar field as a shell assignment board_KEY=VALUE
  boards.py part BOARD [SPEED]   the part, with another ECP5 speed grade when one is given
"""
import json
import re
import shlex
import sys
from pathlib import Path

TABLE = Path(__file__).resolve().parent / "boards.json"


def load():
    with open(TABLE) as f:
        return {k: v for k, v in json.load(f).items() if not k.startswith("_")}


def board(boards, name):
    if name not in boards:
        sys.exit(f"boards: unknown board '{name}'; the boards are: {', '.join(boards)}")
    return boards[name]


def part(b, speed=None):
    """The board's part, with its ECP5 speed grade replaced by the one placed for
    (fpga.sh --speed): LFE5U-85F-6BG381C at speed 8 is LFE5U-85F-8BG381C."""
    if speed is None or speed == b.get("speed"):
        return b["part"]
    return re.sub(r"F-[678]", f"F-{speed}", b["part"], count=1)


def main(argv):
    boards = load()
    if len(argv) == 2 and argv[1] == "list":
        print("\n".join(boards))
    elif len(argv) == 3 and argv[1] == "params":
        print(" ".join(f"{k}={v}" for k, v in board(boards, argv[2])["engine"].items()))
    elif len(argv) == 4 and argv[1] == "get":
        b = board(boards, argv[2])
        if argv[3] not in b:
            sys.exit(f"boards: board '{argv[2]}' has no field '{argv[3]}'")
        print(b[argv[3]])
    elif len(argv) == 3 and argv[1] == "shell":
        b = board(boards, argv[2])
        for k, v in b.items():
            if not isinstance(v, (dict, list)):
                print(f"board_{k}={shlex.quote(str(v))}")
    elif len(argv) in (3, 4) and argv[1] == "part":
        print(part(board(boards, argv[2]), int(argv[3]) if len(argv) == 4 else None))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
