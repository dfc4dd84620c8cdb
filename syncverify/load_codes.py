"""The load-problem codes (SV001-SV014) as documented rules; see `syncverify.rules.load_codes`."""

from syncverify.rules.load_codes import (
    AMBIGUOUS_NUMBER,
    BAD_SELECTOR,
    DUPLICATE_KEY,
    HF_CONFIG_UNREADABLE,
    INVALID_VALUE,
    LOAD_RULES,
    MISSING_KEY,
    PLAN_TOO_LARGE,
    UNKNOWN_KEY,
    UNKNOWN_NAME,
    UNREADABLE_FILE,
    UNSAFE_YAML,
    UNSUPPORTED_VERSION,
    WRONG_TYPE,
    YAML_SYNTAX,
)

__all__ = [
    "AMBIGUOUS_NUMBER",
    "BAD_SELECTOR",
    "DUPLICATE_KEY",
    "HF_CONFIG_UNREADABLE",
    "INVALID_VALUE",
    "LOAD_RULES",
    "MISSING_KEY",
    "PLAN_TOO_LARGE",
    "UNKNOWN_KEY",
    "UNKNOWN_NAME",
    "UNREADABLE_FILE",
    "UNSAFE_YAML",
    "UNSUPPORTED_VERSION",
    "WRONG_TYPE",
    "YAML_SYNTAX",
]
