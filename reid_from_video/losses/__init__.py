"""Re-ID training losses (torch): identity cross-entropy, batch-hard triplet, MMT's soft losses (as used by
TMC) and TAUDL's PCTD + CCTA. Each module's docstring gives the exact formula and its source."""
