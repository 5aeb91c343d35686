"""The ground floor: errors, the typed config, atomic files, devices, distances and the run-folder layout.

Nothing here imports from the rest of the package; every other layer may import from here.
"""
