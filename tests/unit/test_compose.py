"""docker-compose.yml checked without Docker: schema, pins, order, commands, variables, secrets.

The Compose Specification's JSON schema is the one the `check-jsonschema` package ships (it
vendors compose-spec/compose-spec's schema, Apache-2.0, with the licence beside it); it is read
from the installed package and checked against the package's own SHA-256, so the test validates
against the published file rather than a copy kept here.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft202012Validator

from eventstore.roles import APP_ROLE, LOGIN_ROLES
from uep.cli import build_parser
from uep.settings import Settings
from workflows.names import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENGINE_IMAGE = "uep:"
SCHEMA_PACKAGE = "check_jsonschema.builtin_schemas.vendor"
SECRET_WORDS = ("PASSWORD", "PWD", "SECRET", "TOKEN", "API_KEY", "PRIVATE")
# Slots PostgreSQL visibility has for custom search attributes (its pre-allocated columns).
POSTGRES_VISIBILITY_SLOTS = {"Keyword": 10}
POSTGRES_VISIBILITY_OTHER_SLOTS = 3

Service = dict[str, Any]


@cache
def compose() -> dict[str, Any]:
    """docker-compose.yml as parsed YAML (anchors and merge keys resolved)."""
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def services() -> dict[str, Service]:
    """Every service by name."""
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


@cache
def dot_env() -> dict[str, str]:
    """The top-level .env: KEY=VALUE lines, comments ignored."""
    values: dict[str, str] = {}
    for line in (ROOT / ".env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def env_file_keys(path: Path) -> set[str]:
    """The variable names an env file (or its example) sets."""
    return {
        line.partition("=")[0].strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }


def interpolate(text: str) -> str:
    """Replace ``${VAR}`` with its .env value; a variable .env lacks fails the test."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in dot_env(), f"${{{name}}} is not defined in .env"
        return dot_env()[name]

    return re.sub(r"\$\{([A-Za-z0-9_]+)\}", value, text)


def engine_services() -> dict[str, Service]:
    """The services running the engine's own image."""
    return {n: s for n, s in services().items() if str(s.get("image", "")).startswith(ENGINE_IMAGE)}


def one_shot_services() -> set[str]:
    """Services others wait on to complete: jobs that run once and exit."""
    return {
        name
        for service in services().values()
        for name, condition in dict(service.get("depends_on", {})).items()
        if condition.get("condition") == "service_completed_successfully"
    }


def environment(service: Service) -> dict[str, str]:
    """A service's environment as a mapping (compose allows a list of KEY=VALUE too)."""
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.partition("=")[::2] for item in env)
    return {str(k): str(v) for k, v in dict(env).items()}


def uep_commands() -> Iterator[tuple[str, list[str]]]:
    """Every `uep ...` argument list a service runs: its command and its healthcheck."""
    for name, service in engine_services().items():
        yield name, [str(a) for a in service["command"]]
        test = service.get("healthcheck", {}).get("test", [])
        if test[:2] == ["CMD", "uep"]:
            yield f"{name} healthcheck", [str(a) for a in test[2:]]


# -- parsing and the Compose Specification ------------------------------------------------------


def test_the_compose_file_parses_into_services_and_volumes() -> None:
    assert {"postgresql", "temporal", "temporal-ui", "worker", "projector", "api"} <= set(
        services()
    )
    assert "postgres-data" in compose()["volumes"]


def compose_spec_schema() -> dict[str, Any]:
    """The Compose Specification schema from the installed check-jsonschema package, verified."""
    vendor = resources.files(SCHEMA_PACKAGE)
    raw = (vendor / "compose-spec.json").read_bytes()
    published = (vendor / "sha256" / "compose-spec.sha256").read_text().split()[0]
    assert hashlib.sha256(raw).hexdigest() == published, "the vendored schema was altered"
    assert (vendor / "licenses" / "LICENSE.compose-spec").is_file()
    schema = yaml.safe_load(raw)
    assert isinstance(schema, dict) and schema["title"] == "Compose Specification"
    return schema


def test_the_compose_file_matches_the_compose_specification_schema() -> None:
    validator = Draft202012Validator(compose_spec_schema())
    errors = sorted(validator.iter_errors(compose()), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors
    )


def test_the_schema_check_catches_a_broken_file() -> None:
    """Guards the guard: a misspelt key must fail the schema, or the check above proves nothing."""
    broken = {"services": {"worker": {"image": "x:1", "restrat": "always"}}}
    assert list(Draft202012Validator(compose_spec_schema()).iter_errors(broken))


# -- versions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(services()))
def test_every_image_is_pinned_through_a_dot_env_variable(name: str) -> None:
    image = str(services()[name]["image"])
    match = re.fullmatch(r"[a-z0-9./-]+:\$\{([A-Z0-9_]+)\}", image)
    assert match, f"{name}: image {image!r} must be name:${{VAR}} with VAR pinned in .env"
    tag = interpolate(image).rpartition(":")[2]
    assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: tag {tag!r} is not a pin"


def test_every_dot_env_variable_is_used_and_none_is_latest() -> None:
    used = set(re.findall(r"\$\{([A-Z0-9_]+)\}", COMPOSE.read_text()))
    assert set(dot_env()) == used
    assert not [k for k, v in dot_env().items() if v in ("", "latest")]
    assert not [k for k in dot_env() if any(word in k for word in SECRET_WORDS)]


def image_tag(repository: str) -> set[str]:
    """The resolved tags every service running ``repository`` uses."""
    return {
        interpolate(str(s["image"])).rpartition(":")[2]
        for s in services().values()
        if str(s["image"]).rpartition(":")[0] == repository
    }


def test_server_and_admin_tools_share_one_tag() -> None:
    server = image_tag("temporalio/server")
    assert len(server) == 1
    assert image_tag("temporalio/admin-tools") == server


def test_the_web_ui_can_send_updates_and_render_markdown_tables() -> None:
    (tag,) = image_tag("temporalio/ui")
    major, minor, *_ = (int(part) for part in tag.split("."))
    assert (major, minor) >= (2, 53)


def test_the_postgres_volume_is_mounted_where_its_major_version_keeps_data() -> None:
    (tag,) = image_tag("postgres")
    major = int(tag.split(".")[0].split("-")[0])
    expected = "/var/lib/postgresql" if major >= 18 else "/var/lib/postgresql/data"
    mounts = [str(v) for v in services()["postgresql"]["volumes"]]
    assert f"postgres-data:{expected}" in mounts


def test_the_engine_image_follows_the_project_and_the_dockerfile_pins() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert dot_env()["UEP_VERSION"] == project["version"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    default = re.search(r"^ARG PYTHON_VERSION=(\S+)$", dockerfile, re.M)
    assert default and default.group(1) == dot_env()["PYTHON_VERSION"]
    assert "USER uep" in dockerfile and 'ENTRYPOINT ["uep"]' in dockerfile
    assert "HEALTHCHECK" in dockerfile


# -- order of start ---------------------------------------------------------------------------


def condition(service: str, on: str) -> str | None:
    """The depends_on condition ``service`` has on ``on`` (None when it has none)."""
    depends = dict(services()[service].get("depends_on", {}))
    return depends[on]["condition"] if on in depends else None


def test_the_schema_job_completes_before_the_server_starts() -> None:
    assert services()["temporal-schema"]["image"] == services()["temporal"]["image"].replace(
        "server", "admin-tools"
    )
    assert condition("temporal", "temporal-schema") == "service_completed_successfully"
    assert condition("temporal-schema", "postgresql") == "service_healthy"


def test_the_engine_starts_after_migrations_and_the_namespace_job() -> None:
    assert condition("temporal-namespace", "temporal") == "service_healthy"
    assert condition("migrate", "postgresql") == "service_healthy"
    for name in ("worker", "api"):
        assert condition(name, "migrate") == "service_completed_successfully"
        assert condition(name, "temporal-namespace") == "service_completed_successfully"
    assert condition("projector", "migrate") == "service_completed_successfully"


# -- the engine's commands and settings --------------------------------------------------------


def parses(args: list[str]) -> bool:
    """True when the `uep` argument parser accepts ``args``."""
    try:
        build_parser().parse_args(args)
    except SystemExit:
        return False
    return True


@pytest.mark.parametrize(
    ("where", "args"), [c for c in uep_commands() if c[1][0] != "api"], ids=lambda v: str(v)
)
def test_every_uep_command_a_service_runs_exists(where: str, args: list[str]) -> None:
    assert parses(args), f"{where}: `uep {' '.join(args)}` is not a uep command"


def test_the_api_service_command_exists() -> None:
    assert parses([str(a) for a in services()["api"]["command"]])


def readme_settings() -> set[str]:
    """The UEP_* variables README's configuration table documents."""
    return set(re.findall(r"^\| `(UEP_[A-Z_]+)` \|", (ROOT / "README.md").read_text(), re.M))


def engine_variables() -> dict[str, str]:
    """Every variable set for the engine: compose environment, its env file, the Dockerfile."""
    found: dict[str, str] = {}
    for name, service in engine_services().items():
        for key in environment(service):
            found[key] = f"{name}: environment"
        for env_file in service.get("env_file", []):
            for key in env_file_keys(ROOT / f"{env_file}.example"):
                found[key] = f"{env_file}.example"
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    for line in dockerfile.splitlines():
        if line.startswith("ENV "):
            for key in re.findall(r"(UEP_[A-Z_]+)=", line):
                found[key] = "Dockerfile"
    return found


def test_every_engine_variable_is_a_setting_and_documented() -> None:
    settings = {f"UEP_{field.upper()}" for field in Settings.model_fields}
    variables = engine_variables()
    assert "UEP_DATABASE_URL" in variables
    unread = {k: where for k, where in variables.items() if k not in settings}
    assert not unread, f"set for the engine but read by no setting: {unread}"
    undocumented = {k: where for k, where in variables.items() if k not in readme_settings()}
    assert not undocumented, f"missing from README's configuration table: {undocumented}"


def test_the_engine_and_the_namespace_job_agree_on_the_namespace() -> None:
    namespace = environment(services()["temporal-namespace"])["NAMESPACE"]
    assert {environment(s)["UEP_NAMESPACE"] for s in engine_services().values()} == {namespace}
    ui = environment(services()["temporal-ui"])
    assert ui["TEMPORAL_DEFAULT_NAMESPACE"] == namespace


def registered_search_attributes() -> dict[str, str]:
    """Name -> type of the search attributes the namespace job registers."""
    declared = environment(services()["temporal-namespace"])["SEARCH_ATTRIBUTES"]
    pairs = [pair.partition("=") for pair in declared.split()]
    assert all(sep == "=" for _, sep, _ in pairs), declared
    names = [name for name, _, _ in pairs]
    assert len(names) == len(set(names)), f"registered twice: {declared}"
    return {name: kind for name, _, kind in pairs}


def test_the_namespace_job_registers_exactly_the_workflows_search_attributes() -> None:
    assert registered_search_attributes() == SEARCH_ATTRIBUTES
    script = (ROOT / "deploy/temporal/register-namespace.sh").read_text()
    assert "$SEARCH_ATTRIBUTES" in script and "search-attribute create" in script
    assert "--retention" in script
    retention = environment(services()["temporal-namespace"])["NAMESPACE_RETENTION"]
    assert re.fullmatch(r"\d+d", retention)


def test_the_search_attributes_fit_postgres_visibility() -> None:
    kinds = list(registered_search_attributes().values())
    for kind in set(kinds):
        room = POSTGRES_VISIBILITY_SLOTS.get(kind, POSTGRES_VISIBILITY_OTHER_SLOTS)
        assert kinds.count(kind) <= room, f"{kind}: PostgreSQL visibility has {room} slots"


# -- shape: scaling, health, restarts ------------------------------------------------------------


def test_scaled_services_have_no_container_name() -> None:
    assert services()["worker"]["deploy"]["replicas"] == 2
    assert services()["projector"]["deploy"]["replicas"] == 1
    scaled = [n for n, s in services().items() if s.get("deploy", {}).get("replicas", 1) > 1]
    assert scaled == ["worker"]
    assert not [n for n in scaled if "container_name" in services()[n]]


def test_long_running_services_have_a_healthcheck_and_a_restart_policy() -> None:
    jobs = one_shot_services()
    assert jobs == {"temporal-schema", "temporal-namespace", "migrate"}
    for name, service in services().items():
        if name in jobs:
            assert str(service["restart"]).startswith("on-failure"), name
            continue
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name}: no healthcheck"
        assert service.get("restart") == "unless-stopped", f"{name}: no restart policy"


def test_the_dynamic_config_is_mounted_and_has_no_development_flag() -> None:
    env = environment(services()["temporal"])
    assert int(env["NUM_HISTORY_SHARDS"]) > 4 and env["PROMETHEUS_ENDPOINT"].endswith(":8000")
    path = env["DYNAMIC_CONFIG_FILE_PATH"]
    mount = f"./deploy/temporal/dynamicconfig:{Path(path).parent}:ro"
    assert mount in services()["temporal"]["volumes"]
    config = yaml.safe_load((ROOT / "deploy/temporal/dynamicconfig" / Path(path).name).read_text())
    assert "system.forceSearchAttributesCacheRefreshOnRead" not in config


def test_the_web_ui_hides_terminate_and_reset() -> None:
    env = environment(services()["temporal-ui"])
    assert env["TEMPORAL_WORKFLOW_TERMINATE_DISABLED"] == "true"
    assert env["TEMPORAL_WORKFLOW_RESET_DISABLED"] == "true"


# -- secrets and files ------------------------------------------------------------------------


def test_no_secret_is_written_in_the_compose_file() -> None:
    for name, service in services().items():
        secrets = [k for k in environment(service) if any(w in k for w in SECRET_WORDS)]
        assert not secrets, f"{name}: {secrets} belong in an env file, not the YAML"


def test_every_env_file_has_a_committed_example_and_is_gitignored() -> None:
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    env_files = {f for s in services().values() for f in s.get("env_file", [])}
    assert env_files
    for env_file in env_files:
        assert (ROOT / f"{env_file}.example").is_file(), env_file
        assert f"{Path(env_file).parent}/*.env" in ignored, env_file


def test_every_mounted_file_exists_in_the_repository() -> None:
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: {source} does not exist"


def test_prometheus_scrapes_the_server_the_workers_the_projector_and_the_api() -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    hosts: set[str] = set()
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            hosts |= {t.split(":")[0] for t in static["targets"]}
        for dns in job.get("dns_sd_configs", []):
            hosts |= set(dns["names"])
    assert {"temporal", "worker", "projector", "api"} <= hosts
    assert hosts <= set(services())


def test_grafana_is_provisioned_with_the_datasource_the_dashboard_uses() -> None:
    provisioning = ROOT / "deploy/grafana/provisioning"
    source = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())
    uid = source["datasources"][0]["uid"]
    dashboard = yaml.safe_load((ROOT / "deploy/grafana/dashboards/uep-engine.json").read_text())
    targets = [target for panel in dashboard["panels"] for target in panel.get("targets", [])]
    assert {target["datasource"]["uid"] for target in targets} == {uid}
    queries = " ".join(target["expr"] for target in targets)
    for metric in ("schedule_to_start", "task_slots_available", "failed", "uep_projector_lag"):
        assert metric in queries, f"the dashboard does not chart {metric}"


# -- least privilege and the engine's metrics ---------------------------------------------------


def database_user(env_file: str) -> str:
    """The role in the UEP_DATABASE_URL of an env file's example."""
    for line in (ROOT / f"{env_file}.example").read_text().splitlines():
        if line.startswith("UEP_DATABASE_URL="):
            return str(urlsplit(line.partition("=")[2]).username)
    raise AssertionError(f"{env_file}.example sets no UEP_DATABASE_URL")


def test_only_the_migrate_job_connects_as_the_owner() -> None:
    users = {
        name: {database_user(f) for f in service.get("env_file", [])}
        for name, service in engine_services().items()
    }
    assert users.pop("migrate") == {"uep_owner"}
    assert users and all(found == {APP_ROLE} for found in users.values()), users


def test_the_init_scripts_create_the_roles_the_migrations_grant_to() -> None:
    initdb = ROOT / "deploy/postgres/initdb"
    scripts = "\n".join(p.read_text() for p in sorted(initdb.glob("*.sh")))
    created = set(re.findall(r"CREATE ROLE (\w+) LOGIN", scripts))
    assert created == {"temporal", "uep_owner", *LOGIN_ROLES}
    granted = (ROOT / "eventstore/sql/0040_least_privilege.sql").read_text()
    assert all(role in granted for role in LOGIN_ROLES)
    required = set(re.findall(r"\$\{(\w+):\?", scripts))
    assert required <= env_file_keys(ROOT / "deploy/env/postgres.env.example")


def test_prometheus_scrapes_the_engine_where_it_serves_metrics() -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets: set[tuple[str, int]] = set()
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            targets |= {(t.split(":")[0], int(t.split(":")[1])) for t in static["targets"]}
        for dns in job.get("dns_sd_configs", []):
            targets |= {(name, int(dns["port"])) for name in dns["names"]}
    port, sdk_port = Settings().metrics_port, Settings().temporal_metrics_port
    assert {("worker", port), ("worker", sdk_port), ("projector", port)} <= targets
    shared = environment(services()["worker"])
    assert shared["UEP_METRICS_HOST"] == "0.0.0.0"  # reachable from Prometheus's container


def test_the_engine_healthchecks_ask_each_service_its_readiness() -> None:
    for name in ("worker", "projector", "api"):
        assert services()[name]["healthcheck"]["test"] == ["CMD", "uep", "probe", name]
