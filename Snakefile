# amodal: modality-agnostic decoding of vision and language from fMRI.
# This file is only the table of contents. Rules live in rules/*.smk, logic in src/amodal/.

from snakemake.utils import min_version

min_version("9.27.1")  # as pyproject.toml pins it: 9.10-9.15 start more jobs than --cores allows


configfile: "config/config.yaml"


report: "report/workflow.rst"  # `make report` (snakemake --report results/report.html): every figure and table


wildcard_constraints:
    subject="sub-[A-Za-z0-9]+",
    model="[A-Za-z0-9_.-]+",
    mode="images|captions|agnostic",
    decoder="ridge|brainclip_linear|brainclip_vae|mindreader",
    h="L|R",
    shard="[0-9]+of[0-9]+",
    run="joint|single/sub-[A-Za-z0-9]+",


include: "rules/common.smk"
include: "rules/dataset.smk"
include: "rules/preprocess.smk"
include: "rules/qc.smk"
include: "rules/features.smk"
include: "rules/decoding.smk"
include: "rules/encoding.smk"
include: "rules/ube.smk"
include: "rules/contrastive.smk"
include: "rules/searchlight.smk"
include: "rules/report.smk"


rule all:
    input:
        all_targets(),
        report_targets(),
        f"{RES}/manifest.json",  # last: it lists every output with its size and checksum
    default_target: True
