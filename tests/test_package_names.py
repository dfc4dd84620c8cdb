"""What `import syncverify` offers at the prompt: the names docs/api.md documents are listed by
`dir()` (tab completion, `help()`), and each one listed can be fetched."""

import subprocess
import sys

import pytest

import syncverify

PUBLIC = {"check", "Report", "__version__"}  # docs/api.md


def test_dir_lists_the_public_names_even_before_they_are_imported():
    # a fresh interpreter: the lazy names are not yet imported
    code = "import syncverify; print(' '.join(dir(syncverify)))"
    listed = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert PUBLIC <= listed
    assert {"__name__", "__doc__"} <= listed  # what dir() of a module always shows


def test_every_name_dir_lists_can_be_fetched():
    for name in dir(syncverify):
        getattr(syncverify, name)


def test_all_is_the_public_names_and_star_import_gives_them():
    assert set(syncverify.__all__) == PUBLIC
    namespace: dict = {}
    exec("from syncverify import *", namespace)
    assert PUBLIC <= set(namespace)
    assert namespace["check"] is syncverify.check and namespace["Report"] is syncverify.Report


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="'chek'"):
        syncverify.chek  # noqa: B018
