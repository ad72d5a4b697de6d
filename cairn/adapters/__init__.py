"""The adapters: Cairn's ports over the store, Kafka, SMTP and secrets."""

from cairn.adapters import error_kinds  # noqa: F401  (names the libraries' errors for the domain)
