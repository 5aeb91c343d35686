"""What a pickle would import and call, found without running any of it.

A pickle is a small program: its GLOBAL / STACK_GLOBAL / INST opcodes import any object by name and REDUCE /
NEWOBJ call it, which is how a ``.pt`` file runs ``os.system`` when a library unpickles it. Here the
program is run by Python's own unpickler with every global replaced by an inert stub that records its name
and how the program used it (called, or created with ``cls.__new__``). Stubs accept every argument, state
and item, so the run goes at least as far as a real load would, through the same opcodes with the same
stack: the names recorded are those a real load would import. Nothing is imported.

Files are read as ``torch.load`` reads them: a zip archive (first bytes ``PK\\x03\\x04``) through its
``.pkl`` members, anything else as the legacy stream of consecutive pickles. A tar archive (torch's oldest
format, whose members torch unpickles) cannot be followed and is refused, as is a zip Python cannot read.
"""

from __future__ import annotations

import _compat_pickle
import io
import pickle
import tarfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from reid_from_video.core.errors import InputError

ZIP_MAGIC = b"PK\x03\x04"  # torch.serialization._is_zipfile's test


@dataclass(frozen=True)
class PickledGlobal:
    """A global a pickle imports (``module.name``) and whether the load would call it or create one.

    A call of ``builtins.getattr`` (how a pickle reaches a method, e.g. a module's ``forward``) is recorded
    once per attribute: ``of`` is the global it is read from (``module.name``, or ``module.name()`` for an
    object the pickle created), ``attribute`` its name. A call of anything a call returned (a method read
    with getattr, say) is recorded as the global ``module.name()``, called.
    """

    module: str
    name: str
    called: bool = False
    created: bool = False
    of: str = ""
    attribute: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.module}.{self.name}"

    def __str__(self) -> str:
        uses = [use for use, done in (("called", self.called), ("created", self.created)) if done]
        read = f"({self.of}, {self.attribute!r})" if self.of else ""
        return f"{self.full_name}{read}" + (f" ({', '.join(uses)})" if uses else "")


def pickled_globals(path: str | Path) -> list[PickledGlobal]:
    """Every global that loading ``path`` with ``torch.load(weights_only=False)`` would import, in order of
    first use; ``[]`` for a file that is no pickle (an ONNX file, say). :class:`InputError` naming the file
    when it cannot be inspected."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(len(ZIP_MAGIC))
        if head == ZIP_MAGIC:
            return _zip_globals(path)
        if tarfile.is_tarfile(path):
            raise InputError(path, "a tar archive (torch's oldest format): its pickles cannot be inspected")
        with path.open("rb") as handle:
            return _run(handle, stream=True)
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror or error}") from None


def _zip_globals(path: Path) -> list[PickledGlobal]:
    try:
        with zipfile.ZipFile(path) as archive:
            # Every member by its entry (not by name, which may repeat), as any reader might pick either.
            pickles = [info for info in archive.infolist() if info.filename.endswith(".pkl")]
            if any(info.compress_type != zipfile.ZIP_STORED for info in pickles):
                raise InputError(path, "a zip archive with compressed pickles: not a file torch.save wrote")
            found: list[PickledGlobal] = []
            for info in pickles:
                with archive.open(info) as member:
                    found.extend(_run(io.BytesIO(member.read()), stream=False))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError) as error:
        raise InputError(path, f"a zip archive that cannot be inspected: {error}") from None
    return _merged(found)


def _run(source: BinaryIO, stream: bool) -> list[PickledGlobal]:
    """The globals of the pickle in ``source`` (``stream``: of every consecutive pickle, as torch's legacy
    format holds several). A malformed pickle ends the run where a real load would fail too."""
    recorder = _Recorder()
    while not _at_end(source):
        start = source.tell()
        try:
            _StubUnpickler(source, recorder).load()
        except Exception:  # a malformed pickle (or no pickle): a real load stops here, so does the run
            break
        if not stream or source.tell() == start:
            break
    return _merged(recorder.seen)


def _at_end(source: BinaryIO) -> bool:
    here = source.tell()
    end = source.seek(0, io.SEEK_END)
    source.seek(here)
    return here >= end


def _merged(found: list[PickledGlobal]) -> list[PickledGlobal]:
    merged: dict[tuple[str, str, str, str], PickledGlobal] = {}
    for item in found:
        key = (item.module, item.name, item.of, item.attribute)
        old = merged.get(key, item)
        merged[key] = replace(item, called=old.called or item.called, created=old.created or item.created)
    return list(merged.values())


class _Recorder:
    def __init__(self) -> None:
        self.seen: list[PickledGlobal] = []

    def note(self, module: str, name: str, called: bool = False, created: bool = False) -> None:
        self.seen.append(PickledGlobal(module, name, called, created))

    def note_getattr(self, module: str, name: str, args: tuple[Any, ...]) -> None:
        target, attribute = (args + ("", ""))[:2]
        if isinstance(target, _StubType):
            of = f"{target._module}.{target._name}"
        elif isinstance(target, _Stub):
            of = f"{type(target)._module}.{type(target)._name}()"
        else:  # an object built by the pickle's own opcodes (a dict, a string)
            of = f"<{type(target).__name__}>"
        self.seen.append(PickledGlobal(module, name, called=True, of=of, attribute=str(attribute)))


class _Stub:
    """An instance a stub class stands for: takes any state and any items; calling it (a method read with
    getattr, say) is recorded as a call of what it came from."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        cls = type(self)
        cls._recorder.note(cls._module, f"{cls._name}()", called=True)
        return object.__new__(cls)

    def __setstate__(self, state: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def append(self, item: Any) -> None:
        pass

    def extend(self, items: Any) -> None:
        pass

    def add(self, item: Any) -> None:
        pass


class _StubType(type):
    """The class of each stub: calling it (REDUCE, INST, OBJ) is recorded as a call."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if (cls._module, cls._name) == ("builtins", "getattr"):
            cls._recorder.note_getattr(cls._module, cls._name, args)
        else:
            cls._recorder.note(cls._module, cls._name, called=True)
        return object.__new__(cls)


class _StubUnpickler(pickle.Unpickler):
    def __init__(self, source: BinaryIO, recorder: _Recorder):
        super().__init__(source)
        self._recorder = recorder

    def find_class(self, module: str, name: str) -> Any:
        # Python 2 names (``__builtin__.set``) as a real load maps them (protocol < 3, fix_imports).
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        self._recorder.note(module, name)
        recorder = self._recorder

        def new(cls: type, *args: Any, **kwargs: Any) -> Any:  # NEWOBJ: cls.__new__(cls, ...)
            recorder.note(module, name, created=True)
            return object.__new__(cls)

        namespace = {"_recorder": recorder, "_module": module, "_name": name, "__new__": new}
        return _StubType(name.replace(".", "_") or "stub", (_Stub,), namespace)

    def persistent_load(self, pid: Any) -> Any:
        return None
