# amodal: modality-agnostic decoding of vision and language from fMRI.
# This file is only the table of contents. Rules live in rules/*.smk, logic in src/amodal/.

from snakemake.utils import min_version

from amodal.data import DECODER_FAMILIES, TRAINING_MODES

min_version("9.27.1")  # as pyproject.toml pins it: 9.10-9.15 start more jobs than --cores allows


configfile: "config/config.yaml"


report: "report/workflow.rst"  # `make report` (snakemake --report results/report.html): every figure and table


wildcard_constraints:
    subject="sub-[A-Za-z0-9]+",
    model="[A-Za-z0-9_.-]+",
    mode="|".join(TRAINING_MODES),
    decoder="|".join(DECODER_FAMILIES),
    h="L|R",
    shard="[0-9]+of[0-9]+",
    run="joint|single/sub-[A-Za-z0-9]+",


include: "rules/common.smk"
include: "rules/dataset.smk"
include: "rules/preprocess.smk"
include: "rules/qc.smk"
include: "rules/features.smk"
# the studies in the papers' order: the reference study (ridge decoders, then the searchlight and group statistics),
# the contrastive decoders, the encoders; then the report
include: "rules/decoding.smk"
include: "rules/searchlight.smk"
include: "rules/contrastive.smk"
include: "rules/encoding.smk"
include: "rules/ube.smk"
include: "rules/report.smk"


rule all:
    input:
        all_targets(),
        report_targets(),
        res("manifest"),  # last: it lists every output with its size and checksum
    default_target: True
