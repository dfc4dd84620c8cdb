"""syncverify: a static verifier for the parallel execution plans of Transformer inference.

`syncverify.check(plan)` checks a plan from Python and returns a `syncverify.Report`
(docs/api.md); both are imported on first use, so `import syncverify` stays cheap.
"""

__version__ = "0.1.0"
__all__ = ["Report", "__version__", "check"]


def __getattr__(name: str):
    if name in ("check", "Report"):
        from syncverify import api

        return getattr(api, name)
    raise AttributeError(f"module 'syncverify' has no attribute {name!r}")
