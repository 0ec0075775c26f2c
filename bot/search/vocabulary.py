"""The field's vocabulary: what people type in questions -> how documents write it.

Used on the question only. Expansions are added (never substituted), so a question
that already uses the document's words loses nothing.
"""

from __future__ import annotations

import re

# Lowercase keys: a whole word (or phrase) in the question.
EXPANSIONS: dict[str, str] = {
    "oss": "open source software",
    "foss": "free and open source software",
    "floss": "free libre open source software",
    "ospo": "open source program office",
    "cla": "contributor license agreement",
    "clas": "contributor license agreements",
    "icla": "individual contributor license agreement",
    "ccla": "corporate contributor license agreement",
    "dco": "developer certificate of origin sign-off",
    "signoff": "sign-off developer certificate of origin",
    "sbom": "software bill of materials",
    "sboms": "software bill of materials",
    "spdx": "software package data exchange license identifier",
    "coc": "code of conduct",
    "dei": "diversity equity inclusion",
    "d&i": "diversity inclusion",
    "pr": "pull request contribution",
    "prs": "pull requests contributions",
    "mr": "merge request contribution",
    "repo": "repository",
    "repos": "repositories",
    "cve": "vulnerability security advisory",
    "vuln": "vulnerability",
    "eccn": "export control classification number",
    "ear": "export administration regulations",
    "saas": "software as a service network hosted",
    "gsoc": "google summer of code mentorship",
    "lf": "linux foundation",
    "cncf": "cloud native computing foundation",
    "osi": "open source initiative approved",
    "tm": "trademark",
    "agpl": "gnu affero general public license network copyleft",
    "agplv3": "gnu affero general public license agpl-3.0",
    "gpl": "gnu general public license copyleft",
    "gplv2": "gnu general public license gpl-2.0 version 2",
    "gplv3": "gnu general public license gpl-3.0 version 3",
    "lgpl": "gnu lesser general public license weak copyleft",
    "lgplv3": "gnu lesser general public license lgpl-3.0",
    "mpl": "mozilla public license weak copyleft",
    "epl": "eclipse public license weak copyleft",
    "sspl": "server side public license source available",
    "busl": "business source license source available",
    "bsl": "business source license source available",
    "apache": "apache license",
    "apache2": "apache license 2.0 apache-2.0",
    "apache 2": "apache license 2.0 apache-2.0",
    "apache 2.0": "apache license 2.0 apache-2.0",
    "mit": "mit license permissive",
    "bsd": "bsd license permissive",
    "cc0": "creative commons zero public domain",
    "cc-by": "creative commons attribution",
    "copyleft": "copyleft gpl",
    "permissive": "permissive mit bsd apache",
    "2fa": "two-factor authentication",
    "mfa": "multi-factor authentication",
    "ip": "intellectual property",
    "nda": "non-disclosure agreement confidential",
    "so": "stack overflow",
    "stackoverflow": "stack overflow",
    "gh": "github",
    "infosec": "security",
    "swag": "merchandise stickers sponsorship",
}

_WORD = re.compile(r"[a-z0-9][a-z0-9&.+-]*[a-z0-9+]|[a-z0-9]")


def expand(question: str) -> str:
    """The question with the expansions of any vocabulary it uses appended."""
    lowered = question.lower()
    words = set(_WORD.findall(lowered))
    extra = []
    for term, expansion in EXPANSIONS.items():
        if " " in term:
            if re.search(rf"\b{re.escape(term)}\b", lowered):
                extra.append(expansion)
        elif term in words:
            extra.append(expansion)
    if not extra:
        return question
    return f"{question} ({'; '.join(extra)})"
