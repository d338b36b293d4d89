"""Exceptions with messages that name the offending file and the fix."""


class AmodalError(Exception):
    """Base class of every error amodal raises on bad input."""


class DataError(AmodalError, ValueError):
    """A data file is missing, malformed or inconsistent with the rest of the dataset."""


class ConfigError(AmodalError, ValueError):
    """The configuration does not satisfy the schema."""
