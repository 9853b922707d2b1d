"""Where ledger rows are kept: the storage protocol (base) and its backends, opened by URL."""
