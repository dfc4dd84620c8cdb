"""syncverify: a static verifier for the parallel execution plans of Transformer inference.

`syncverify.check(plan)` checks a plan from Python and returns a `syncverify.Report`
(docs/api.md); both are imported on first use, so `import syncverify` stays cheap.
"""

__version__ = "0.1.0"
_LAZY = ("check", "Report")  # defined in syncverify.api, imported on first use
__all__ = ["Report", "__version__", "check"]


def __getattr__(name: str):
    if name in _LAZY:
        from syncverify import api

        return getattr(api, name)
    raise AttributeError(f"module 'syncverify' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the lazy names are not in the module's namespace until used: list them anyway, so that
    # tab completion and help() show what docs/api.md documents
    return sorted(set(globals()) | set(_LAZY))
