"""The fuzzer at length: the suite's schemathesis test (tests/api/test_fuzz.py) with many
more examples per operation, on a real Redis, counting every request and its status.

    python -m bench.fuzz                      # ~10,000 requests or more (several minutes)
    python -m bench.fuzz --examples 100       # a shorter look

Prints the requests made, by operation and by status, and exits 1 on any server error,
status the OpenAPI document does not declare, or answer off its schema (pytest shows them).
"""

import argparse
import collections
import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--examples", type=int, default=800, help="hypothesis examples per operation"
    )
    args = parser.parse_args()
    report = Path(tempfile.mkdtemp(prefix="dedup-fuzz-")) / "requests.txt"
    os.environ["DEDUP_FUZZ_EXAMPLES"] = str(args.examples)
    os.environ["DEDUP_FUZZ_REPORT"] = str(report)
    code = pytest.main(
        [str(REPO / "tests" / "api" / "test_fuzz.py"), "-q", "--no-cov", "-p", "no:randomly"]
    )
    lines = report.read_text(encoding="utf-8").splitlines() if report.exists() else []
    by_status = collections.Counter(line.rsplit(" ", 1)[1] for line in lines)
    by_operation = collections.Counter(line.rsplit(" ", 1)[0] for line in lines)
    print(
        f"\n{len(lines)} requests; statuses: "
        + ", ".join(f"{s} {n}" for s, n in sorted(by_status.items()))
    )
    for operation, count in sorted(by_operation.items()):
        print(f"  {operation}: {count}")
    server_errors = sum(n for s, n in by_status.items() if s.startswith("5") and s != "503")
    print(
        f"server errors (5xx but 503): {server_errors}; pytest exit code {int(code)} "
        "(0: no check failed, so no schema or status-code violation)"
    )
    sys.exit(int(code) or (1 if server_errors else 0))


if __name__ == "__main__":
    main()
