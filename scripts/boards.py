#!/usr/bin/env python3
"""Reads the board table scripts/boards.json for the shell scripts of the FPGA flow.

  boards.py list                 board names, one a line (the order of the table)
  boards.py params BOARD         the engine parameters as NAME=VALUE words
  boards.py get BOARD KEY        one field (family, device, package, top, clock_mhz, ...)
  boards.py shell BOARD          every scalar field as a shell assignment board_KEY=VALUE
"""
import json
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
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
