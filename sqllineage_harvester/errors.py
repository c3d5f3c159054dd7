"""One root for every error the harvester raises on purpose.

Bad SQL is never an exception (it is a result with an ``error``); these are for
configuration, sources and stores.
"""


class HarvesterError(Exception):
    """Root of the harvester's own errors."""

    exit_code = 1


class ConfigError(HarvesterError):
    """A wrong option, an unknown dialect, an unreadable catalog file."""

    exit_code = 2
