"""Typed configuration: dataclass defaults, YAML files, ``a.b=c`` overrides, the resolved config saved.

Every stage has one config dataclass (defined beside the stage). A config is resolved in three layers:

1. the dataclass defaults,
2. an optional YAML file (a mapping with the same nesting as the dataclass),
3. ``key=value`` overrides from the command line; nested keys with dots (``video.stride=2``); the value is
   parsed as YAML (``3`` is an int, ``null`` is None, ``[1, 2]`` a list, ``abc`` a string).

Unknown keys are rejected with the list of valid ones, and values are checked against the field types, so a
typo fails at once rather than after an hour of training. ``save_config`` writes the resolved config next to
an output, so every result says how it was made.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from reid_from_video.core.atomic import atomic_write
from reid_from_video.core.errors import ConfigError

C = TypeVar("C")

CONFIG_FILENAME = "config.yaml"
# YAML presets inside the package (shipped as package data, so a non-editable install has them too).
PRESETS_DIR = Path(__file__).resolve().parents[1] / "configs"


def option(default: Any, help: str) -> Any:
    """A config field with a default and the help line that ``rfv CMD --help`` shows."""
    if isinstance(default, (list, dict)):  # mutable: each config gets its own copy
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help})


def section(cls: type, help: str) -> Any:
    """A nested config section (another dataclass) with its help line."""
    return dataclasses.field(default_factory=cls, metadata={"help": help})


def describe_config(cls: type, prefix: str = "") -> list[str]:
    """One line per key: ``name = default  help``, nested sections flattened with dots."""
    defaults = cls()
    hints = _hints(cls)
    lines = []
    for field in dataclasses.fields(cls):
        key = f"{prefix}{field.name}"
        help_text = field.metadata.get("help", "")
        if dataclasses.is_dataclass(hints[field.name]):
            lines.append(f"{key}.*  {help_text}".rstrip())
            lines.extend(describe_config(hints[field.name], prefix=f"{key}."))
        else:
            value = yaml.safe_dump(config_to_dict(getattr(defaults, field.name)), default_flow_style=True)
            value = value.strip().removesuffix("...").strip()
            lines.append(f"{key}={value}  {help_text}".rstrip())
    return lines


def config_to_dict(config: Any) -> dict[str, Any]:
    """A plain nested dict (YAML-safe: tuples become lists, paths strings) of a config dataclass."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, Path):
            return str(value)
        return value

    return plain(config)


def dump_config(config: Any) -> str:
    return yaml.safe_dump(config_to_dict(config), sort_keys=False)


def save_config(config: Any, directory: str | Path, filename: str = CONFIG_FILENAME) -> Path:
    """Write the resolved config as YAML into ``directory`` (atomically) and return its path."""
    path = Path(directory) / filename
    with atomic_write(path) as handle:
        handle.write(dump_config(config))
    return path


def resolve_preset(name: str | Path, stage: str | None = None) -> Path:
    """A config file: an existing path as given, else a preset name under reid_from_video/configs/ or, for
    a ``stage``, under configs/<stage>/ there (``.yaml`` optional): ``-c mars_1.7_1.2`` (``rfv simulate``)."""
    path = Path(name)
    if path.is_file():
        return path
    folders = [PRESETS_DIR / stage, PRESETS_DIR] if stage else [PRESETS_DIR]
    for candidate in [f / p for f in folders for p in (path, Path(f"{path}.yaml"))]:
        if candidate.is_file():
            return candidate
    raise ConfigError(f"{name}: config file not found (neither a file nor a preset under {PRESETS_DIR})")


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file must be a mapping of keys to values")
    return data


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"a.b=3"`` -> (["a", "b"], 3)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {text!r}: expected key=value")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def load_config(
    cls: type[C],
    path: str | Path | None = None,
    overrides: typing.Sequence[str] = (),
    stage: str | None = None,
) -> C:
    """Resolve a config of type ``cls``: defaults, then the YAML file at ``path`` (a preset of ``stage``
    when not a file, see :func:`resolve_preset`), then ``overrides``."""
    merged = config_to_dict(cls())
    if path is not None:
        file = resolve_preset(path, stage)
        _merge(cls, merged, read_yaml_mapping(file), source=str(file), prefix="")
    for text in overrides:
        keys, value = parse_override(text)
        nested: dict[str, Any] = {keys[-1]: value}
        for key in reversed(keys[:-1]):
            nested = {key: nested}
        _merge(cls, merged, nested, source=f"override {text!r}", prefix="")
    return _build(cls, merged, prefix="")


def config_from_dict(cls: type[C], data: typing.Mapping[str, Any], source: str = "config") -> C:
    """A config of type ``cls`` from a plain dict (e.g. one saved in a checkpoint): missing keys take the
    defaults; unknown keys and wrong types are a :class:`ConfigError` naming ``source``."""
    merged = config_to_dict(cls())
    _merge(cls, merged, dict(data), source=source, prefix="")
    return _build(cls, merged, prefix="")


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _merge(cls: type, target: dict[str, Any], update: dict[str, Any], source: str, prefix: str) -> None:
    """Deep-merge ``update`` into ``target``, rejecting keys that ``cls`` does not have."""
    hints = _hints(cls)
    for key, value in update.items():
        dotted = f"{prefix}{key}"
        if key not in hints:
            valid = ", ".join(f"{prefix}{name}" for name in hints)
            raise ConfigError(f"{source}: unknown key {dotted!r}; valid keys: {valid}")
        field_type = hints[key]
        if dataclasses.is_dataclass(field_type):
            shorthand = getattr(field_type, "from_shorthand", None)
            if not isinstance(value, dict) and shorthand is not None:
                value = shorthand(value)  # e.g. embedder=model.onnx -> backend onnx, weights model.onnx
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: {dotted!r} is a section; give its keys ({dotted}.KEY=VALUE)")
            _merge(field_type, target[key], value, source, prefix=f"{dotted}.")
        else:
            target[key] = value


def _build(cls: type[C], data: dict[str, Any], prefix: str) -> C:
    hints = _hints(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):
        dotted = f"{prefix}{field.name}"
        kwargs[field.name] = _coerce(hints[field.name], data[field.name], dotted)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as error:  # __post_init__ validation
        raise ConfigError(f"config {prefix.rstrip('.') or cls.__name__}: {error}") from None


def _coerce(tp: Any, value: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``tp``, converting where it is lossless (int -> float)."""
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, prefix=f"{key}.")
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(option, value, key)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{key}: {value!r} matches none of {tp}")
    if origin is typing.Literal:
        if value in args:
            return value
        raise ConfigError(f"{key}: {value!r} is not one of {', '.join(map(repr, args))}")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(f"{key}: expected {len(args)} values, got {len(value)}")
            pairs = enumerate(zip(args, value, strict=True))
            return tuple(_coerce(a, v, f"{key}[{i}]") for i, (a, v) in pairs)
        item = args[0] if args else Any
        items = [_coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads 1e-3 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{key}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)  # e.g. a camera named 1
        raise ConfigError(f"{key}: expected a string, got {value!r}")
    if tp is Path:
        if isinstance(value, (str, Path)):
            return Path(value)
        raise ConfigError(f"{key}: expected a path, got {value!r}")
    raise ConfigError(f"{key}: unsupported config type {tp!r}")  # a programming error in a config class
