"""Command-line interface (placeholder until the CLI lands)."""
import sys


def main() -> None:
    sys.exit(0)
