"""Load and validate the workflow configuration against its JSON schema (``amodal/schemas/config.schema.yaml``,
shipped as package data so that a non-editable install validates too)."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

from .errors import ConfigError

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "config.schema.yaml"


def _key_path(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return path or "<top level>"


def validate(config: dict, schema_path=SCHEMA_PATH) -> dict:
    """Raise :class:`ConfigError` naming every offending key; return the config unchanged."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if not errors:
        _check_consistency(config)
        return config
    lines = []
    for e in errors:
        key = _key_path(e)
        if e.validator == "additionalProperties":
            extra = sorted(set(e.instance) - set(e.schema.get("properties", {})))
            allowed = ", ".join(sorted(e.schema.get("properties", {})))
            for x in extra:
                where = f"{key}.{x}" if key != "<top level>" else x
                lines.append(f"unknown key '{where}' (misspelled?); allowed here: {allowed}")
        elif e.validator == "required":
            lines.append(f"'{key}': {e.message}")
        else:
            lines.append(f"key '{key}': {e.message}")
    raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines) +
                      "\nSee config/README.md for every key.")


def _check_consistency(config: dict) -> None:
    syn = config.get("synthetic", {})
    if syn and syn["n_overlap"] > min(syn["n_train_images"], syn["n_train_captions"]):
        raise ConfigError("key 'synthetic.n_overlap' must not exceed n_train_images or n_train_captions")
    if syn and syn["n_train_images"] + syn["n_train_captions"] - syn["n_overlap"] > syn["n_train_pool"]:
        raise ConfigError("key 'synthetic.n_train_pool' is too small: each subject needs n_train_images + "
                          "n_train_captions - n_overlap distinct train stimuli")
    if syn and syn.get("disjoint_train") and (syn["n_subjects"] * (syn["n_train_images"] + syn["n_train_captions"]
                                                                   - syn["n_overlap"]) > syn["n_train_pool"]):
        raise ConfigError("key 'synthetic.n_train_pool' is too small for disjoint_train: every subject needs its own "
                          "n_train_images + n_train_captions - n_overlap train stimuli (n_subjects times that)")
    if syn and syn["n_imagery"] > syn["n_imagery_pool"]:
        raise ConfigError("key 'synthetic.n_imagery' must not exceed synthetic.n_imagery_pool")
    feats = config.get("features", {})
    if feats:
        from .features import model_definition

        from .features import PATCH_BACKENDS

        for name in feats["models"]:
            spec = model_definition(name, feats.get("definitions"))
            if spec["backend"] in PATCH_BACKENDS:
                raise ConfigError(f"key 'features.models': {name!r} makes patch tokens for image-to-brain encoders "
                                  f"(backend {spec['backend']}), not feature vectors to decode; leave it out here")
            if spec["backend"] == "combine":
                for part in ("vision_model", "lang_model"):
                    model_definition(spec[part], feats.get("definitions"))
        fig = config.get("figures", {})
        if fig and fig["example_model"] not in feats["models"]:
            raise ConfigError(f"key 'figures.example_model': {fig['example_model']!r} is not one of "
                              f"features.models {feats['models']}")
    enc = config.get("encoding", {})
    if enc and feats:
        unknown = sorted(set(enc["models"]) - set(feats["models"]))
        if unknown:
            raise ConfigError(f"key 'encoding.models': {unknown} are not among features.models {feats['models']}")
    ube = config.get("ube", {})
    if ube and ube.get("patch_model"):
        from .features import PATCH_BACKENDS, model_definition

        spec = model_definition(ube["patch_model"], feats.get("definitions"))
        if spec["backend"] not in PATCH_BACKENDS:
            raise ConfigError(f"key 'ube.patch_model': {ube['patch_model']!r} (backend {spec['backend']}) makes no "
                              f"patch tokens; use gabor_patches, or a model with backend hf_vision_patches")
        subs = subjects(config)
        if len(subs) < 2:
            raise ConfigError("key 'ube.patch_model': the Universal Brain Encoder study needs ≥ 2 subjects (one is "
                              "held out for transfer); set ube.patch_model: null to turn it off")
        if ube["transfer_subject"] and ube["transfer_subject"] not in subs:
            raise ConfigError(f"key 'ube.transfer_subject': {ube['transfer_subject']!r} is not among the subjects "
                              f"{subs}")
    sl = config.get("searchlight", {})
    if sl:
        if (sl["neighbors"] is None) == (sl["radius_mm"] is None):
            raise ConfigError("keys 'searchlight.neighbors' and 'searchlight.radius_mm': set exactly one of them "
                              "(the other to null)")
        missing = sorted(set(sl["size_sweep_subjects"]) - set(subjects(config)))
        if missing:
            raise ConfigError(f"key 'searchlight.size_sweep_subjects': {missing} are not among the subjects")
        if feats and sl["model"] not in feats["models"]:
            raise ConfigError(f"key 'searchlight.model': {sl['model']!r} is not one of features.models "
                              f"{feats['models']}")
    ds = config.get("dataset", {})
    if ds.get("source") == "path" and not ds.get("subjects"):
        raise ConfigError("key 'dataset.subjects' must list the subjects when dataset.source is 'path'")
    if ds.get("source") == "ds007272":
        from .data.adapters import ds007272

        unknown = sorted(set(ds.get("subjects") or []) - set(ds007272.subjects()))
        if unknown:
            raise ConfigError(f"key 'dataset.subjects': {unknown} are not in ds007272, whose subjects are "
                              f"{ds007272.subjects()}")
        if config.get("decoding", {}).get("cv_scheme") == "runs":
            raise ConfigError("key 'decoding.cv_scheme': ds007272's betas each pool every run, so there are no "
                              "runs to group folds by; use 'shuffled'")
    if ds.get("source") == "nsd":
        from .data.adapters import nsd

        unknown = sorted(set(ds.get("subjects") or []) - set(nsd.subjects()))
        if unknown:
            raise ConfigError(f"key 'dataset.subjects': {unknown} are not in NSD, whose subjects are {nsd.subjects()}")
    if ds.get("roi") == "nsdgeneral" and ds.get("source") != "nsd":
        raise ConfigError("key 'dataset.roi': nsdgeneral is NSD's region; it needs dataset.source: nsd")


def read_env_file(path) -> dict[str, str]:
    """The ``KEY=VALUE`` lines of an environment file such as ``envs/malloc.env`` (``#`` starts a comment line)."""
    lines = (ln.strip() for ln in Path(path).read_text().splitlines())
    return dict(ln.split("=", 1) for ln in lines if "=" in ln and not ln.startswith("#"))


UBE_SIZES = {
    # cheap steps on CPU: 1,024 vertices a step is the fewest at which the embedded default's visual vertices learn
    # within 8 epochs (README)
    "cpu": {"channels": 16, "embedding": 16, "batch_images": 32, "n_sampled": 1024, "val_vertices": 2000},
    # the paper's code: C = 128, E = 256, 32 images x 5,000 vertices per step, validation on every vertex
    "paper": {"channels": 128, "embedding": 256, "batch_images": 32, "n_sampled": 5000, "val_vertices": None},
}
"""The Universal Brain Encoder's network and sampling sizes for each value of ``ube.size`` (here, not in
:mod:`amodal.encoding`, so that reading the config never imports torch)."""


def ube_size(ube: dict) -> dict:
    """The Universal Brain Encoder's network and sampling sizes for ``ube.size`` (``cpu`` or ``paper``)."""
    return dict(UBE_SIZES[ube["size"]])


def subjects(config: dict) -> list[str]:
    """The subjects of a run: ``dataset.subjects`` when listed, else ds007272's six or NSD's eight when that is the
    source, else ``sub-01`` .. ``sub-<synthetic.n_subjects>``."""
    listed = config["dataset"].get("subjects") or []
    if listed:
        return list(listed)
    if config["dataset"]["source"] == "ds007272":
        from .data.adapters import ds007272

        return ds007272.subjects()
    if config["dataset"]["source"] == "nsd":
        from .data.adapters import nsd

        return nsd.subjects()
    from .data import subject_ids

    return subject_ids(config["synthetic"]["n_subjects"])


def load(path) -> dict:
    """Read a YAML config file and validate it (:func:`validate`); returns the config dict."""
    return validate(yaml.safe_load(Path(path).read_text()))
