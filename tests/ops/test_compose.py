"""docker-compose.yml, .env.example and the Dockerfile, checked without a Docker engine.

There is no Docker engine on the development machine, so nothing here starts a container: the
compose file is validated against the compose-spec schema and cross-checked against the
settings, the CLI and the Dockerfile. tests/wavelength/test_production_config.py runs the same
configuration without Docker.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
import typer.main
from pydantic import ValidationError
from typer.exceptions import TyperException

from tests.ops.compose import (
    COMPOSE_ONLY,
    DOCKERFILE,
    ENV_EXAMPLE,
    REPO,
    compose_schema,
    env_example_names,
    interpolated,
    load_compose,
    our_services,
    setting_env_names,
)
from wavelength.cli import app
from wavelength.settings import Environment, Settings


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = compose_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


# --- the compose-spec schema ------------------------------------------------------------------


def test_the_compose_file_is_valid_against_the_compose_spec_schema(
    compose: dict[str, Any], validator: jsonschema.protocols.Validator
) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


@pytest.mark.parametrize(
    "mistake",
    [
        {"services": {"db": {"image": "postgres:15", "healthcheck": {"tset": ["CMD", "true"]}}}},
        {"services": {"db": {"image": "postgres:15", "restart": ["always"]}}},
        {"services": {"db": {"image": "postgres:15", "depends_on": {"x": {"condition": "up"}}}}},
        {"servcies": {}},
    ],
    ids=["misspelt-key", "wrong-type", "unknown-condition", "misspelt-top-level"],
)
def test_the_schema_check_catches_a_broken_compose_file(
    mistake: dict[str, Any], validator: jsonschema.protocols.Validator
) -> None:
    assert not validator.is_valid(mistake)


def test_the_required_services_are_there(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "qdrant", "wavelength", "wavelength-scheduler", "prometheus"} <= set(
        services
    )
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["qdrant"]["image"].startswith("qdrant/qdrant:")
    assert services["prometheus"]["profiles"] == ["metrics"]  # optional


def test_every_dependency_names_a_service(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for needed in service.get("depends_on", {}):
            assert needed in compose["services"], f"{name} depends on unknown {needed}"
            assert needed != name


# --- images, healthchecks, volumes ------------------------------------------------------------


def test_every_image_is_pinned_to_a_version(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image: str = service["image"]
        assert "@sha256:" in image or re.search(r":v?\d+\.\d+", image), f"{name}: {image}"
        assert not image.endswith(":latest")


def test_the_qdrant_server_matches_the_client_version(compose: dict[str, Any]) -> None:
    from importlib.metadata import version

    client = version("qdrant-client").rsplit(".", 1)[0]  # major.minor
    assert compose["services"]["qdrant"]["image"].startswith(f"qdrant/qdrant:v{client}.")


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if service.get("restart") == "no":  # one-shot (migrate)
            continue
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name


def test_services_start_after_what_they_need_is_healthy(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("wavelength", "wavelength-scheduler"):
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["qdrant"]["condition"] == "service_healthy"


def _named_mount(service: dict[str, Any], target: str) -> str:
    for volume in service.get("volumes", []):
        source, _, where = volume.partition(":")
        if where.split(":")[0] == target:
            return source
    raise AssertionError(f"nothing is mounted at {target}")


def test_the_data_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    declared = set(compose["volumes"])
    mounts = {
        "postgres": "/var/lib/postgresql/data",
        "qdrant": "/qdrant/storage",
        "prometheus": "/prometheus",
    }
    for name, service in our_services(compose).items():
        mounts[name] = service["environment"]["WAVELENGTH_DATA_HOME"]
    for name, target in mounts.items():
        source = _named_mount(services[name], target)
        assert source in declared, f"{name}: {source} is not a named volume"
    # The image declares the same data home as a volume, owned by a non-root user.
    dockerfile = DOCKERFILE.read_text("utf-8")
    assert 'VOLUME ["/data"]' in dockerfile
    assert "WAVELENGTH_DATA_HOME=/data" in dockerfile
    assert re.search(r"^USER (?!root\b)\w+", dockerfile, re.MULTILINE)


# --- the environment: compose, settings and .env.example agree --------------------------------


def test_every_variable_the_compose_file_sets_is_a_real_setting(compose: dict[str, Any]) -> None:
    settings = setting_env_names()
    for name, service in our_services(compose).items():
        unknown = set(service["environment"]) - set(settings)
        assert unknown == set(), f"{name} sets {unknown}, which Settings never reads"


def test_every_setting_is_documented_in_env_example() -> None:
    missing = set(setting_env_names()) - set(env_example_names())
    assert missing == set()


def test_env_example_documents_nothing_that_is_not_a_setting() -> None:
    extra = set(env_example_names()) - set(setting_env_names()) - COMPOSE_ONLY
    assert extra == set()


def test_the_name_check_would_notice_a_missing_or_stray_name() -> None:
    text = ENV_EXAMPLE.read_text("utf-8")
    trimmed = "\n".join(line for line in text.splitlines() if "CF_FACTORS" not in line)
    assert "WAVELENGTH_CF_FACTORS" not in env_example_names(trimmed)
    assert "WAVELENGTH_NO_SUCH" in env_example_names(text + "\n# WAVELENGTH_NO_SUCH=1\n")


def test_compose_variables_are_documented_in_env_example(compose: dict[str, Any]) -> None:
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", (REPO / "docker-compose.yml").read_text("utf-8")))
    assert used <= set(env_example_names())


def test_every_example_value_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Uncommented as they are, the examples are values Settings accepts."""
    for name, value in env_example_names().items():
        if name not in COMPOSE_ONLY:
            monkeypatch.setenv(name, value)
    settings = Settings(environment=Environment.DEVELOPMENT)
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.telegram_mode == "webhook" or settings.telegram_mode == "polling"


def test_the_example_placeholders_are_refused_in_production(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Copying .env.example without filling it in fails at startup, not later."""
    variables = env_example_names()
    environment = our_services(compose)["wavelength"]["environment"]
    for name, value in environment.items():
        monkeypatch.setenv(name, interpolated(str(value), variables))
    monkeypatch.setenv("WAVELENGTH_SECRET_KEY", variables["WAVELENGTH_SECRET_KEY"])
    with pytest.raises(ValidationError, match="secret_key is a placeholder"):
        Settings()
    monkeypatch.setenv("WAVELENGTH_SECRET_KEY", "k" * 48)
    settings = Settings()
    assert settings.environment is Environment.PRODUCTION
    assert settings.qdrant_url == "http://qdrant:6333"
    assert settings.database_url.endswith("@postgres:5432/wavelength")


def test_interpolation_refuses_a_missing_required_variable() -> None:
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolated("${POSTGRES_PASSWORD:?set it}", {})
    assert interpolated("${QDRANT_API_KEY:-}", {}) == ""


# --- commands: the compose file only runs what the CLI has -----------------------------------


def _cli_accepts(args: list[str]) -> bool:
    """Whether ``wavelength <args>`` names a command and only options it has. Typer bundles
    its own click, so its classes are reached through typer, not ``import click``."""
    command: Any = typer.main.get_command(app)
    parent = None
    while hasattr(command, "get_command") and args:  # a group: descend
        parent = typer.Context(command, info_name=command.name, parent=parent)
        found = command.get_command(parent, args[0])
        if found is None:
            return False
        command, args = found, args[1:]
    try:
        command.make_context(command.name or "", list(args), parent=parent)
    except TyperException:  # UsageError, NoSuchOption, BadParameter
        return False
    return True


def test_the_cli_check_tells_real_commands_from_made_up_ones() -> None:
    assert _cli_accepts(["db", "upgrade"])
    assert _cli_accepts(["serve"])
    assert _cli_accepts(["serve", "--jobs-only"])
    assert _cli_accepts(["jobs", "list"])
    assert not _cli_accepts(["db", "no-such-command"])
    assert not _cli_accepts(["serve", "--no-such-flag"])
    assert not _cli_accepts(["no-such-command"])


def test_every_service_runs_a_real_cli_command(compose: dict[str, Any]) -> None:
    for name, service in our_services(compose).items():
        assert _cli_accepts(list(service["command"])), f"{name} runs {service['command']}"


def test_the_jobs_run_in_their_own_process_by_default(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["wavelength"]["command"] == ["serve", "--no-jobs"]
    scheduler = services["wavelength-scheduler"]
    assert scheduler["command"] == ["serve", "--jobs-only"]
    assert "profiles" not in scheduler  # starts with `docker compose up`
    assert "ports" not in scheduler  # it serves no HTTP
    # beside another process: the vectors must be on the server (the CLI refuses otherwise)
    assert our_services(compose)["wavelength-scheduler"]["environment"]["QDRANT_URL"]


def test_the_image_installs_the_pinned_cpu_torch_and_every_package() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    dockerfile = DOCKERFILE.read_text("utf-8")
    torch = next(d for d in project["project"]["dependencies"] if d.startswith("torch=="))
    assert f"pip install {torch} --index-url https://download.pytorch.org/whl/cpu" in dockerfile
    assert re.search(r"^FROM python:3\.11[.\d]*-slim", dockerfile, re.MULTILINE)
    for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]:
        package = pattern.rstrip("*")
        assert f"COPY {package} ./{package}" in dockerfile, f"{package} is not in the image"
