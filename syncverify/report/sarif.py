"""`sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers (docs/ci.md).

One run. `tool.driver.rules` describes every rule that reported (code as `id`, slug as `name`,
the summary, the "What it checks" section, the rule's page as help); each result points at
its plan with a URI relative to `%SRCROOT%` (the directory syncverify ran in, usually the
repository root) and a 1-based region counted in Unicode code points. `partialFingerprints`
carries a fingerprint of our own, `syncverify/v1`: a hash of the rule, the plan, where in the
execution the defect sits and the message without line numbers, so that an alert keeps its
identity when the plan is edited above it. The `primaryLocationLineHash` GitHub uses is left to
`upload-sarif`, which computes it. Plain `json.dumps`, never rich.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

from syncverify import __version__
from syncverify.findings import Finding
from syncverify.report import Report, relative_path

PROBLEMS_ON_STDERR = True  # stdout is for programs: say why exit 2 on stderr
SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "syncverify/v1"
DESCRIPTION_LIMIT = 1024  # GitHub's limit for short and full descriptions
LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def render(report: Report, stream: TextIO, *, color: str = "auto", quiet: bool = False) -> None:
    stream.write(json.dumps(document(report), indent=2, sort_keys=True) + "\n")


def document(report: Report, root: str | None = None) -> dict:
    """The SARIF log of `report`; paths are made relative to `root` (default: cwd)."""
    root = os.path.abspath(root or os.getcwd())
    findings = report.all_findings()
    codes = sorted({f.code for f in findings})
    index = {code: i for i, code in enumerate(codes)}
    examples = {f.code: f for f in findings}
    seen: Counter = Counter()
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver([descriptor(code, examples[code]) for code in codes])},
                "originalUriBaseIds": {SRCROOT: {"uri": Path(root).as_uri().rstrip("/") + "/"}},
                "columnKind": "unicodeCodePoints",
                "invocations": [
                    {"executionSuccessful": report.exit_code != 2, "exitCode": report.exit_code}
                ],
                "results": [result(f, index[f.code], root, seen) for f in findings],
            }
        ],
    }


def driver(rules: list[dict]) -> dict:
    out = {"name": "syncverify", "version": __version__, "rules": rules}
    homepage = information_uri()
    if homepage:
        out["informationUri"] = homepage
    return out


def information_uri() -> str | None:
    """The project's home page from the installed package's metadata, if it declares one."""
    from importlib import metadata

    try:
        urls = metadata.metadata("syncverify").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("homepage", "home", "repository", "source", "documentation"):
            return url.strip()
    return None


# ------------------------------------------------------------------------- rules


def descriptor(code: str, example: Finding) -> dict:
    """The reportingDescriptor of a rule; from the registry, or from a finding of an unknown
    code (a plugin or a test) so that every result still has its rule."""
    from syncverify.report.rule_docs import rule_page
    from syncverify.rules import BY_CODE

    rule = BY_CODE.get(code)
    if rule is None:
        text = example.message
        return {
            "id": code,
            "name": example.slug,
            "shortDescription": {"text": clip(text)},
            "fullDescription": {"text": clip(text)},
            "help": {"text": text},
            "defaultConfiguration": {"level": LEVEL[example.severity]},
            "properties": {"tags": [example.category]},
        }
    page = rule_page(rule)
    return {
        "id": rule.code,
        "name": rule.slug,
        "shortDescription": {"text": clip(rule.summary)},
        "fullDescription": {"text": clip(section(rule.page, "What it checks") or rule.summary)},
        "help": {"text": page, "markdown": page},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {"tags": [rule.category]},
    }


def section(page: str, title: str) -> str:
    """The text of a `## title` section of a rule page, on one line."""
    match = re.search(rf"^##\s+{re.escape(title)}\s*$(.*?)(?=^##\s|\Z)", page or "", re.M | re.S)
    return " ".join(match.group(1).split()) if match else ""


def clip(text: str) -> str:
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 3] + "..."


# ------------------------------------------------------------------------- results


def result(finding: Finding, rule_index: int, root: str, seen: Counter) -> dict:
    uri, base = artifact_uri(finding.file, root)
    artifact = {"uri": uri}
    if base:
        artifact["uriBaseId"] = base
    location: dict[str, object] = {
        "physicalLocation": {"artifactLocation": artifact, "region": region(finding)}
    }
    logical = logical_name(finding)
    if logical:
        location["logicalLocations"] = [{"fullyQualifiedName": logical}]
    digest = fingerprint(finding, uri)
    seen[digest] += 1
    out = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.severity],
        "message": message(finding),
        "locations": [location],
        "partialFingerprints": {FINGERPRINT: f"{digest}:{seen[digest]}"},
        "properties": properties(finding),
    }
    return out


def artifact_uri(file: str, root: str) -> tuple[str, str | None]:
    """(uri, uriBaseId): relative to %SRCROOT% below `root`, an absolute file URI elsewhere."""
    if file.startswith("<") or not is_outside(file, root):
        return quote(relative_path(file, root)), SRCROOT
    return Path(os.path.abspath(file)).as_uri(), None


def is_outside(file: str, root: str) -> bool:
    try:
        return os.path.relpath(os.path.abspath(file), root).startswith("..")
    except ValueError:  # another drive (Windows)
        return True


def region(finding: Finding) -> dict:
    end_line = max(finding.end_line or finding.line, finding.line)
    end_column = finding.end_column or finding.column
    if end_line == finding.line:
        end_column = max(end_column, finding.column)
    return {
        "startLine": max(finding.line, 1),
        "startColumn": max(finding.column, 1),
        "endLine": max(end_line, 1),
        "endColumn": max(end_column, 1),
    }


def logical_name(finding: Finding) -> str:
    """Where in the unrolled execution, in the words of the text report."""
    from syncverify.report.text import describe_where

    return describe_where(finding)


def message(finding: Finding) -> dict:
    out = {"text": finding.message}
    if finding.help:
        out["markdown"] = f"{finding.message}\n\n```\n{finding.help.rstrip()}\n```"
    return out


def properties(finding: Finding) -> dict:
    out = {"category": finding.category, "slug": finding.slug, "where": finding.where.as_dict()}
    if finding.help:
        out["help"] = finding.help
    if finding.trace:
        out["trace"] = list(finding.trace)
    return out


POSITION = re.compile(r"\b(lines?|line:?)\s+\d+(-\d+)?|\b\d+:\d+\b")


def fingerprint(finding: Finding, uri: str) -> str:
    """sha256 of rule, plan, logical location and message with positions blanked out; the
    caller appends `:N`, N counting identical fingerprints before it in the same run."""
    normalised = " ".join(POSITION.sub("#", finding.message).split())
    key = "\0".join((finding.code, uri, logical_name(finding), normalised))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
