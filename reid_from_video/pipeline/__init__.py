"""The whole job in one command: ``rfv run`` (camera folder -> deployable model) and ``rfv demo``."""
