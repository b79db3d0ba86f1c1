"""Reflection models (What? So what? Now what?, Gibbs, ...) as data files an organisation can
add to: YAML next to this module, plus any in `REFLECTION_REFLECTION_MODELS_DIR`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kit.settings import ConfigurationError

BUILT_IN = Path(__file__).parent / "reflection-models"
DEFAULT_MODEL = "what-so-what-now-what"
LANGUAGES = ("nl", "en")

Purpose = Literal["describe", "feel", "evaluate", "analyse", "conclude", "act"]


class Localised(BaseModel):
    """A text in Dutch and in English; both are required."""

    model_config = ConfigDict(extra="forbid")

    nl: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        """The Dutch text for "nl", else the English one."""
        return self.nl if language == "nl" else self.en


class Stage(BaseModel):
    """One stage of a reflection model: its purpose, title and question (and the grounded
    question when it quotes a retrieved passage)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")
    purpose: Purpose
    title: Localised
    question: Localised
    # With {source}, {quote} and {cite}; absent when the stage asks about the worker alone
    # (feelings), so nothing is retrieved for it.
    grounded: Localised | None = None


class ReflectionModel(BaseModel):
    """A reflection model (e.g. Gibbs): its stages, in the order they are answered."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")
    name: Localised
    description: Localised
    stages: list[Stage] = Field(min_length=1, max_length=12)


def _load(path: Path) -> ReflectionModel:
    try:
        model = ReflectionModel.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"reflection model {path.name} is invalid: {exc}") from exc
    keys = [stage.key for stage in model.stages]
    if len(set(keys)) != len(keys):
        raise ConfigurationError(f"reflection model {path.name} repeats a stage key")
    for stage in model.stages:
        for text in (stage.grounded.nl, stage.grounded.en) if stage.grounded else ():
            if not all(f"{{{name}}}" in text for name in ("source", "quote", "cite")):
                raise ConfigurationError(
                    f"reflection model {path.name}, stage {stage.key}: a grounded question "
                    "needs {source}, {quote} and {cite}"
                )
    return model


def load_catalogue(extra_dir: Path | None = None) -> dict[str, ReflectionModel]:
    """Every model by key; an organisation's file replaces a built-in one with the same key.
    Raises ConfigurationError for a missing folder, or a file that is not a valid model (bad
    YAML or shape, a repeated stage key, a grounded question without {source}, {quote} and
    {cite})."""
    paths = sorted(BUILT_IN.glob("*.yaml"))
    if extra_dir is not None:
        if not extra_dir.is_dir():
            raise ConfigurationError(f"reflection models folder {extra_dir} does not exist")
        paths += sorted(extra_dir.glob("*.y*ml"))
    catalogue: dict[str, ReflectionModel] = {}
    for path in paths:
        model = _load(path)
        catalogue[model.key] = model
    return catalogue
