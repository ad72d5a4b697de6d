"""Cairn: community work in, verifiable Open Badges 3.0 credentials out."""
