# Helpers for all the .smk files, in sections: the configuration, the layout (every path of the dataset, of the
# searchlight stores and of the maps comes from the library, amodal.data, which also reads them), the resources, the
# targets and input functions of each study in the papers' order, and the report. Nothing here imports torch.

import os
import sys
from pathlib import Path

from amodal import config as amodal_config
from amodal import data as amodal_data
from amodal import provenance as amodal_provenance
from amodal.data.adapters import REAL_SOURCES, beta_files, betas_listing, layout_inputs
from amodal.surface import HEMI_BIDS, HEMIS, N_VERTICES, require_mesh


# --------------------------------------------------------------------------------------------------------------
# configuration

amodal_config.validate(config)
amodal_provenance.set_workflow_dir(workflow.basedir)  # the checkout whose git commit every output records
for _key, _value in amodal_config.read_env_file(Path(workflow.basedir, "envs", "malloc.env")).items():
    os.environ.setdefault(_key, _value)  # inherited by every job

SUBJECTS = amodal_config.subjects(config)
SOURCE = config["dataset"]["source"]
MESH = config["dataset"]["mesh"]
require_mesh(MESH)  # a mesh that is not on this machine (offline fsaverage7) stops the run now, saying what to fetch
FEATURES = config["features"]
MODELS = FEATURES["models"]
# NSD has image trials only: the reference study (decoders by training mode, cross-decoding, the searchlight) needs
# caption trials and runs on ds007272 or synthetic data; on NSD the contrastive decoders train on image trials.
REFERENCE_STUDY = SOURCE != "nsd"
MODES = amodal_data.TRAINING_MODES if REFERENCE_STUDY else ("images",)
if not REFERENCE_STUDY:
    sys.stderr.write("dataset.source nsd: NSD shows no captions, so the modality-agnostic study (ridge decoders by "
                     "training mode, searchlight, group statistics) is left out; the contrastive decoders run on image "
                     "trials (contrastive.decoders).\n")
SL = config["searchlight"]
STATS = config["stats"]
CONTRASTIVE = config["contrastive"]
TRAINING_KEYS = ("val_fraction", "batch_size", "max_epochs", "patience", "min_delta", "weight_decay")
ENC_MODELS = config["encoding"]["models"]
UBE = config["ube"]
UBE_SIZE = amodal_config.ube_size(UBE)
# the subject held out of joint training, for transfer (the last one unless named)
UBE_TRANSFER_SUBJECT = UBE["transfer_subject"] or SUBJECTS[-1]
UBE_TRAIN_SUBJECTS = [s for s in SUBJECTS if s != UBE_TRANSFER_SUBJECT]


# --------------------------------------------------------------------------------------------------------------
# layout

RES = "results"


def res(name, /, **fields):
    """The path of result ``name`` under RES (amodal.data.RESULT_PATHS: the library's table of every results path);
    a field not given stays a wildcard."""
    return amodal_data.result_path(RES, name, **fields)

# DATA is the dataset in amodal's layout. A downloaded real dataset (RAW) is brought into it under results/: its
# stimuli and trials tables are written there, and its betas are read where they lie (rules/dataset.smk).
RAW = config["dataset"]["path"] if SOURCE in REAL_SOURCES else None
DATA = res("dataset") if RAW else config["dataset"]["path"]
H_LETTERS = tuple(HEMI_BIDS[h] for h in HEMIS)  # the {h} wildcard's values
STIMULI = str(amodal_data.stimuli_tsv(DATA))
TRIALS = [str(amodal_data.trials_tsv(DATA, s)) for s in SUBJECTS]
BETAS = [str(amodal_data.betas_gifti(DATA, s, h)) for s in SUBJECTS for h in HEMIS]
ATLAS = [str(amodal_data.atlas_gifti(DATA, h)) for h in HEMIS]
PLANTED = str(amodal_data.planted_json(DATA))
SHARDS = [amodal_data.shard_label(k + 1, SL["n_shards"]) for k in range(SL["n_shards"])]
CONTRASTIVE_STORE = res("features", model=CONTRASTIVE['model'])
UBE_STORE = res("features", model=UBE['patch_model'] or 'gabor_patches')  # its rules run only when it is set

dataset_root = amodal_data.dataset_root


def dataset_files(subject):
    """A subject's inputs in the layout; for a download, its beta files where they lie (each one an input:
    replacing one reruns this subject's preprocessing and what follows, and nothing else) and the ROI's files."""
    files = amodal_data.dataset_files(DATA, subject)
    if RAW:
        files["betas"] = beta_files(SOURCE, RAW, subject)
        if config["dataset"]["roi"] == "nsdgeneral":
            from amodal.data.adapters import nsd

            files["roi"] = [str(nsd.nsdgeneral_path(RAW, h)) for h in HEMIS]
    return files


def planted_json():
    """The synthetic ground truth, if this dataset has one (real data have none)."""
    return [PLANTED] if config["dataset"]["source"] == "synthetic" else []


def searchlight_store(subject, mode, h, shard):
    return amodal_data.searchlight_store_path(RES, subject, mode, h, shard)


def all_searchlight_stores():
    return [searchlight_store(s, m, h, k) for s in SUBJECTS for m in MODES for h in H_LETTERS for k in SHARDS]


# --------------------------------------------------------------------------------------------------------------
# resources


def per_attempt(base):
    """A resource that grows with each retry (a job killed for memory or time is retried with more): ``base``
    times the attempt, ``base`` a number or a function of the wildcards."""
    return lambda wc, attempt: (base(wc) if callable(base) else base) * attempt


def gpus_for(device):
    """GPUs to reserve: one when the device is set to CUDA; `auto` and `cpu` reserve none (with `auto`
    a job still uses a GPU it can see)."""
    return 1 if str(device).startswith("cuda") else 0


# Memory of the searchlight and group jobs grows with the mesh. Peaks measured on fsaverage7's size (MNE's ico-7, the
# default dataset's 1,143 trials, README "fsaverage7: time, memory and shards"): a searchlight job at k = 750 5.1 GiB,
# the group stage with 10,000 permutations 10.4 GiB. Real data with more trials need more (`--set-resources
# searchlight:mem_mb=...`); a job killed for memory is retried with twice as much.
# On ds007272's size (about 7,000 betas of 327,684 fsaverage7 vertices; bench/decoding.py, bench/ds007272_scale.py,
# bench/searchlight.py --n-train 7000): a whole-brain decoder peaked at 12.4 GiB and took 8.7 min on 2 cores,
# preprocessing holds 1.5x the betas (~13.5 GiB), a searchlight job about 20 GiB (50 min on 2 cores).
LARGE_MESH = N_VERTICES[MESH] > N_VERTICES["fsaverage6"]
SEARCHLIGHT_MEM_MB = 24000 if LARGE_MESH else 4000
GROUP_MEM_MB = 16000 if LARGE_MESH else 8000
DECODE_MEM_MB, DECODE_RUNTIME = (16000, 60) if LARGE_MESH else (3000, 20)
PREPROCESS_MEM_MB, PREPROCESS_RUNTIME = (16000, 60) if LARGE_MESH else (2500, 10)


# --------------------------------------------------------------------------------------------------------------
# targets and input functions of each study, in the papers' order


def all_targets():
    return [
        *expand(res("betas"), subject=SUBJECTS),
        res("figure", name="qc_dataset"),
        *decoding_targets(),
        *searchlight_targets(),
        *contrastive_targets(),
        *encoding_targets(),
        *ube_targets(),
    ]


def feature_definition(model):
    from amodal.features import model_definition

    return model_definition(model, FEATURES["definitions"])


def feature_components(wildcards):
    """The cached stores a combined model is built from (none for other models)."""
    spec = feature_definition(wildcards.model)
    if spec["backend"] != "combine":
        return []
    return [res("features", model=spec['vision_model']), res("features", model=spec['lang_model'])]


# the reference study: ridge decoders by training mode (Figs 4-7, Appendix 6), then the searchlight (Figs 8-10)
DECODING_FIGURES = ("fig4_decoder_types", "fig5_within_cross", "fig6_retrieval_images",
                    "fig7_retrieval_captions", "app6_per_subject")
SEARCHLIGHT_FIGURES = ("fig8_searchlight_accuracy", "fig9_modality_invariant", "fig10_imagery",
                       "app5_neighbourhood_size")


def decoding_targets():
    if not REFERENCE_STUDY:
        return []
    return [
        res("decoding_scores"),
        res("decoding_summary"),
        *[res("figure", name=name) for name in DECODING_FIGURES],
    ]


def example_predictions():
    """Predictions of the agnostic decoder shown in the retrieval figures (Figs 6-7)."""
    fig = config["figures"]
    return [res("decoding_predictions", subject=fig['example_subject'], model=fig['example_model'], mode="agnostic")]


def searchlight_params():
    """Everything that defines a searchlight map (recorded in sidecars)."""
    from amodal.features import default_feature_set

    fs = SL["feature_set"]
    if fs == "default":
        fs = default_feature_set(SL["model"], FEATURES["definitions"])
    return dict(SL, feature_set=fs)


def searchlight_targets():
    if not REFERENCE_STUDY:
        return []
    return [
        res("group_clusters"),
        *[res("figure", name=name) for name in SEARCHLIGHT_FIGURES],
    ]


# the contrastive decoders (BrainCLIP, Mind Reader)
CONTRASTIVE_FIGURES = ("contrastive_retrieval", "contrastive_examples_images",
                       *(("contrastive_examples_captions",) if REFERENCE_STUDY else ()))
CONTRASTIVE_EXAMPLE_MODE = MODES[-1]  # the examples show the agnostic decoders (on NSD: the image-trained ones)


def contrastive_targets():
    if not config["contrastive"]["decoders"]:
        return []
    return [res("contrastive_summary"), *[res("figure", name=name) for name in CONTRASTIVE_FIGURES]]


def contrastive_params(decoder):
    """The config a decoder family's jobs read, and only that: changing Mind Reader's learning rate reruns the
    Mind Reader jobs, not BrainCLIP's; changing the ridge decoders' grid reruns ridge into the space."""
    out = {"retrieval_batch": CONTRASTIVE["retrieval_batch"], "device": CONTRASTIVE["device"]}
    if decoder == "ridge":
        return {**out, "ridge_alphas": config["decoding"]["alphas"], "ridge_cv_folds": config["decoding"]["cv_folds"]}
    out.update({k: CONTRASTIVE[k] for k in TRAINING_KEYS}, **{decoder: CONTRASTIVE[decoder]})
    if decoder.startswith("brainclip"):
        out["brainclip"] = CONTRASTIVE["brainclip"]
    return out


# the encoders: the voxelwise ridge, then the Universal Brain Encoder
def encoding_targets():
    if not ENC_MODELS:
        return []
    return [res("encoding_summary"), res("figure", name="encoding_voxelwise")]


def ube_run_subjects(run):
    """The subjects of a training run of the UBE study: ``joint`` trains on every training subject together,
    ``single/<subject>`` on one."""
    return UBE_TRAIN_SUBJECTS if run == "joint" else [run.split("/", 1)[1]]


def ube_run_name(run):
    """``joint``, or ``single-<subject>`` for ``single/<subject>``: the run's random stream and its rows in the
    tables."""
    return "-".join(run.split("/"))


def ube_targets():
    if not UBE["patch_model"]:
        return []
    return [res("ube_table", table="scores"), res("figure", name="ube")]


# --------------------------------------------------------------------------------------------------------------
# the Snakemake report (`make report`, rules/report.smk): its sections, in reading order, and a caption per item
# (report/<name>.rst, written as the papers' captions, with the run's settings filled in by Jinja)

REPORT_DATA = "1. Dataset and QC"
REPORT_DECODING = "2. Decoding (ridge)"
REPORT_SEARCHLIGHT = "3. Searchlight and group statistics"
REPORT_CONTRASTIVE = "4. Contrastive decoders (BrainCLIP, Mind Reader)"
REPORT_ENCODERS = "5. Encoders (voxelwise ridge, Universal Brain Encoder)"
REPORT_PROVENANCE = "6. Provenance"


def in_report(path, name, category, subcategory="Figures", subjects="all", models="all", modes="all"):
    """``path`` marked for the report with the caption report/<name>.rst and labels a reader can filter by."""
    return report(path, caption=f"{workflow.basedir}/report/{name}.rst", category=category,
                  subcategory=subcategory, labels={"item": name, "subjects": subjects, "models": models,
                                                   "training modes": modes})


# (table, the TSV it shows, its heading, report section, labels). Only the tables of the studies this config runs.
REPORT_TABLES = [
    ("trial_counts", res("trial_counts"), "Trial counts per subject", REPORT_DATA, {}),
    *([("decoding_summary", res("decoding_summary"), "Ridge decoders: mean across subjects with bootstrap CIs",
        REPORT_DECODING, {}),
       ("clusters", res("group_clusters"), "Significant clusters of each test map",
        REPORT_SEARCHLIGHT, {"models": config["searchlight"]["model"]})] if REFERENCE_STUDY else []),
    *([("contrastive_summary", res("contrastive_summary"),
        "Contrastive decoders: mean across subjects with bootstrap CIs", REPORT_CONTRASTIVE, {})]
      if contrastive_targets() else []),
    *([("encoding_summary", res("encoding_summary"), "Voxelwise encoder: r per subject and region type",
        REPORT_ENCODERS, {"models": ", ".join(ENC_MODELS)}),
       ("encoding_retrieval", res("encoding_retrieval"), "Voxelwise encoder: image retrieval",
        REPORT_ENCODERS, {"models": ", ".join(ENC_MODELS)})] if ENC_MODELS else []),
    *([(name, res("ube_table", table=tsv), title, REPORT_ENCODERS, {"models": str(UBE["patch_model"])})
       for name, tsv, title in (("ube_scores", "scores", "Universal Brain Encoder: r per run and region type"),
                                ("ube_retrieval", "retrieval", "Universal Brain Encoder: image retrieval"),
                                ("ube_gain", "joint_vs_single", "Universal Brain Encoder: joint minus single"))]
      if UBE["patch_model"] else []),
]


def report_targets():
    return [res("provenance"), res("report_page", name="provenance"),
            *[res("report_page", name=name) for name, *_ in REPORT_TABLES]]
