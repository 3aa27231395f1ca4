"""Configuration: flags > FHIR_IRE_* environment > TOML file > defaults, one table of options, `fhir-ire config`."""

import argparse

import pytest

from fhir_ire import config
from fhir_ire.cli import main, parser
from fhir_ire.config import ConfigError


def _args(*argv):
    p = argparse.ArgumentParser()
    config.add_arguments(p)
    return p.parse_args(list(argv))


def test_flag_beats_environment_beats_file_beats_default(tmp_path):
    file = tmp_path / "ire.toml"
    file.write_text('port = 9001\nworkers = 3\nlog-format = "json"\n')
    env = {"FHIR_IRE_CONFIG": str(file), "FHIR_IRE_PORT": "9002", "FHIR_IRE_WORKERS": "4"}
    resolved = config.resolve(_args("--port", "9003"), environ=env, cwd=tmp_path)
    assert resolved.config["PORT"] == 9003 and resolved.sources["port"] == "--port"
    assert resolved.config["WORKERS"] == 4 and resolved.sources["workers"] == "FHIR_IRE_WORKERS"
    assert resolved.config["LOG_FORMAT"] == "json" and resolved.sources["log-format"] == str(file)
    assert resolved.config["HOST"] == "127.0.0.1" and resolved.sources["host"] == "default"


def test_relative_paths_in_the_file_are_taken_from_its_folder(tmp_path):
    (tmp_path / "etc").mkdir()
    file = tmp_path / "etc" / "ire.toml"
    file.write_text('bundles = "../data/bundles"\ntrust = ["https://ehr.example.org=keys/jwks.json"]\n')
    resolved = config.resolve(_args("--config", str(file)), environ={}, cwd=tmp_path / "elsewhere")
    assert resolved.config["BUNDLES"] == str((tmp_path / "data" / "bundles").resolve())
    assert resolved.config["TRUST"] == {"https://ehr.example.org": str(tmp_path / "etc" / "keys" / "jwks.json")}


def test_repeatable_options_from_flags_environment_and_file(tmp_path):
    env = {"FHIR_IRE_CORS_ORIGIN": "https://a.example.org, https://b.example.org:8443/"}
    assert config.resolve(_args(), environ=env).config["CORS_ORIGIN"] == [
        "https://a.example.org", "https://b.example.org:8443"]
    got = config.resolve(_args("--fhir-server", "https://fhir.example.org", "--fhir-server", "https://x.org"),
                         environ=env)
    assert got.config["FHIR_SERVERS"] == ["https://fhir.example.org", "https://x.org"]


@pytest.mark.parametrize("env, message", [
    ({"FHIR_IRE_PORT": "http"}, "FHIR_IRE_PORT: not a whole number: 'http'"),
    ({"FHIR_IRE_PORT": "70000"}, "FHIR_IRE_PORT: not a port number"),
    ({"FHIR_IRE_WORKERS": "0"}, "FHIR_IRE_WORKERS: must be 1 or more"),
    ({"FHIR_IRE_LOG_FORMAT": "xml"}, "must be one of text, json"),
    ({"FHIR_IRE_CORS_ORIGIN": "example.org"}, "must be \\* or an origin"),
    ({"FHIR_IRE_TRUST": "no-separator"}, "needs ISSUER=JWKS"),
    ({"FHIR_IRE_PRELOAD": "maybe"}, "must be true or false"),
], ids=["port-text", "port-range", "workers-zero", "log-format", "cors-origin", "trust", "boolean"])
def test_a_bad_value_is_one_line_naming_where_it_came_from(env, message):
    with pytest.raises(ConfigError, match=message):
        config.resolve(_args(), environ=env)


def test_unknown_keys_in_the_file_are_refused(tmp_path):
    file = tmp_path / "ire.toml"
    file.write_text("prot = 9000\n")
    with pytest.raises(ConfigError, match="unknown option 'prot'"):
        config.resolve(_args("--config", str(file)), environ={})


def test_a_file_that_is_not_toml_is_one_line(tmp_path):
    file = tmp_path / "ire.toml"
    file.write_text("port = = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.resolve(_args("--config", str(file)), environ={})


def test_every_option_has_help_with_its_default_and_variable():
    top, _ = parser()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction)).choices["serve"]
    text = sub.format_help().replace("\n", " ")
    text = " ".join(text.split())
    for o in config.OPTIONS:
        assert f"--{o.name}" in text
        assert f"env {o.env}" in text, o.name
    assert "(default: 8080; env FHIR_IRE_PORT)" in text and "(default: 127.0.0.1; env FHIR_IRE_HOST)" in text


def test_config_command_masks_secrets_and_names_sources(capsys, monkeypatch):
    monkeypatch.setenv("FHIR_IRE_JTI_STORE", "redis://:s3cret@cache.example.org:6379/0")
    monkeypatch.setenv("FHIR_IRE_PROT", "1")
    assert main(["config", "--keyfile-password", "hunter2", "--port", "9100"]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out and "hunter2" not in out
    assert 'jti-store = "redis://:****@cache.example.org:6379/0"' in out and "# FHIR_IRE_JTI_STORE" in out
    assert 'keyfile-password = "****"' in out
    assert any(line.startswith("port = 9100") and line.endswith("# --port") for line in out.splitlines())
    assert "FHIR_IRE_PROT names no option" in out


def test_config_output_is_a_usable_config_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["config", "--port", "9200", "--cors-origin", "*", "--workers", "3"]) == 0
    file = tmp_path / "saved.toml"
    file.write_text(capsys.readouterr().out)
    again = config.resolve(_args("--config", str(file)), environ={}).config
    assert (again["PORT"], again["CORS_ORIGIN"], again["WORKERS"]) == (9200, ["*"], 3)


def test_defaults_cover_every_option():
    defaults = config.defaults()
    assert set(defaults) == {o.group or o.config_key for o in config.OPTIONS}
    assert defaults["LIMITS"]["max_body_bytes"] == config.option("max-body-bytes").default


def test_limits_are_options_gathered_in_one_entry():
    env = {"FHIR_IRE_MAX_ORDERS": "7", "FHIR_IRE_TIME_BUDGET": "2.5"}
    got = config.resolve(_args("--max-body-bytes", "1000"), environ=env).config["LIMITS"]
    assert (got["max_body_bytes"], got["max_orders"], got["time_budget"]) == (1000, 7, 2.5)


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("fhir-ire 0.")
