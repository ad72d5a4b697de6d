"""Open Badges 3.0 credentials: building, Data Integrity proofs and verification (pure, no I/O)."""
