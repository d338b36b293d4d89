"""Every path the workflow writes under the results folder, in one table (:data:`RESULT_PATHS`), as
:mod:`amodal.data._layout` holds the dataset's. The rules ask :func:`result_path` for their inputs and outputs and
the library writes to what they declare, so no path is spelt twice and no script parses a file name back into its
parts. The maps of the encoders, one file per hemisphere and statistic, have their own functions
(:func:`encoding_maps`, :func:`ube_maps`); the searchlight's shards :func:`amodal.data.searchlight_store_path`."""

from __future__ import annotations

import string

from ..surface import HEMI_BIDS, HEMIS

RESULT_PATHS = {
    # the dataset brought into amodal's layout, preprocessing, features, QC
    "dataset": "dataset",
    "betas": "preprocessed/{subject}_betas.zarr",
    "mask_report": "preprocessed/{subject}_mask.json",
    "features": "features/{model}.zarr",
    "trial_counts": "qc/trial_counts.tsv",
    "figure": "figures/{name}.png",
    # the reference study: ridge decoders (one job per subject x model x mode), then their tables
    "decoding_predictions": "decoding/{subject}/{model}/{mode}/predictions.zarr",
    "decoding_trial_scores": "decoding/{subject}/{model}/{mode}/trial_scores.tsv",
    "decoding_info": "decoding/{subject}/{model}/{mode}/decoder.json",
    "decoding_all_trial_scores": "decoding/trial_scores.tsv.gz",
    "decoding_scores": "decoding/scores.tsv",
    "decoding_summary": "decoding/summary.tsv",
    # the searchlight's group stage and its neighbourhood-size sweep
    "group_clusters": "searchlight/group/clusters.tsv",
    "group_clusters_sidecar": "searchlight/group/clusters.json",
    "group_summary": "searchlight/group/group.json",
    "size_sweep": "searchlight/size_sweep/{subject}_sizes.tsv",
    # contrastive decoders (one job per subject x decoder family x mode), then their tables
    "contrastive_predictions": "contrastive/{subject}/{decoder}/{mode}/predictions.zarr",
    "contrastive_trial_scores": "contrastive/{subject}/{decoder}/{mode}/trial_scores.tsv",
    "contrastive_info": "contrastive/{subject}/{decoder}/{mode}/decoder.json",
    "contrastive_checkpoints": "checkpoints/contrastive/{subject}/{decoder}/{mode}",
    "contrastive_all_trial_scores": "contrastive/trial_scores.tsv.gz",
    "contrastive_scores": "contrastive/scores.tsv",
    "contrastive_summary": "contrastive/summary.tsv",
    # the voxelwise encoder (one job per subject x model), then its tables
    "encoder_store": "encoding/{subject}/{model}/encoder.zarr",
    "encoder_scores": "encoding/{subject}/{model}/scores.tsv",
    "encoder_retrieval": "encoding/{subject}/{model}/retrieval.json",
    "encoding_summary": "encoding/summary.tsv",
    "encoding_retrieval": "encoding/retrieval.tsv",
    # the Universal Brain Encoder: runs (joint, single/<subject>, transfer), then the study's tables
    "ube_stores": "ube/{run}/stores",
    "ube_model": "ube/{run}/model.pt",
    "ube_scores": "ube/{run}/scores.tsv",
    "ube_retrieval": "ube/{run}/retrieval.tsv",
    "ube_history": "ube/{run}/history.json",
    "ube_checkpoints": "checkpoints/ube/{run}",
    "ube_table": "ube/{table}.tsv",
    "ube_clusters": "ube/clusters.json",
    # the run's record and its report
    "provenance": "provenance.json",
    "report_page": "report/{name}.html",
    "manifest": "manifest.json",
}
"""Name → path template under the results folder; a ``{field}`` is a wildcard of the rule that writes it."""


ENCODING_MAP_STATS = ("r", "ceiling", "rnormalized")
"""The voxelwise encoder's maps per subject and model: r, its noise ceiling, and r / ceiling."""
UBE_MAP_STATS = ("r", "cluster")
"""The Universal Brain Encoder's maps per training subject: test r and the k-means cluster of the embeddings."""


class _Wildcards(dict):
    def __missing__(self, key):  # a field not given stays a Snakemake wildcard
        return "{" + key + "}"


def result_path(results, name: str, /, **fields) -> str:
    """The path of result ``name`` of :data:`RESULT_PATHS` under ``results``.

    Parameters
    ----------
    results : str or Path
        The results folder.
    name : str
        A key of :data:`RESULT_PATHS`.
    **fields
        Values of the template's fields; a field not given stays a wildcard (``"{subject}"``), so that a rule
        declares the pattern and a caller fills it in.

    Returns
    -------
    str

    Examples
    --------
    >>> result_path("results", "betas")
    'results/preprocessed/{subject}_betas.zarr'
    >>> result_path("results", "betas", subject="sub-01")
    'results/preprocessed/sub-01_betas.zarr'
    """
    if name not in RESULT_PATHS:
        raise KeyError(f"no result named {name!r}; known: {sorted(RESULT_PATHS)}")
    template = RESULT_PATHS[name]
    unknown = set(fields) - {f for _, f, _, _ in string.Formatter().parse(template) if f}
    if unknown:
        raise KeyError(f"result {name!r} ({template}) has no field {sorted(unknown)}")
    return f"{results}/" + template.format_map(_Wildcards(fields))


def encoding_maps(results, subject: str, model: str, mesh: str) -> dict[tuple[str, str], str]:
    """The voxelwise encoder's GIFTI maps of one subject and feature model.

    Parameters
    ----------
    results : str or Path
        The results folder.
    subject, model : str
        Names, or Snakemake wildcards such as ``"{subject}"``.
    mesh : str

    Returns
    -------
    dict
        ``{(hemi, stat): path}`` for each hemisphere and :data:`ENCODING_MAP_STATS`:
        ``<results>/encoding/<subject>/<model>/<subject>_hemi-<L|R>_space-<mesh>_model-<model>_stat-<stat>_encoding
        .func.gii``.
    """
    return {(h, stat): f"{results}/encoding/{subject}/{model}/{subject}_hemi-{HEMI_BIDS[h]}_space-{mesh}_model-"
                       f"{model}_stat-{stat}_encoding.func.gii" for h in HEMIS for stat in ENCODING_MAP_STATS}


def ube_maps(results, subjects, mesh: str) -> dict[tuple[str, str, str], str]:
    """The Universal Brain Encoder's GIFTI maps of every training subject.

    Parameters
    ----------
    results : str or Path
    subjects : sequence of str
    mesh : str

    Returns
    -------
    dict
        ``{(subject, hemi, stat): path}`` for :data:`UBE_MAP_STATS`:
        ``<results>/ube/maps/<subject>_hemi-<L|R>_space-<mesh>_stat-<stat>_ube.func.gii``.
    """
    return {(s, h, stat): f"{results}/ube/maps/{s}_hemi-{HEMI_BIDS[h]}_space-{mesh}_stat-{stat}_ube.func.gii"
            for s in subjects for h in HEMIS for stat in UBE_MAP_STATS}
