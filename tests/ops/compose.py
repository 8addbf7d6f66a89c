"""Reading the deployment files: the compose file, .env.example, the Dockerfile, the settings'
environment names. No Docker engine is needed (nor present on the development machine)."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from wavelength.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "Dockerfile"
# Variables .env.example carries for the compose file itself, not for Wavelength.
COMPOSE_ONLY = frozenset({"POSTGRES_PASSWORD"})
# The services built from our image (their environment must be Wavelength settings).
_ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")
_INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}")


def compose_schema() -> dict[str, Any]:
    """The compose-spec JSON schema (github.com/compose-spec/compose-spec, schema/
    compose-spec.json, Apache-2.0), as vendored by check-jsonschema (a dev dependency)."""
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text("utf-8"))
    return schema


def load_compose(text: str | None = None) -> dict[str, Any]:
    """The compose file as compose reads it before interpolation (YAML merge keys resolved)."""
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text("utf-8") if text is None else text)
    return data


def setting_env_names() -> dict[str, str]:
    """Every environment variable Settings reads, mapped to its field name."""
    prefix = Settings.model_config.get("env_prefix", "")
    names = {}
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        env = alias if isinstance(alias, str) else f"{prefix}{field}".upper()
        names[env] = field
    return names


def env_example_names(text: str | None = None) -> dict[str, str]:
    """Names .env.example documents, active (``NAME=v``) or commented (``# NAME=v``)."""
    found = {}
    for line in (ENV_EXAMPLE.read_text("utf-8") if text is None else text).splitlines():
        match = _ENV_LINE.match(line.strip())
        if match:
            found.setdefault(match.group(1), match.group(2))
    return found


def interpolated(value: str, variables: dict[str, str]) -> str:
    """``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}`` resolved from ``variables``
    (the subset of compose's interpolation this file uses)."""

    def one(match: re.Match[str]) -> str:
        name, op, word = match.groups()
        if variables.get(name):
            return variables[name]
        if op == "-":
            return str(word)
        raise KeyError(f"{name} is unset ({word or 'required'})")

    return _INTERPOLATION.sub(one, value)


def our_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run the wavelength image (they have a build section)."""
    return {name: svc for name, svc in compose["services"].items() if "build" in svc}
