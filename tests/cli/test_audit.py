"""``make audit`` fails when pip-audit could not audit, instead of saying nothing was found."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from hotline_bridge.settings import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location("audit", PROJECT_ROOT / "tools" / "audit.py")
assert _spec is not None and _spec.loader is not None
audit: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit)

SKIPPED = "Dependency not found on PyPI and could not be audited: flask (3.1.0)"
# What pip-audit reported when no vulnerability data could be reached: every package skipped.
UNREACHED = {
    "dependencies": [
        {"name": "flask", "skip_reason": SKIPPED},
        {"name": "twilio", "skip_reason": SKIPPED.replace("flask (3.1.0)", "twilio (9.0.0)")},
        {"name": "hotline-bridge", "skip_reason": "not on PyPI"},
    ],
    "fixes": [],
}
AUDITED = {
    "dependencies": [
        {"name": "flask", "version": "3.1.0", "vulns": []},
        {"name": "twilio", "version": "9.0.0", "vulns": []},
        {"name": "hotline_bridge", "skip_reason": "not on PyPI"},  # this project itself
    ],
    "fixes": [],
}


def test_nothing_audited_fails_by_name() -> None:
    status, message = audit.judge(UNREACHED)
    assert status != 0 and "audited 0 of 2 packages" in message
    assert audit.judge({"dependencies": []})[0] != 0


def test_a_package_left_unaudited_fails() -> None:
    partly = {"dependencies": [*AUDITED["dependencies"], UNREACHED["dependencies"][0]]}
    status, message = audit.judge(partly)
    assert status != 0 and "could not be audited: flask" in message


def test_known_vulnerabilities_fail_and_a_clean_audit_passes() -> None:
    assert audit.judge(AUDITED) == (0, "audit passed: 2 packages audited, no known vulnerabilities")
    vulnerable = json.loads(json.dumps(AUDITED))
    vulnerable["dependencies"][0]["vulns"] = [{"id": "PYSEC-1", "fix_versions": ["3.1.1"]}]
    status, message = audit.judge(vulnerable)
    assert status == 1 and "flask 3.1.0: PYSEC-1 (fixed in 3.1.1)" in message


def fake_pip_audit(tmp_path: Path, report: dict[str, Any] | None, exit_code: int) -> str:
    """A pip-audit that writes ``report`` (none: it crashes first) and says all is well."""
    script = tmp_path / "pip-audit"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"report = {report!r}\n"
        "if report is None:\n"
        "    sys.exit('requests.exceptions.ConnectionError: Max retries exceeded')\n"
        "json.dump(report, open(sys.argv[sys.argv.index('--output') + 1], 'w'))\n"
        "print('No known vulnerabilities found')\n"
        f"sys.exit({exit_code})\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return str(script)


def test_a_pip_audit_that_reached_nothing_but_says_all_is_well_fails(tmp_path: Path) -> None:
    status, message = audit.run(fake_pip_audit(tmp_path, UNREACHED, 0), str(tmp_path))
    assert status != 0 and message.startswith("audit FAILED: audited 0 of 2")


def test_a_pip_audit_that_could_not_reach_its_data_fails_with_its_reason(tmp_path: Path) -> None:
    status, message = audit.run(fake_pip_audit(tmp_path, None, 1), str(tmp_path))
    assert status != 0 and "could not reach its vulnerability data" in message
    assert "ConnectionError" in message


def test_a_real_report_passes_through(tmp_path: Path) -> None:
    assert audit.run(fake_pip_audit(tmp_path, AUDITED, 0), str(tmp_path))[0] == 0
