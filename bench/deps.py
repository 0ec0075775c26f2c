"""How long `ospo-bot deps check` takes: on the largest real SBOMs in tests/data/sboms and on
synthetic 10,000-component files in every format we read.

.venv/bin/python bench/deps.py [--components 10000]

Prints, per file: its size, components, the time to read it (parse) and to judge every component
(check), and the whole `ospo-bot deps check --json` command as CI runs it (process start to exit).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
SBOMS = ROOT / "tests" / "data" / "sboms"
REAL = ["cyclonedx-1.2-keycloak-10.0.2.json", "cyclonedx-1.2-juice-shop-11.1.2.xml"]
# What dependency lists declare, roughly as often as they do (permissive first), and some oddities.
LICENSES = (
    ["MIT"] * 40 + ["Apache-2.0"] * 20 + ["ISC"] * 8 + ["BSD-3-Clause"] * 8 + ["BSD-2-Clause"] * 4
    + ["MIT OR Apache-2.0", "LGPL-2.1-only", "MPL-2.0", "EPL-2.0", "GPL-3.0-only", "AGPL-3.0-only", "0BSD",
       "CC0-1.0", "Unlicense", "LicenseRef-acme", "NOASSERTION", "BSD-3-Clause AND MIT", "Python-2.0", "BlueOak-1.0.0"]
)  # fmt: skip


def synthetic(n: int, folder: Path) -> dict[str, Path]:
    rnd = random.Random(15)
    rows = [(f"pkg-{i}", f"{rnd.randint(0, 9)}.{rnd.randint(0, 30)}.{i % 7}", rnd.choice(LICENSES)) for i in range(n)]
    files = {}
    cdx = [
        {"type": "library", "name": name, "version": v, "purl": f"pkg:npm/{name}@{v}", "bom-ref": f"{name}@{v}",
         "licenses": [{"expression": lic}] if " " in lic else [{"license": {"id": lic}}]}
        for name, v, lic in rows
    ]  # fmt: skip
    files["CycloneDX 1.5 JSON"] = folder / "bom.json"
    files["CycloneDX 1.5 JSON"].write_text(
        json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": cdx})
    )
    xml = "".join(
        f'<component type="library"><name>{name}</name><version>{v}</version><licenses>'
        + (f"<expression>{escape(lic)}</expression>" if " " in lic else f"<license><id>{lic}</id></license>")
        + f"</licenses><purl>pkg:npm/{name}@{v}</purl></component>"
        for name, v, lic in rows
    )
    files["CycloneDX 1.5 XML"] = folder / "bom.xml"
    files["CycloneDX 1.5 XML"].write_text(
        f'<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components>{xml}</components></bom>'
    )
    packages = [
        {"SPDXID": f"SPDXRef-{i}", "name": name, "versionInfo": v, "downloadLocation": "NOASSERTION",
         "licenseDeclared": lic, "filesAnalyzed": False}
        for i, (name, v, lic) in enumerate(rows)
    ]  # fmt: skip
    spdx = {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "bench",
        "documentNamespace": "https://example.com/bench", "packages": packages,
        "creationInfo": {"created": "2026-01-01T00:00:00Z", "creators": ["Tool: bench"]},
        "hasExtractedLicensingInfos": [{"licenseId": "LicenseRef-acme", "extractedText": "Acme terms."}],
    }  # fmt: skip
    files["SPDX 2.3 JSON"] = folder / "sbom.spdx.json"
    files["SPDX 2.3 JSON"].write_text(json.dumps(spdx))
    lock = {f"node_modules/{name}": {"version": v, "license": lic} for name, v, lic in rows}
    files["npm package-lock v3"] = folder / "package-lock.json"
    files["npm package-lock v3"].write_text(json.dumps({"lockfileVersion": 3, "packages": {"": {}, **lock}}))
    return files


def measure(path: Path) -> dict:
    from bot import deps
    from bot.deps.formats import read_document
    from bot.licenses import default_policy_path, load_policy

    policy = load_policy(default_policy_path())  # an empty verdict cache each time
    start = time.perf_counter()
    document = read_document(path, max_bytes=1 << 30)
    read = time.perf_counter() - start
    start = time.perf_counter()
    report = deps.check_document(document, str(path), "distribute", policy)
    check = time.perf_counter() - start
    start = time.perf_counter()
    cli = subprocess.run(
        [str(Path(sys.executable).parent / "ospo-bot"), "deps", "check", str(path), "--json", "--max-mb", "1024"],
        capture_output=True,
    )
    command = time.perf_counter() - start
    assert cli.returncode in (0, 1), cli.stderr.decode()[-2000:]
    return {
        "file": path.name, "format": document.format, "megabytes": path.stat().st_size / 1e6,
        "components": len(report.results), "read_s": read, "check_s": check, "command_s": command,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=10_000)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    import bot.deps.formats  # noqa: F401 - import time is not the check's

    with tempfile.TemporaryDirectory() as folder:
        files = [SBOMS / name for name in REAL] + list(synthetic(args.components, Path(folder)).values())
        rows = [measure(path) for path in files]
    if args.json:
        print(json.dumps(rows))
        return
    table = Table("file", "format", "MB", "components", "read", "check", "`deps check` command")
    for r in rows:
        table.add_row(
            r["file"], r["format"], f"{r['megabytes']:.1f}", str(r["components"]),
            f"{r['read_s']:.2f} s", f"{r['check_s']:.2f} s", f"{r['command_s']:.2f} s",
        )  # fmt: skip
    Console(width=max(Console().width, 130)).print(table)


if __name__ == "__main__":
    main()
