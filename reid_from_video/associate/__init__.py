"""``rfv associate``: one camera network's tracklets linked into global identities (see run.py)."""
