"""The MARS video re-ID dataset as tracklet tables.

Layout (Zheng et al., ECCV 2016)::

    <root>/bbox_train/<pid4>/<name>.jpg      e.g. 0001C1T0001F001.jpg: person 1, camera 1, tracklet 1, frame 1
    <root>/bbox_test/<pid4>/<name>.jpg       distractors are "00-1C1T0001F001.jpg" (person -1)
    <root>/info/train_name.txt, test_name.txt               image names, sorted: the order the .mat rows index
    <root>/info/tracks_train_info.mat  (key track_train_info)  N x 4 rows [start, end, person_id, camera],
    <root>/info/tracks_test_info.mat   (key track_test_info)   1-based and inclusive into the name list
    <root>/info/query_IDX.mat          (key query_IDX)         1-based rows of the test info

Variants that keep the protocol under other variable names (X-MARS: ``xmars_tracks_train_info``) are read
by the arrays' shape. The loader needs only the three .mat files ("structure only"); image names, from the
name lists or else from the files under ``bbox_*/``, add each tracklet's image paths and a check that the
names agree with the rows.
Test person 0 are junk images and -1 distractors; their ids are kept as they are, as the official evaluation
treats them specially.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io

from reid_from_video.core.errors import InputError
from reid_from_video.io.mars_layout import CAMERAS, DISTRACTOR_PID, JUNK_PID, SPLITS

_TRACK_FILES = {split: (f"tracks_{split}_info.mat", f"track_{split}_info") for split in SPLITS}
_QUERY_FILE = ("query_IDX.mat", "query_IDX")
# Four characters of person id ("0001", or "00-1" for distractors), camera digit, tracklet and frame numbers.
_NAME = re.compile(r"(?P<pid>\d{4}|00-1)C(?P<camera>\d)T(?P<track>\d+)F(?P<frame>\d+)\.jpe?g", re.IGNORECASE)


@dataclass(frozen=True)
class MarsDataset:
    """MARS as tables.

    ``train`` and ``test`` have one row per tracklet (columns: see :func:`load_mars`). ``query`` holds 0-based
    row indices into ``test``; ``gallery`` is every test row, as in the official protocol (the evaluation
    drops same-camera matches and junk per query, not here). ``root`` is the MARS root (the folder holding
    ``info/``); ``has_images`` is true when both ``bbox_train/`` and ``bbox_test/`` exist under it.
    """

    root: Path
    train: pd.DataFrame
    test: pd.DataFrame
    query: np.ndarray
    gallery: np.ndarray
    has_images: bool


def parse_mars_name(name: str) -> tuple[int, int, int, int]:
    """``"0001C1T0002F003.jpg"`` -> ``(pid, camera, track_no, frame)`` = ``(1, 1, 2, 3)``.

    A path is accepted (only its file name is read). Distractors ``"00-1C..."`` give pid -1. Raises
    ``ValueError`` for anything else; callers turn it into an :class:`InputError` naming the file.
    """
    return _parse_file_name(Path(name).name)


def mars_name(pid: int, camera: int, track_no: int, frame: int) -> str:
    """The image name :func:`parse_mars_name` reads: ``(1, 1, 2, 3)`` -> ``"0001C1T0002F003.jpg"``."""
    return f"{person_folder(pid)}C{camera}T{track_no:04d}F{frame:03d}.jpg"


def person_folder(pid: int) -> str:
    """The ``bbox_*/`` sub-folder (and name prefix) of a person: ``"0001"``, or ``"00-1"`` for distractors."""
    return "00-1" if pid == DISTRACTOR_PID else f"{pid:04d}"


def _parse_file_name(name: str) -> tuple[int, int, int, int]:
    # Without the Path round trip: this runs once per image (1.19 million in MARS).
    match = _NAME.fullmatch(name)
    if match is None:
        raise ValueError(f"not a MARS image name (expected e.g. 0001C1T0001F001.jpg): {name!r}")
    pid = DISTRACTOR_PID if match["pid"] == "00-1" else int(match["pid"])
    return pid, int(match["camera"]), int(match["track"]), int(match["frame"])


def load_mars(root: str | Path) -> MarsDataset:
    """Load MARS from its root folder, or from its ``info/`` folder (images are then looked for beside it).

    Tracklet table columns, one row per .mat row and in the same order:

    - ``tracklet``: 0-based row index in its split; ``split``: "train" or "test"
    - ``pid``, ``camera`` (1..6), ``start``, ``end`` (1-based, inclusive, as in the .mat), ``n_frames``
    - ``track_no``: the T number within (pid, camera). Read from the image names when they are known;
      otherwise *derived* as the 1-based rank of the tracklet by ``start`` within its (pid, camera), which
      equals the T number when a person's tracklets in a camera are numbered without gaps (the name list is
      sorted).
    - ``paths`` (only when image names are known): the tracklet's image paths (str), in frame order.

    Image names come from ``info/<split>_name.txt`` when present, else from the sorted file names under
    ``bbox_<split>/*/``. Raises :class:`InputError` for missing files, a wrong key or shape in a .mat, bad
    rows (start > end, overlapping rows, camera outside 1..6, rows beyond the name list), a name that
    disagrees with its row, or a query index outside the test rows.
    """
    root, info = _locate(Path(root))
    tables = {}
    for split in SPLITS:
        mat_path = info / _TRACK_FILES[split][0]
        rows = _read_mat(mat_path, _TRACK_FILES[split][1], _track_rows_problem, "N x 4 protocol rows")
        if rows.ndim != 2 or rows.shape[1] != 4 or rows.shape[0] == 0:
            problem = f"expected N x 4 rows [start, end, person_id, camera], found shape {rows.shape}"
            raise InputError(mat_path, problem)
        _check_rows(mat_path, rows)
        tracks = _tracklet_table(rows, split)
        names = _image_names(root, info, split)
        if names is not None:
            tracks = _attach_names(mat_path, tracks, *names)
        tables[split] = tracks

    query_path = info / _QUERY_FILE[0]
    query = _read_mat(query_path, _QUERY_FILE[1], _vector_problem, "vector of query rows")
    if query.ndim > 2 or (query.ndim == 2 and min(query.shape) > 1):
        raise InputError(query_path, f"expected a vector of test row numbers, found shape {query.shape}")
    query = query.ravel() - 1  # the file is 1-based (MATLAB)
    n_test = len(tables["test"])
    outside = np.flatnonzero((query < 0) | (query >= n_test))
    if outside.size:
        bad = query[outside[0]] + 1
        raise InputError(query_path, f"query {outside[0] + 1} is test row {bad}, outside 1..{n_test}")

    has_images = all((root / f"bbox_{split}").is_dir() for split in SPLITS)
    return MarsDataset(root, tables["train"], tables["test"], query, np.arange(n_test), has_images)


def frames_table(tracks: pd.DataFrame) -> pd.DataFrame:
    """One row per frame of a tracklet table from :func:`load_mars`.

    Columns: ``split``, ``tracklet``, ``pid``, ``camera``, ``track_no``, ``frame`` (1-based within its
    tracklet), ``image`` (1-based index into the split's image-name list, as ``start``/``end``), and ``path``
    when the table has ``paths``.
    """
    n_frames = tracks["n_frames"].to_numpy()
    columns = ("split", "tracklet", "pid", "camera", "track_no")
    frames = pd.DataFrame({col: np.repeat(tracks[col].to_numpy(), n_frames) for col in columns})
    frames["frame"] = run_offsets(n_frames) + 1
    frames["image"] = np.repeat(tracks["start"].to_numpy(), n_frames) + frames["frame"] - 1
    if "paths" in tracks:
        frames["path"] = [path for paths in tracks["paths"] for path in paths]
    return frames


def summary(ds: MarsDataset) -> dict[str, int]:
    """Counts that identify a MARS release: tracklets, identities, identity-camera pairs, queries, frames.

    Test identities exclude junk (pid 0) and distractors (pid -1), whose tracklets are counted separately.
    """
    test_real = ds.test[~ds.test["pid"].isin([JUNK_PID, DISTRACTOR_PID])]
    return {
        "train_tracklets": len(ds.train),
        "train_identities": ds.train["pid"].nunique(),
        "train_identity_cameras": len(ds.train[["pid", "camera"]].drop_duplicates()),
        "train_frames": int(ds.train["n_frames"].sum()),
        "test_tracklets": len(ds.test),
        "test_identities": test_real["pid"].nunique(),
        "test_identity_cameras": len(test_real[["pid", "camera"]].drop_duplicates()),
        "test_junk_tracklets": int((ds.test["pid"] == JUNK_PID).sum()),
        "test_distractor_tracklets": int((ds.test["pid"] == DISTRACTOR_PID).sum()),
        "test_frames": int(ds.test["n_frames"].sum()),
        "queries": len(ds.query),
        "query_identities": ds.test["pid"].iloc[ds.query].nunique(),
        "gallery": len(ds.gallery),
    }


def run_offsets(lengths: np.ndarray) -> np.ndarray:
    """0, 1, .., n-1 for each run length n, concatenated: runs of frames expanded to per-frame positions."""
    lengths = np.asarray(lengths)
    return np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def _locate(root: Path) -> tuple[Path, Path]:
    """(MARS root, info folder) from either of them."""
    if not root.is_dir():
        raise InputError(root, "MARS folder not found")
    if (root / "info").is_dir():
        return root, root / "info"
    if (root / _TRACK_FILES["train"][0]).is_file():
        return root.parent, root
    raise InputError(root / "info", f"MARS info folder not found (it holds {_TRACK_FILES['train'][0]} etc.)")


def _track_rows_problem(array: np.ndarray) -> str | None:
    if not (array.ndim == 2 and array.shape[1] == 4 and array.shape[0] > 0):
        return f"not N x 4 rows, shape {array.shape}"
    return _rows_problem(array.astype(np.int64))


def _vector_problem(array: np.ndarray) -> str | None:
    return None if array.ndim <= 1 or (array.ndim == 2 and min(array.shape) == 1) else f"shape {array.shape}"


def _read_mat(path: Path, key: str, problem: Callable[[np.ndarray], str | None], what: str) -> np.ndarray:
    """The integer array stored under ``key`` in a MATLAB (v5/v7) file. Without ``key``, the file's one
    integer array that the protocol accepts (``problem`` finds nothing wrong with it): variants such as
    X-MARS keep the protocol under other names (``xmars_tracks_train_info``)."""
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        content = scipy.io.loadmat(path)
    except Exception as err:  # scipy raises many types for corrupt or v7.3 (HDF5) files
        raise InputError(path, f"cannot read as a MATLAB v5/v7 .mat file ({err})") from err
    variables = {k: np.asarray(v) for k, v in content.items() if not k.startswith("__")}
    if key not in variables:
        problems = {k: _integer_problem(v) or problem(v) for k, v in variables.items()}
        fitting = [k for k, found in problems.items() if found is None]
        if len(fitting) != 1:
            why = "; ".join(f"{k}: {found or 'fits too'}" for k, found in problems.items())
            raise InputError(
                path,
                f"no variable {key!r} (found {sorted(variables)}), and not one {what} ({why or 'empty'})",
            )
        key = fitting[0]
    array = variables[key]
    if _integer_problem(array):
        raise InputError(path, f"{key!r} must hold integers, found {array.dtype}")
    return array.astype(np.int64)


def _integer_problem(array: np.ndarray) -> str | None:
    if array.dtype.kind not in "iuf" or (array.dtype.kind == "f" and not np.all(np.mod(array, 1) == 0)):
        return f"not integers ({array.dtype})"
    return None


def _check_rows(path: Path, rows: np.ndarray) -> None:
    """Rows [start, end, pid, camera]: 1 <= start <= end, disjoint, pid >= -1, camera 1..6."""
    problem = _rows_problem(rows)
    if problem:
        raise InputError(path, problem)


def _rows_problem(rows: np.ndarray) -> str | None:
    start, end, pid, camera = rows.T
    checks = [
        (start < 1, "start {s} is below 1"),
        (start > end, "start {s} > end {e}"),
        (pid < DISTRACTOR_PID, "person id {p} is below -1"),
        ((camera < CAMERAS.start) | (camera >= CAMERAS.stop), "camera {c} is outside 1..6"),
    ]
    for bad, problem in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            s, e, p, c = rows[i]
            return f"row {i + 1}: " + problem.format(s=s, e=e, p=p, c=c)
    # Tracklets partition the image list, so no image may belong to two rows.
    order = np.argsort(start, kind="stable")
    overlap = np.flatnonzero(start[order[1:]] <= end[order[:-1]])
    if overlap.size:
        a, b = sorted((int(order[overlap[0]]), int(order[overlap[0] + 1])))
        return f"rows {a + 1} and {b + 1} overlap ({rows[a, :2]} and {rows[b, :2]})"
    return None


def _tracklet_table(rows: np.ndarray, split: str) -> pd.DataFrame:
    tracks = pd.DataFrame(rows, columns=["start", "end", "pid", "camera"])
    tracks.insert(0, "tracklet", np.arange(len(rows)))
    tracks = tracks[["tracklet", "pid", "camera", "start", "end"]]
    tracks["n_frames"] = tracks["end"] - tracks["start"] + 1
    # Derived T number; replaced by the one in the image names when those are known.
    tracks["track_no"] = tracks.groupby(["pid", "camera"])["start"].rank(method="first").astype(np.int64)
    tracks["split"] = split
    return tracks


def _image_names(root: Path, info: Path, split: str) -> tuple[list[str], list[str], Path] | None:
    """(names, paths, source) of a split's images in .mat index order, or None when neither is present.

    The source is the name-list file or the image folder, for error messages.
    """
    name_list = info / f"{split}_name.txt"
    folder = root / f"bbox_{split}"
    if name_list.is_file():
        lines = name_list.read_text(encoding="utf-8").splitlines()
        names = [line.strip() for line in lines]
        while names and not names[-1]:
            names.pop()
        # The name list gives where the layout puts each image (the folder is the name's 4-character pid).
        prefix = f"{folder}{os.sep}"
        paths = [f"{prefix}{name[:4]}{os.sep}{name}" for name in names]
        return names, paths, name_list
    if folder.is_dir():
        # MARS's name lists are the sorted image names, so sorting the files rebuilds them.
        files = sorted(folder.glob("*/*.jpg"), key=lambda p: p.name)
        if not files:
            raise InputError(folder, "no .jpg images found in its person folders")
        return [p.name for p in files], [str(p) for p in files], folder
    return None


def _attach_names(
    mat_path: Path, tracks: pd.DataFrame, names: list[str], paths: list[str], source: Path
) -> pd.DataFrame:
    """Check the rows against the image names; add ``paths`` and set ``track_no`` from the names."""
    parsed = np.empty((len(names), 3), dtype=np.int64)
    for i, name in enumerate(names):
        try:
            parsed[i] = _parse_file_name(name)[:3]
        except ValueError as err:
            if source.is_file():
                raise InputError(source, str(err), line=i + 1) from None
            raise InputError(paths[i], str(err)) from None

    too_far = np.flatnonzero(tracks["end"].to_numpy() > len(names))
    if too_far.size:
        row = tracks.iloc[too_far[0]]
        problem = f"row {row.tracklet + 1}: end {row.end} is beyond the {len(names)} image names of {source}"
        raise InputError(mat_path, problem)

    n_frames = tracks["n_frames"].to_numpy()
    row_of_image = np.repeat(np.arange(len(tracks)), n_frames)
    image = np.repeat(tracks["start"].to_numpy() - 1, n_frames) + run_offsets(n_frames)  # 0-based
    expected = tracks[["pid", "camera"]].to_numpy()[row_of_image]
    wrong = np.flatnonzero((parsed[image, :2] != expected).any(axis=1))
    if wrong.size:
        k = wrong[0]
        i, row = image[k], tracks.iloc[row_of_image[k]]
        raise InputError(
            mat_path,
            f"row {row.tracklet + 1} is person {row.pid} camera {row.camera}, but its image {i + 1} "
            f"{paths[i]} is person {parsed[i, 0]} camera {parsed[i, 1]}",
        )

    tracks = tracks.copy()
    starts = tracks["start"].to_numpy() - 1
    tracks["track_no"] = parsed[starts, 2]
    tracks["paths"] = [paths[s:e] for s, e in zip(starts, tracks["end"].to_numpy(), strict=True)]
    return tracks
