"""The demo's cast and props: the people, the questions they ask (the files beside this module), the
projects they contribute to, the CLAs, releases and exceptions they ask for, and what approvers and
the OSPO team say."""

from __future__ import annotations

import json
from importlib import resources

APPROVERS = ("U0OSPOLEAD", "U0OSPOREVIEW")
TRIAGE_CHANNEL = "C0OSPOTRIAGE"
HELP_CHANNEL = "C0ASKOSPO"
QUIET_TOPICS = ("community/",)
USERS = [f"U0DEMO{n:03d}" for n in range(1, 31)]

# (repository, license, CLA) of the projects people contribute to; the first ones most often.
PROJECTS = [
    ("https://github.com/kubernetes/kubernetes", "Apache-2.0", "CNCF"),
    ("https://github.com/pallets/flask", "BSD-3-Clause", "none"),
    ("https://github.com/python/cpython", "PSF-2.0", "PSF"),
    ("https://github.com/apache/kafka", "Apache-2.0", "Apache"),
    ("https://github.com/rust-lang/rust", "MIT OR Apache-2.0", "none"),
    ("https://github.com/nodejs/node", "MIT", "dco"),
    ("https://github.com/numpy/numpy", "BSD-3-Clause", "none"),
    ("https://github.com/psf/requests", "Apache-2.0", "none"),
    ("https://github.com/prometheus/prometheus", "Apache-2.0", "dco"),
    ("https://github.com/django/django", "BSD-3-Clause", "none"),
]
PROJECT_WEIGHTS = [9, 6, 4, 3, 3, 2, 2, 2, 2, 1]
# Projects of the scripted requests below, never under a blanket approval (which would auto-approve them).
ELSEWHERE = [
    ("https://github.com/envoyproxy/envoy", "Apache-2.0", "CNCF"),
    ("https://github.com/apache/airflow", "Apache-2.0", "Apache"),
    ("https://github.com/apache/spark", "Apache-2.0", "Apache"),
]
CHANGES = [
    "Fix a crash when the config file is empty.",
    "Correct a typo in the installation guide.",
    "Add tests for the retry logic.",
    "Fix an off-by-one error in pagination.",
    "Document the --timeout flag.",
    "Fix a race in the connection pool shutdown.",
]
FEATURES = [
    "Add OpenTelemetry tracing to the client.",
    "Add a --json output mode to the CLI.",
    "Support IPv6 addresses in the service discovery.",
    "Add a pluggable cache backend.",
]
CLAS = [
    ("https://github.com/grafana/grafana", "AGPL-3.0", "Grafana Labs CLA"),
    ("https://github.com/elastic/elasticsearch", "Elastic-2.0", "Elastic Contributor Agreement"),
    ("https://github.com/hashicorp/terraform", "BUSL-1.1", "HashiCorp CLA"),
    ("https://github.com/mongodb/mongo", "SSPL-1.0", "MongoDB CLA"),
]
RELEASES = [
    ("yamlint-pro", "Open-source our YAML linter.", "Apache-2.0"),
    ("kube-cost-exporter", "Release the Prometheus exporter for cluster costs.", "Apache-2.0"),
    ("fastjsonpath", "Publish our JSONPath library.", "MIT"),
    ("terraform-provider-acme", "Release our Terraform provider for the ACME API.", "MPL-2.0"),
    ("design-tokens", "Publish the design tokens of our UI kit.", "MIT"),
]
PERSONAL = [
    "A recipe manager app on weekends, no company code.",
    "A Rust crate for parsing GPX files, written in my own time.",
    "A Home Assistant integration for my heat pump.",
]
EXCEPTIONS = [
    ("https://github.com/mongodb/mongo", "SSPL", "saas", "Needed for the analytics service.", "reject"),
    ("https://github.com/qt/qtbase", "LGPL-3.0", "distribute", "The desktop client uses Qt.", "approve"),
    ("https://github.com/ffmpeg/ffmpeg", "LGPL-2.1", "distribute", "Video thumbnails in the app.", "approve"),
]
REJECTIONS = [
    "The change includes code from our internal billing service.",
    "This needs a release request instead: it is our own earlier code.",
]
QUESTIONS_FOR_INFO = [
    "Does the patch contain anything from our internal repositories?",
    "Which team will maintain this contribution?",
]
ESCALATION_ANSWERS = [
    "Good question. That case is not in the handbook yet: file a contribute request with /ospo approve "
    "and mention this thread, and we will look at it within two business days.",
    "You can go ahead, as long as the code has no company-confidential parts. We'll add this to the handbook.",
    "Please ask Legal (legal@example.com) about that one; it depends on the customer contract.",
    "No approval needed for that; sign off your commits with your company email.",
]
DOWN_REASONS = ["It didn't answer my question.", "This looks out of date.", "", "Not my case: we ship to customers."]


class DemoError(Exception):
    """The database is not fresh, or the bundled questions are missing."""


def questions(name: str) -> list[dict]:
    """One of the question files shipped with this package: a JSON object per line."""
    try:
        text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    except OSError as error:
        raise DemoError(
            f"the demo's {name} is missing from the installed package ({error}); reinstall ospo-bot"
        ) from None
    return [json.loads(line) for line in text.splitlines() if line.strip()]
