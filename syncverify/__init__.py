"""syncverify: a static verifier for the parallel execution plans of Transformer inference."""
__version__ = "0.1.0"
