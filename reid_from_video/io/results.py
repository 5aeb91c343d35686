"""Typed stage results: frozen dataclasses that a stage writes as JSON and the report and ``rfv run`` read
back. :class:`StageResult` gives every result ``to_json`` / ``from_json`` and ``write`` / ``read`` of its
file in a stage folder; field types drive the conversion, so the schema lives in one place, the class.

Reading is lenient about what older files lack (a missing key takes the field's default) and strict about
what is there: a value of the wrong shape is one
:class:`~reid_from_video.core.errors.InputError` naming the file.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, TypeVar, Union

from reid_from_video.core.atomic import write_json
from reid_from_video.core.errors import InputError

T = TypeVar("T", bound="StageResult")
JsonObject = dict[str, Any]  # a parsed JSON object: the one untyped shape, at the file boundary


def read_object(path: Path) -> JsonObject:
    """The JSON object in ``path``; an :class:`InputError` naming the file when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(path, f"cannot read as JSON: {error}") from None
    if not isinstance(data, dict):
        raise InputError(path, f"expected a JSON object, found {type(data).__name__}")
    return data


def renamed(key: str, **kwargs: Any) -> Any:
    """A field stored under another JSON key (e.g. ``COMBINED``)."""
    return dataclasses.field(metadata={"key": key}, **kwargs)


def omitted_when_none() -> Any:
    """An optional field (default None) left out of the JSON when None, as the stage always wrote it."""
    return dataclasses.field(default=None, metadata={"omit_none": True})


def encode_fields(value: Any) -> JsonObject:
    """A dataclass instance -> a JSON object, its fields in order, under their keys."""
    out = {}
    for f in dataclasses.fields(value):
        item = getattr(value, f.name)
        if item is None and f.metadata.get("omit_none"):
            continue
        out[f.metadata.get("key", f.name)] = encode(item)
    return out


def encode(value: Any) -> Any:
    """A dataclass, tuple, list or dict of them -> plain JSON values (dataclasses in field order)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_json"):  # a class with its own JSON layout
            return value.to_json()
        return encode_fields(value)
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


def decode(kind: Any, value: Any, where: str) -> Any:
    """``value`` (parsed JSON) as the type ``kind``; ValueError naming ``where`` when it does not fit."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return decode(option, value, where)
            except ValueError as error:
                errors.append(str(error))
        raise ValueError(errors[0])
    if dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object, found {type(value).__name__}")
        from_json = getattr(kind, "from_json", None)
        return from_json(value) if from_json is not None else decode_fields(kind, value, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list, found {type(value).__name__}")
        return tuple(decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object, found {type(value).__name__}")
        if args[0] is int and not all(str(k).lstrip("-").isdigit() for k in value):
            raise ValueError(f"{where}: expected integer keys, found {sorted(value)}")
        key = int if args[0] is int else str
        return {key(k): decode(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind in (int, str, bool) and isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
        return value
    raise ValueError(f"{where}: expected {getattr(kind, '__name__', kind)}, found {value!r}")


def decode_fields(cls: type[Any], data: JsonObject, where: str = "") -> Any:
    """An instance of the dataclass ``cls`` from the keys of ``data`` named as its fields; a missing key
    takes the field's default (an older file), a missing key without a default is an error."""
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        key = f.metadata.get("key", f.name)
        name = f"{where}.{key}" if where else key
        if key in data:
            values[f.name] = decode(hints[f.name], data[key], name)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValueError(f"no {name!r}")
    return cls(**values)


class StageResult(ABC):
    """Base of a frozen result dataclass stored as ``FILE`` in its stage folder."""

    FILE: ClassVar[str]

    @abstractmethod
    def summary(self) -> str:
        """The stage's headline figures on one line (``rfv run`` prints it after the stage)."""

    def to_json(self) -> JsonObject:
        return encode_fields(self)

    @classmethod
    def from_json(cls: type[T], data: JsonObject) -> T:
        return decode_fields(cls, data)

    def write(self, folder: Path) -> Path:
        """``folder/FILE`` written atomically; its path."""
        path = Path(folder) / self.FILE
        write_json(path, self.to_json())
        return path

    @classmethod
    def read(cls: type[T], folder: Path) -> T:
        """The result in ``folder/FILE``; an :class:`InputError` naming the file when absent or malformed."""
        path = Path(folder) / cls.FILE
        if not path.is_file():
            raise InputError(path, "not found: the stage did not finish")
        try:
            return cls.from_json(read_object(path))
        except ValueError as error:
            raise InputError(path, f"not an rfv {cls.__name__}: {error}") from None

    @classmethod
    def read_optional(cls: type[T], folder: Path) -> T | None:
        """:meth:`read`, or None when the file is absent."""
        return cls.read(folder) if (Path(folder) / cls.FILE).is_file() else None
