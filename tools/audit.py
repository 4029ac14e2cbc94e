"""``make audit``: check the project's installed dependencies for known vulnerabilities, and fail
when the check could not be made.

pip-audit prints "No known vulnerabilities found" and exits 0 even when it audited nothing: a
package it cannot find in the vulnerability service is skipped, and with no service reachable
every package is. So this runs pip-audit over the virtualenv's site-packages with a JSON
report, and judges the report itself: it fails (exit 2) when pip-audit could not run or reach
its data, or when any package (but this project, which is not on PyPI) could not be audited,
and (exit 1) on any known vulnerability.

Usage: python tools/audit.py [PIP_AUDIT] (default: pip-audit beside this Python).
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

# This project: installed in development mode, never published, so never auditable.
PROJECT = "hotline-bridge"


def judge(report: dict[str, Any], project: str = PROJECT) -> tuple[int, str]:
    """Return the exit status and the message for a pip-audit JSON ``report``."""
    found = [d for d in report.get("dependencies", []) if _name(d) != _name({"name": project})]
    skipped = [d for d in found if "skip_reason" in d]
    audited = [d for d in found if "skip_reason" not in d]
    if not audited:
        reason = skipped[0]["skip_reason"] if skipped else "no installed package was found"
        return 2, (
            f"audit FAILED: audited 0 of {len(found)} packages: the vulnerability data could "
            f"not be reached or matched ({reason})"
        )
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        return 2, (
            f"audit FAILED: {len(skipped)} of {len(found)} packages could not be audited: {names}"
        )
    vulnerable = [d for d in audited if d.get("vulns")]
    if vulnerable:
        lines = [
            f"  {d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v['fix_versions'])})"
            for d in vulnerable
            for v in d["vulns"]
        ]
        return 1, "audit FAILED: known vulnerabilities:\n" + "\n".join(lines)
    return 0, f"audit passed: {len(audited)} packages audited, no known vulnerabilities"


def _name(dependency: dict[str, Any]) -> str:
    return str(dependency.get("name", "")).lower().replace("_", "-")


def run(pip_audit: str, site_packages: str) -> tuple[int, str]:
    """Run pip-audit over ``site_packages`` and judge what it reports."""
    with tempfile.TemporaryDirectory(prefix="hotline-audit-") as folder:
        output = Path(folder) / "report.json"
        command = [pip_audit, "--path", site_packages, "--format", "json", "--output", str(output)]
        command += ["--progress-spinner", "off"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        except FileNotFoundError:
            return 2, f"audit FAILED: {pip_audit} is not installed (make setup installs it)"
        except (OSError, subprocess.TimeoutExpired) as exc:
            return 2, f"audit FAILED: could not run {pip_audit}: {exc}"
        try:
            report = json.loads(output.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return 2, f"audit FAILED: pip-audit could not reach its vulnerability data: {last}"
    status, message = judge(report)
    if status == 0 and done.returncode not in (0, 1):  # 1: vulnerabilities, judged above
        return 2, f"audit FAILED: pip-audit exited with {done.returncode}"
    return status, message


def main() -> int:
    pip_audit = (
        sys.argv[1] if len(sys.argv) > 1 else str(Path(sys.executable).with_name("pip-audit"))
    )
    status, message = run(pip_audit, sysconfig.get_path("purelib"))
    print(message, file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main())
