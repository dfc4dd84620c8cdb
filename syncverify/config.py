"""Configuration files and the per-plan policy they give (docs/config.md).

A configuration is `[tool.syncverify]` in a pyproject.toml or a `.syncverify.yaml` (`.yml`):

    select = ["SV3", "SV4"]          # report only these (codes, code prefixes, slugs, ALL)
    extend-select = ["SV7"]          # added to select
    ignore = ["SV702"]               # removed from what is selected
    severity = {SV702 = "error"}     # severity overrides by code, prefix or slug
    fail-on = "warning"              # lowest severity that makes the exit code 1
    extend-exclude = ["drafts"]      # skipped by folder walks (exclude replaces the defaults)

    [tool.syncverify.per-file-ignores]
    "plans/legacy/*.yaml" = ["SV7"]  # not reported for plans matching the pattern

Discovery works as ruff's: each plan uses the nearest configuration in its folder or a parent
folder; in one folder `.syncverify.yaml` wins over `.syncverify.yml` and `pyproject.toml`, and a
pyproject.toml without `[tool.syncverify]` does not count. A plan with none above it (and a plan
read from stdin without `--stdin-filename`) uses the one found from the current directory up.
`--config PATH` uses one file for every plan; `--isolated` reads none.

Command-line options are a second layer over the file: `--select` replaces the file's
selection, `--extend-select` and `--ignore` add to it, `--fail-on` replaces `fail-on`.
`per-file-ignores` of both layers apply last, to the plans their patterns match (as in ruff,
a `--select` does not undo them).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from syncverify.findings import SEVERITIES
from syncverify.selection import Selection, codes_named, selection_reporting
from syncverify.usage import UsageProblem, suggestions

YAML_NAMES = (".syncverify.yaml", ".syncverify.yml")
PYPROJECT = "pyproject.toml"
KEYS = (
    "select",
    "extend-select",
    "ignore",
    "per-file-ignores",
    "severity",
    "fail-on",
    "exclude",
    "extend-exclude",
)
# Folders and files a directory walk skips unless `exclude` replaces the list: ruff's defaults
# (version control, virtual environments, caches, build output). Folders whose name starts with
# a dot are skipped whatever `exclude` says, as before there was an `exclude`.
DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    "__pypackages__",
    "_build",
    "buck-out",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
)
FAIL_LEVELS = ("error", "warning")


@dataclass(frozen=True)
class Settings:
    """One layer of options: a configuration file's, or the command line's."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: tuple[tuple[str, str], ...] = ()  # (code, prefix or slug; severity)
    fail_on: str | None = None
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (file pattern, names)
    exclude: tuple[str, ...] | None = None  # replaces DEFAULT_EXCLUDE when given
    extend_exclude: tuple[str, ...] = ()
    root: Path | None = None  # the folder patterns are relative to (None: cwd)
    source: str = "the command line"  # where it was read, for messages


@dataclass(frozen=True)
class Policy:
    """What to do with one plan: which rules run, which codes are reported, severities."""

    run: tuple | None = None  # rules to run (None: every rule)
    reported: frozenset | None = None  # codes to report (None: every code)
    severity: Mapping[str, str] = field(default_factory=dict)  # code -> severity
    fail_on: str = "error"

    @property
    def selection(self) -> Selection | None:
        """The rules to run and the codes to report, or None for everything."""
        if self.run is None or self.reported is None:
            return None
        return Selection(self.run, self.reported)


# ------------------------------------------------------------------------- reading files


def names_list(value, where: str) -> tuple[str, ...]:
    """A list of rule names from a list of strings or one comma-separated string."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageProblem(f"{where}: expected a list of rule codes, prefixes or slugs")
    return tuple(v.strip() for v in value if v.strip())


def patterns_list(value, where: str) -> tuple[str, ...]:
    """A list of file patterns (gitignore-style globs), from a list or a comma-separated string."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageProblem(
            f'{where}: expected a list of file patterns, e.g. ["k8s/", "*.tmpl.yaml"]'
        )
    return tuple(v.strip() for v in value if v.strip())


def severity_table(value, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise UsageProblem(
            f'{where}: expected a table of rule -> severity, e.g. {{SV702 = "error"}}'
        )
    for name, level in value.items():
        if level not in SEVERITIES:
            raise UsageProblem(
                f"{where}: {name}: expected one of {', '.join(SEVERITIES)}, got {level!r}"
            )
    return tuple((str(name), level) for name, level in value.items())


def per_file_table(value, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """file pattern -> rule names, from a table of lists (or comma-separated strings)."""
    if not isinstance(value, dict):
        raise UsageProblem(
            f"{where}: expected a table of file pattern -> rule names, "
            'e.g. {"plans/legacy/*.yaml" = ["SV7"]}'
        )
    return tuple(
        (str(pattern), names_list(names, f"{where}: {pattern}")) for pattern, names in value.items()
    )


def settings_from(table, source: str, root: Path | None = None) -> Settings:
    """Validate a configuration table (already parsed) into Settings."""
    if table is None:
        table = {}
    if not isinstance(table, dict):
        raise UsageProblem(f"{source}: expected a mapping of options ({', '.join(KEYS)})")
    for key in table:
        if key not in KEYS:
            close = suggestions(str(key), KEYS)
            hint = f"; did you mean '{close[0]}'?" if close else f" (known: {', '.join(KEYS)})"
            raise UsageProblem(f"{source}: unknown option '{key}'{hint}")
    fail_on = table.get("fail-on")
    if fail_on is not None and fail_on not in FAIL_LEVELS:
        raise UsageProblem(f"{source}: fail-on: expected 'error' or 'warning', got {fail_on!r}")
    return Settings(
        select=names_list(table["select"], f"{source}: select") if "select" in table else None,
        extend_select=names_list(table.get("extend-select", []), f"{source}: extend-select"),
        ignore=names_list(table.get("ignore", []), f"{source}: ignore"),
        severity=severity_table(table.get("severity", {}), f"{source}: severity"),
        per_file_ignores=per_file_table(
            table.get("per-file-ignores", {}), f"{source}: per-file-ignores"
        ),
        fail_on=fail_on,
        exclude=patterns_list(table["exclude"], f"{source}: exclude")
        if "exclude" in table
        else None,
        extend_exclude=patterns_list(table.get("extend-exclude", []), f"{source}: extend-exclude"),
        root=root,
        source=source,
    )


# A configuration is a few dozen lines; a pyproject.toml holds other tools' tables too. No more
# is read, so that an endless file (/dev/zero) or a generated one costs little: tomllib reads
# 1 MB in ~0.4 s, PyYAML's safe loader 64 KB in ~0.4 s (its C loader would recurse without a
# limit on deep nesting, so the Python one is used).
MAX_PYPROJECT_BYTES = 1024 * 1024
MAX_YAML_CONFIG_BYTES = 64 * 1024
# the ValueError of Python's int() past 4,300 digits, which the parsers let through
TOO_MANY_DIGITS = "{}: holds a number of more than 4,300 digits: not a configuration"


def read_config_text(path: Path, limit: int) -> str:
    """The text of a configuration file, at most `limit` bytes of UTF-8 (else UsageProblem)."""
    from syncverify.atomic import file_kind

    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            # a FIFO waits for a writer that may never come, /dev/zero never ends
            raise UsageProblem(
                f"{shown_path(path)}: is {file_kind(mode)}, not a configuration file"
            )
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise UsageProblem(f"{shown_path(path)}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise UsageProblem(
            f"{shown_path(path)}: more than the {limit:,} bytes syncverify reads "
            f"of a configuration file"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise UsageProblem(
            f"{shown_path(path)}:{line}: not UTF-8 text (byte "
            f"0x{raw[exc.start]:02x}); save it as UTF-8"
        ) from None


def read_pyproject(path: Path) -> dict | None:
    """The `[tool.syncverify]` table of a pyproject.toml, or None when it has none."""
    import tomllib

    text = read_config_text(path, MAX_PYPROJECT_BYTES)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageProblem(f"{shown_path(path)}: not valid TOML: {exc}") from None
    except RecursionError:
        raise UsageProblem(f"{shown_path(path)}: nested too deeply to be a configuration") from None
    except ValueError:
        raise UsageProblem(TOO_MANY_DIGITS.format(shown_path(path))) from None
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise UsageProblem(
            f"{shown_path(path)}: `tool` is {type(tool).__name__} {tool!r:.40}, "
            f"not a table: TOML tools read [tool.NAME] tables"
        )
    return tool.get("syncverify")


def read_yaml(path: Path):
    import yaml

    text = read_config_text(path, MAX_YAML_CONFIG_BYTES)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = shown_path(path) + (f":{mark.line + 1}:{mark.column + 1}" if mark else "")
        raise UsageProblem(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:
        raise UsageProblem(f"{shown_path(path)}: nested too deeply to be a configuration") from None
    except ValueError:
        raise UsageProblem(TOO_MANY_DIGITS.format(shown_path(path))) from None


def load_settings(path: Path) -> Settings:
    """The Settings of a configuration file named explicitly or found by discovery."""
    shown = shown_path(path)
    if path.name == PYPROJECT or path.suffix == ".toml":
        table = read_pyproject(path)
        if table is None:
            raise UsageProblem(f"{shown}: no [tool.syncverify] table")
        return settings_from(table, f"{shown} [tool.syncverify]", path.resolve().parent)
    return settings_from(read_yaml(path), shown, path.resolve().parent)


def shown_path(path: Path) -> str:
    """A configuration file's path for messages: relative below the current directory."""
    relative = os.path.relpath(os.path.abspath(path))
    return str(path) if relative.startswith("..") else relative


def config_in(folder: Path) -> Path | None:
    """The configuration file that counts in `folder`, if any."""
    for name in YAML_NAMES:
        if (folder / name).is_file():
            return folder / name
    pyproject = folder / PYPROJECT
    if pyproject.is_file() and read_pyproject(pyproject) is not None:
        return pyproject
    return None


# ------------------------------------------------------------------------- discovery


def resolved(path: Path) -> Path:
    """`path` with links and `..` resolved as far as they go (Path.resolve raises RuntimeError on
    a symlink loop; the plan's own load then reports it, at the plan)."""
    return Path(os.path.realpath(path))


class Configurations:
    """The Policy of each plan: its nearest configuration file, then the command line.

    Folders and files are looked at once per run (cached), so checking a fleet of plans in
    one folder reads one configuration.
    """

    def __init__(
        self,
        cli: Settings,
        *,
        config: str | None = None,
        isolated: bool = False,
        cwd: Path | None = None,
    ):
        if config and isolated:
            raise UsageProblem("--config and --isolated exclude each other")
        self.cli = cli
        self.isolated = isolated
        self.cwd = Path(cwd or os.getcwd()).resolve()
        self.explicit = load_settings(Path(config)) if config else None
        self.files_read: list[Path] = [Path(config)] if config else []
        self._nearest: dict[Path, Path | None] = {}
        self._policies: dict[Path | None, Policy] = {}

    def nearest(self, folder: Path) -> Path | None:
        """The configuration file in `folder` or its nearest parent that has one."""
        trail = []
        found = None
        for current in (folder, *folder.parents):
            if current in self._nearest:
                found = self._nearest[current]
                break
            trail.append(current)
            found = config_in(current)
            if found is not None:
                break
        for visited in trail:
            self._nearest[visited] = found
        return found

    def file_for(self, plan: str | None) -> Path | None:
        """The configuration file a plan (a path, or None for stdin) uses, if any."""
        if self.isolated:
            return None
        found = self.nearest(resolved(self.cwd / plan).parent) if plan else None
        return found if found is not None else self.nearest(self.cwd)

    def policy_for(self, plan: str | None) -> Policy:
        """The Policy of a plan path (None: standard input without a name)."""
        if self.explicit is not None:
            key, layers = None, [self.explicit, self.cli]
        else:
            key = self.file_for(plan)
            layers = ([self.settings_of(key)] if key else []) + [self.cli]
        where = resolved(self.cwd / plan) if plan else None
        matched = tuple(
            frozenset(
                pattern
                for pattern, _ in layer.per_file_ignores
                if where is not None and path_matches(pattern, where, layer.root or self.cwd)
            )
            for layer in layers
        )
        return self.policy((key, matched), layers, matched)

    def excluded(self, path: Path) -> bool:
        """Whether `exclude` / `extend-exclude` (of the configuration that applies at `path`,
        then the command line) leave out the file or folder `path` itself."""
        if self.explicit is not None:
            layers = [self.explicit, self.cli]
        else:
            found = self.file_for(str(path))
            layers = ([self.settings_of(found)] if found else []) + [self.cli]
        where = resolved(self.cwd / path)
        return any(
            path_matches(pattern, where, root)
            and ("/" not in pattern or inside(where, root))  # a path pattern: below its root
            for pattern, root in exclusions(layers, self.cwd)
        )

    def settings_of(self, path: Path) -> Settings:
        if path not in self.files_read:
            self.files_read.append(path)
        return load_settings(path)

    def policy(self, key, layers: list[Settings], matched: tuple[frozenset, ...]) -> Policy:
        if key not in self._policies:
            self._policies[key] = resolve(layers, matched)
        return self._policies[key]


def exclusions(layers: list[Settings], cwd: Path) -> list[tuple[str, Path]]:
    """(pattern, the folder it is relative to) of the layers in order: `exclude` replaces what
    earlier layers (and the defaults) give, `extend-exclude` adds."""
    patterns = [(pattern, cwd) for pattern in DEFAULT_EXCLUDE]
    for layer in layers:
        root = layer.root or cwd
        if layer.exclude is not None:
            patterns = [(pattern.rstrip("/"), root) for pattern in layer.exclude]
        patterns += [(pattern.rstrip("/"), root) for pattern in layer.extend_exclude]
    return patterns


def inside(path: Path, root: Path) -> bool:
    """Whether `path` is below `root` (a path pattern never reaches above its configuration)."""
    return path != root and path.is_relative_to(root)


def path_matches(pattern: str, plan: Path, root: Path) -> bool:
    """Whether a per-file-ignores pattern matches a plan (an absolute path).

    As in ruff: a pattern without a `/` matches the file name; any other is matched against the
    plan's path relative to `root` (the configuration's folder, or the current directory for
    the command line), with `*` crossing folders and a leading `**/` matching none too.
    """
    from fnmatch import fnmatchcase

    pattern = pattern.removeprefix("./")
    if "/" not in pattern:
        return fnmatchcase(plan.name, pattern)
    relative = Path(os.path.relpath(plan, root)).as_posix()
    return fnmatchcase(relative, pattern) or (
        pattern.startswith("**/") and fnmatchcase(relative, pattern[3:])
    )


# ------------------------------------------------------------------------- layering


def resolve(layers: list[Settings], matched: tuple[frozenset, ...] | None = None) -> Policy:
    """Apply the layers in order: `select` replaces what earlier layers chose, `extend-select`
    adds, `ignore` removes; severity overrides and `fail-on` of later layers win. Last, each
    layer's `per-file-ignores` whose pattern is in `matched` (one set per layer) remove theirs."""
    from syncverify.rules import ALL_RULES

    every = frozenset(r.code for r in ALL_RULES)
    reported, severity, fail_on = set(every), {}, "error"
    for layer in layers:
        if layer.select is not None:
            reported = named(layer.source, "select", layer.select, ALL_RULES)
        reported |= named(layer.source, "extend-select", layer.extend_select, ALL_RULES)
        reported -= named(layer.source, "ignore", layer.ignore, ALL_RULES)
        severity.update(severity_overrides(layer, ALL_RULES))
        fail_on = layer.fail_on or fail_on
    for layer, patterns in zip(layers, matched or [frozenset()] * len(layers)):
        for pattern, names in layer.per_file_ignores:
            codes = named(layer.source, "per-file-ignores", names, ALL_RULES)  # typos fail anywhere
            if pattern in patterns:
                reported -= codes
    if reported == every:
        return Policy(severity=severity, fail_on=fail_on)
    run, chosen = selection_reporting(reported, ALL_RULES)
    return Policy(run=run, reported=chosen, severity=severity, fail_on=fail_on)


def named(source: str, option: str, names: tuple[str, ...], rules) -> set[str]:
    label = f"--{option}" if source == "the command line" else f"{source}: {option}"
    return codes_named(label, ",".join(names), rules) if names else set()


def severity_overrides(layer: Settings, rules) -> dict[str, str]:
    """code -> severity; a selector naming fewer rules wins (SV702 over SV7)."""
    resolved = []
    for selector, level in layer.severity:
        codes = named(layer.source, "severity", (selector,), rules)
        resolved.append((len(codes), codes, level))
    out: dict[str, str] = {}
    for _, codes, level in sorted(resolved, key=lambda item: -item[0]):
        out.update(dict.fromkeys(codes, level))
    return out
