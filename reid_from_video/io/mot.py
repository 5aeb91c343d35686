"""MOTChallenge text files (gt, det, tracker results) and ``seqinfo.ini``.

A *table* is a pandas DataFrame with exactly the columns :data:`MOT_COLUMNS`, in that order:

=======  =======  ===========================================================================
column   dtype    meaning
=======  =======  ===========================================================================
frame    int64    1-based frame number
id       int64    track / identity id (-1 for detections)
x y w h  float64  box: top-left corner, width, height, in pixels
conf     float64  detection score (det, result); the "consider" flag 0/1 for ground truth
cls      int64    gt class (1 = pedestrian); -1 when the file has no class
vis      float64  gt visibility ratio in [0, 1]; -1 when the file has none
=======  =======  ===========================================================================

Rows keep the order of the file, so read -> write -> read gives an exactly equal table.

File layouts understood by :func:`read_mot` (comma separated, one box per line):

* ``gt``, 9 columns (MOT16/17/20): frame, id, x, y, w, h, consider, class, visibility.
* ``gt``, 10 columns (MOT15): frame, id, x, y, w, h, conf, wx, wy, wz. MOT15 has no class: every box
  is a pedestrian (cls=1) and fully visible (vis=1).
* ``det``, 7 columns (frame, -1, x, y, w, h, score) or 10 (the same plus -1, -1, -1).
* ``result``, 6 to 10 columns: frame, id, x, y, w, h[, conf[, ...]]; conf=1 when absent.

Scoring rule (MOTChallenge devkit and TrackEval, MOT16/17/20): only ground-truth boxes of class
:data:`PEDESTRIAN` whose consider flag is set are scored (:func:`pedestrians`). Each frame's tracker boxes
are first matched one to one (IoU >= 0.5) to all its ground-truth boxes; a tracker box matched to a box of a
distractor class (:data:`DISTRACTOR_CLASSES`, :func:`distractors`) is removed, so it counts neither as a true
nor as a false positive. Ground-truth boxes of every other class (vehicles, occluders, ...) and those with the
flag unset are ignored: not scored, and tracker boxes on them are kept (false positives unless they match a
scored pedestrian). MOT15 has no classes: only the flag applies.
"""

from __future__ import annotations

import configparser
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reid_from_video.core.atomic import atomic_write
from reid_from_video.core.errors import InputError
from reid_from_video.io.config import fps_problem

MOT_COLUMNS = ("frame", "id", "x", "y", "w", "h", "conf", "cls", "vis")
INT_COLUMNS = ("frame", "id", "cls")
BOX_COLUMNS = ("x", "y", "w", "h")
KINDS = ("gt", "det", "result")

PEDESTRIAN = 1
# MOTChallenge / TrackEval rule: only pedestrians (class 1) with the consider flag set (1) are scored; tracker
# boxes matched to these classes -- 2 person on vehicle, 7 static person, 8 distractor, 12 reflection -- are
# removed before scoring; all other classes are ignored.
DISTRACTOR_CLASSES = (2, 7, 8, 12)

# Column counts each kind of file may have, and how an error message names them.
_WIDTHS = {"gt": (9, 10), "det": (7, 10), "result": (6, 7, 8, 9, 10)}
_WIDTH_TEXT = {"gt": "9 or 10", "det": "7 or 10", "result": "6 to 10"}
# Integers beyond this are not exact in float64, the type every value is parsed as.
_MAX_INT = 2.0**53


def infer_kind(path: str | Path) -> str:
    """The kind of a MOT file from its name: ``gt.txt`` -> "gt", ``det.txt`` -> "det", else "result"."""
    name = Path(path).name
    return {"gt.txt": "gt", "det.txt": "det"}.get(name, "result")


def empty_table() -> pd.DataFrame:
    """A table with no rows and the standard columns and dtypes."""
    return _table(np.empty((0, 9)))


def _table(values: np.ndarray) -> pd.DataFrame:
    """A table from an (n, 9) array whose columns are in :data:`MOT_COLUMNS` order."""
    return pd.DataFrame(
        {
            name: values[:, i].astype(np.int64 if name in INT_COLUMNS else np.float64)
            for i, name in enumerate(MOT_COLUMNS)
        }
    )


# --------------------------------------------------------------------------------------------- reading


def read_mot(path: str | Path, kind: str | None = None) -> pd.DataFrame:
    """Read a MOTChallenge gt, det or result file into a table (see the module docstring).

    ``kind`` is "gt", "det" or "result"; ``None`` infers it from the file name (:func:`infer_kind`).
    Blank lines, surrounding whitespace, CRLF line ends and one trailing comma per line are tolerated;
    an empty file gives an empty table. Raises :class:`InputError` naming the file and the 1-based line
    of the first problem: missing file, column count not allowed for the kind or different from the first
    line, a value that is not a finite number, a frame that is not an integer >= 1, a non-integer id
    (or class, for 9-column gt), a gt box without a positive width and height.
    """
    path = Path(path)
    kind = infer_kind(path) if kind is None else kind
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    text = _read_text(path)
    if not text.strip():
        return empty_table()
    # The fast numpy parser handles well-formed files; anything it rejects or that fails a check is parsed
    # again line by line, which either finds the first bad line or accepts what numpy was too strict about.
    values = _parse_fast(text)
    if values is None or not _all_valid(values, kind):
        values = _parse_slow(path, text, kind)
    return _to_table(values, kind)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a file") from None
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror}") from None
    try:
        return data.decode("utf-8-sig")  # -sig: drop a byte-order mark left by some Windows editors
    except UnicodeDecodeError as error:
        raise InputError(path, f"not a UTF-8 text file (byte {error.start})") from None


def _parse_fast(text: str) -> np.ndarray | None:
    """All values as an (n, width) float64 array, or None when numpy cannot parse the text."""
    try:
        # comments=None: MOT files have none, and '#' must be reported as "not a number".
        return np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2, comments=None)
    except ValueError:
        return None


def _is_int(values: np.ndarray) -> np.ndarray:
    return (values == np.floor(values)) & (np.abs(values) <= _MAX_INT)


def _all_valid(values: np.ndarray, kind: str) -> bool:
    """Vectorised form of the checks :func:`_row_problem` makes line by line."""
    if values.shape[1] not in _WIDTHS[kind] or not np.isfinite(values).all():
        return False
    frame, ids = values[:, 0], values[:, 1]
    ok = _is_int(frame).all() and (frame >= 1).all() and _is_int(ids).all()
    if kind == "gt":
        ok = ok and (values[:, 4] > 0).all() and (values[:, 5] > 0).all()
    if kind == "gt" and values.shape[1] == 9:
        ok = ok and _is_int(values[:, 7]).all()
    return bool(ok)


def _parse_slow(path: Path, text: str, kind: str) -> np.ndarray:
    """Parse line by line; raise InputError at the first bad line."""
    rows: list[list[float]] = []
    width = first = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        fields = [field.strip() for field in line.split(",")]
        if len(fields) > 1 and not fields[-1]:
            fields.pop()  # a trailing comma, as some tools write
        if not width:
            if len(fields) not in _WIDTHS[kind]:
                problem = f"expected {_WIDTH_TEXT[kind]} columns for a {kind} file, found {len(fields)}"
                raise InputError(path, problem, number)
            width, first = len(fields), number
        elif len(fields) != width:
            problem = f"expected {width} columns as on line {first}, found {len(fields)}"
            raise InputError(path, problem, number)
        row = [_number(path, number, column, field) for column, field in enumerate(fields, start=1)]
        problem = _row_problem(row, fields, kind)
        if problem:
            raise InputError(path, problem, number)
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(len(rows), width)


def _number(path: Path, line: int, column: int, field: str) -> float:
    if not field:
        raise InputError(path, f"empty value in column {column}", line)
    try:
        if "_" in field:  # float() accepts 1_000, numpy and other MOT readers do not
            raise ValueError
        value = float(field)
    except ValueError:
        raise InputError(path, f"not a number: {field!r} (column {column})", line) from None
    if not math.isfinite(value):
        raise InputError(path, f"not a finite number: {field!r} (column {column})", line)
    return value


def _row_problem(row: list[float], fields: list[str], kind: str) -> str | None:
    def is_int(value: float) -> bool:
        return value.is_integer() and abs(value) <= _MAX_INT

    if not is_int(row[0]):
        return f"frame must be an integer, found {fields[0]!r}"
    if row[0] < 1:
        return f"frame must be >= 1, found {fields[0]!r}"
    if not is_int(row[1]):
        return f"id must be an integer, found {fields[1]!r}"
    if kind == "gt" and len(row) == 9 and not is_int(row[7]):
        return f"class must be an integer, found {fields[7]!r}"
    if kind == "gt" and not (row[4] > 0 and row[5] > 0):
        # The reference itself is wrong: scoring against it, or against it with the box dropped, would give
        # figures no other tool gives (TrackEval takes the box as it is, with a negative area).
        return f"a gt box must have a positive width and height, found {fields[4]!r} x {fields[5]!r}"
    return None


def _to_table(values: np.ndarray, kind: str) -> pd.DataFrame:
    """Map the file's columns to the table's, following the layouts in the module docstring."""
    n, width = values.shape
    out = np.full((n, 9), -1.0)
    out[:, :6] = values[:, :6]
    out[:, 6] = values[:, 6] if width > 6 else 1.0
    if kind == "gt" and width == 9:
        out[:, 7:9] = values[:, 7:9]
    elif kind == "gt":  # MOT15: pedestrians only, no visibility
        out[:, 7:9] = 1.0
    return _table(out)


# --------------------------------------------------------------------------------------------- writing


def write_mot(
    path: str | Path, table: pd.DataFrame, kind: str = "result", decimals: int | None = None
) -> None:
    """Write a table as a MOTChallenge file, atomically (a reader never sees a partial file).

    "result" and "det" files get 10 columns ``frame,id,x,y,w,h,conf,-1,-1,-1``; "gt" files get 9,
    ``frame,id,x,y,w,h,conf,cls,vis``. Integers are written as integers and floats in the shortest form
    that reads back to the same value (912.0 -> ``912``, no exponent), so read -> write -> read is exact.
    With ``decimals=k`` the box columns x, y, w, h are written as ``%.kf`` instead: ``decimals=2`` gives the
    output format of the reference DeepSORT. Rows are written in table order; extra columns are ignored.
    Raises ValueError for a table lacking a column or holding non-finite values or non-integer
    frame/id/cls; the target is then left untouched.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if decimals is not None and (not isinstance(decimals, int) or decimals < 0):
        raise ValueError(f"decimals must be a non-negative integer or None, not {decimals!r}")
    columns = _columns_to_write(table)
    text = _format(columns, kind, decimals)  # built in full first: a bad table fails before any file exists
    with atomic_write(path, "w") as handle:
        handle.write(text)


def _columns_to_write(table: pd.DataFrame) -> dict[str, np.ndarray]:
    missing = [name for name in MOT_COLUMNS if name not in table.columns]
    if missing:
        raise ValueError(f"table lacks the MOT columns {missing}")
    columns = {}
    for name in MOT_COLUMNS:
        values = table[name].to_numpy()
        if name in INT_COLUMNS and values.dtype.kind in "iu":
            columns[name] = values.astype(np.int64)
            continue
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"column {name!r} is not numeric") from None
        if not np.isfinite(values).all():
            raise ValueError(f"column {name!r} holds NaN or infinite values")
        if name in INT_COLUMNS:
            if not _is_int(values).all():
                raise ValueError(f"column {name!r} holds non-integer values")
            values = values.astype(np.int64)
        columns[name] = values
    return columns


def _format(columns: dict[str, np.ndarray], kind: str, decimals: int | None) -> str:
    # Per-column lists of strings joined row-wise: measured faster than numpy's vectorised string routines
    # (np.strings.add, np.char.mod) and as fast as astype(str), while exact by construction.
    parts = [_format_ints(columns["frame"]), _format_ints(columns["id"])]
    for name in BOX_COLUMNS:
        parts.append(_format_floats(columns[name], decimals))
    parts.append(_format_floats(columns["conf"]))
    if kind == "gt":
        parts += [_format_ints(columns["cls"]), _format_floats(columns["vis"])]
    else:
        parts.append(["-1,-1,-1"] * len(columns["frame"]))
    if not parts[0]:
        return ""
    return "\n".join(map(",".join, zip(*parts, strict=True))) + "\n"


def _format_ints(values: np.ndarray) -> list[str]:
    return [str(value) for value in values.tolist()]


def _format_floats(values: np.ndarray, decimals: int | None = None) -> list[str]:
    if decimals is not None:
        template = f"%.{decimals}f"
        return [template % value for value in values.tolist()]
    if _is_int(values).all() and not np.signbit(values[values == 0]).any():
        return _format_ints(values.astype(np.int64))  # the common case (gt boxes, flags): much faster
    return [_shortest(value) for value in values.tolist()]


def _shortest(value: float) -> str:
    """The shortest decimal that reads back as ``value`` (Python's repr), without ``.0`` or an exponent."""
    text = repr(value)
    if text.endswith(".0"):
        return text[:-2]
    if "e" in text:  # repr switches to 1e-05 / 1e+16 outside [1e-4, 1e16); some MOT tools cannot read that
        return np.format_float_positional(value, trim="-")
    return text


# -------------------------------------------------------------------------------------------- seqinfo


@dataclass(frozen=True, kw_only=True)
class SeqInfo:
    """The ``[Sequence]`` section of a MOTChallenge ``seqinfo.ini``."""

    name: str
    im_dir: str = "img1"
    frame_rate: int
    seq_length: int
    im_width: int
    im_height: int
    im_ext: str = ".jpg"


# ini key -> SeqInfo field, in the order MOTChallenge files list them.
_SEQINFO_KEYS = {
    "name": "name",
    "imDir": "im_dir",
    "frameRate": "frame_rate",
    "seqLength": "seq_length",
    "imWidth": "im_width",
    "imHeight": "im_height",
    "imExt": "im_ext",
}
_SEQINFO_INTS = ("frameRate", "seqLength", "imWidth", "imHeight")
_SEQINFO_OPTIONAL = ("imDir", "imExt")


def _seqinfo_path(path: str | Path) -> Path:
    """``path`` itself when it names an ``.ini`` file, else ``seqinfo.ini`` in the folder ``path``."""
    path = Path(path)
    return path if path.suffix == ".ini" and not path.is_dir() else path / "seqinfo.ini"


def read_seqinfo(path: str | Path) -> SeqInfo:
    """Read ``seqinfo.ini``; ``path`` is the ``.ini`` file or the sequence folder holding it.

    name, frameRate, seqLength, imWidth and imHeight are required (the four numbers as positive integers);
    imDir and imExt default to "img1" and ".jpg". Raises :class:`InputError` for a missing or unparsable
    file, a missing ``[Sequence]`` section or key, or a bad number.
    """
    path = _seqinfo_path(path)
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep the camelCase keys as written
    try:
        with open(path, encoding="utf-8-sig") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(path, f"cannot read: {error}") from None
    except configparser.Error as error:
        raise InputError(path, f"not a valid ini file: {error.message}") from None
    if not parser.has_section("Sequence"):
        raise InputError(path, "no [Sequence] section")
    # Keys are matched case-insensitively, as configparser and the MOTChallenge devkit do.
    section = {key.lower(): value.strip() for key, value in parser.items("Sequence")}
    fields: dict[str, str | int] = {}
    for key, field in _SEQINFO_KEYS.items():
        value = section.get(key.lower())
        if value is None:
            if key in _SEQINFO_OPTIONAL:
                continue
            raise InputError(path, f"missing key {key!r} in [Sequence]")
        if key in _SEQINFO_INTS:
            if not (value.isascii() and value.isdigit()) or int(value) < 1:
                raise InputError(path, f"{key} must be a positive integer, found {value!r}")
            fields[field] = int(value)
        else:
            fields[field] = value
    problem = fps_problem(fields["frame_rate"])
    if problem:
        raise InputError(path, f"frameRate: {problem}")
    return SeqInfo(**fields)


def write_seqinfo(path: str | Path, info: SeqInfo) -> None:
    """Write ``seqinfo.ini`` atomically, in the MOTChallenge layout.

    ``path`` is the ``.ini`` file or the sequence folder (created when missing).
    """
    lines = ["[Sequence]"] + [f"{key}={getattr(info, field)}" for key, field in _SEQINFO_KEYS.items()]
    with atomic_write(_seqinfo_path(path), "w") as handle:
        handle.write("\n".join(lines) + "\n\n")  # MOTChallenge files end with an empty line


# ----------------------------------------------------------------------------------- gt and the tree


def pedestrians(gt: pd.DataFrame) -> pd.DataFrame:
    """The scored ground-truth rows: class :data:`PEDESTRIAN` with the consider flag (``conf``) set.

    The flag is tested as ``conf != 0``, as TrackEval does (MOTChallenge flags are 0 or 1).
    The index is kept, so rows can be traced back to ``gt``.
    """
    return gt[(gt["cls"] == PEDESTRIAN) & (gt["conf"] != 0)]


def distractors(gt: pd.DataFrame) -> pd.DataFrame:
    """The ground-truth rows of :data:`DISTRACTOR_CLASSES`, whatever their consider flag; index kept."""
    return gt[gt["cls"].isin(DISTRACTOR_CLASSES)]


def _is_sequence(folder: Path) -> bool:
    return (folder / "seqinfo.ini").is_file() or (folder / "gt" / "gt.txt").is_file()


def find_sequences(root: str | Path) -> dict[str, Path]:
    """The MOTChallenge sequences under ``root``: folder name -> sequence folder, sorted by name.

    A sequence is a folder holding ``seqinfo.ini`` or ``gt/gt.txt``. ``root`` is either a sequence itself
    or a folder whose direct sub-folders are sequences (e.g. ``MOT17/train``). Raises :class:`InputError`
    when ``root`` is not a folder or holds no sequence.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "folder not found" if not root.exists() else "not a folder")
    if _is_sequence(root):
        return {root.name: root}
    found = {entry.name: Path(entry.path) for entry in os.scandir(root) if entry.is_dir()}
    sequences = {name: found[name] for name in sorted(found) if _is_sequence(found[name])}
    if not sequences:
        raise InputError(root, "no MOTChallenge sequence found (a folder with seqinfo.ini or gt/gt.txt)")
    return sequences
