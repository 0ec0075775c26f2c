"""deploy/: the Kubernetes example and the image run what this code accepts: command lines `ospo-bot
serve` and `chroma run` parse, every variable set is a setting the bot reads, the probes and ports
agree, and the bot finds the Chroma server by its Service's name."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from bot.cli import cli
from bot.config import Settings

DEPLOY = Path(__file__).parents[1] / "deploy"


def objects() -> dict[tuple[str, str], dict]:
    docs = yaml.safe_load_all((DEPLOY / "kubernetes.yml").read_text(encoding="utf-8"))
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def container(deployment: dict) -> dict:
    (found,) = deployment["spec"]["template"]["spec"]["containers"]
    return found


def port_of(args: list[str]) -> int:
    return int(args[args.index("--port") + 1])


def test_the_bot_runs_several_replicas_ready_on_healthz():
    found = objects()
    bot = found[("Deployment", "ospo-bot")]
    assert bot["spec"]["replicas"] >= 2
    main = container(bot)
    assert main["args"][:2] == ["ospo-bot", "serve"]
    cli.commands["serve"].make_context("serve", main["args"][2:])  # options `serve` accepts
    assert main["ports"][0]["containerPort"] == port_of(main["args"])
    for probe in ("readinessProbe", "startupProbe", "livenessProbe"):
        assert main[probe]["httpGet"] == {"path": "/healthz", "port": main["ports"][0]["name"]}
    settings = {field.alias for field in Settings.model_fields.values()}
    assert {variable["name"] for variable in main["env"]} <= settings
    secret = re.findall(r"--from-literal=(\w+)=", (DEPLOY / "kubernetes.yml").read_text(encoding="utf-8"))
    assert set(secret) == {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "OSPO_DATABASE_URL"} and set(secret) <= settings
    env = {variable["name"]: variable["value"] for variable in main["env"]}
    chroma = found[("Service", env["CHROMA_HOST"])]
    assert chroma["spec"]["ports"][0]["port"] == int(env["CHROMA_PORT"])
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert json.loads(re.search(r"^CMD (.+)$", dockerfile, re.M).group(1)) == main["args"]


def test_the_chroma_server_is_chroma_run_of_the_same_image():
    found = objects()
    server = container(found[("Deployment", "ospo-chroma")])
    assert server["image"] == container(found[("Deployment", "ospo-bot")])["image"]
    assert server["args"][:2] == ["chroma", "run"]
    usage = subprocess.run(
        [str(Path(sys.executable).parent / "chroma"), "run", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    for option in server["args"][2::2]:
        assert option in usage, option
    assert server["ports"][0]["containerPort"] == port_of(server["args"])
    assert server["readinessProbe"]["httpGet"]["path"] == "/api/v2/heartbeat"  # what tests/conftest.py waits on
