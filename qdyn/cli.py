"""Command line: ``qdyn info`` and ``qdyn demo`` (also ``python -m qdyn``)."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["main"]


def _info(args) -> int:
    from qdyn.environment import environment_report

    report = environment_report()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print("qdyn environment")
    for name, version in report["versions"].items():
        print(f"  {name:<24} {version}")
    print(f"  torch devices            {', '.join(report['torch_devices'])}"
          + (f" ({report['gpu']})" if report["gpu"] else ""))
    print(f"  Aer devices              {', '.join(report['aer_devices']) or 'none'}")
    print(f"  PennyLane Lightning      {', '.join(report['lightning_devices']) or 'none'}")
    print(f"  IBM Quantum credentials  {report['ibm_credentials']}")
    return 0


def _demo(args) -> int:
    from qdyn.demo import run_demo

    run_demo(quick=args.quick, out=args.out)
    return 0


def main(argv=None) -> int:
    from qdyn import __version__

    parser = argparse.ArgumentParser(prog="qdyn", description="qdyn: quantum dynamics toolkit")
    parser.add_argument("--version", action="version", version=f"qdyn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="versions, devices, simulators and IBM credential status")
    info.add_argument("--json", action="store_true", help="print the report as JSON")
    info.set_defaults(func=_info)
    demo = sub.add_parser("demo", help="run the main job on embedded default problems")
    demo.add_argument("--quick", action="store_true", help="reduced sizes for a fast check")
    demo.add_argument("--out", default="qdyn-report", help="folder for the tables, figures and report.md")
    demo.set_defaults(func=_demo)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
