# The dataset: generated (synthetic), read from dataset.path in amodal's layout, or brought into that layout from
# a real download (ds007272, NSD: the stimuli and trials tables and the atlas are written; the betas stay in the
# download and preprocessing reads them there).

if config["dataset"]["source"] == "synthetic":

    rule generate_synthetic:
        output:
            stimuli=STIMULI,
            trials=TRIALS,
            betas=BETAS,
            atlas=ATLAS,
            planted=PLANTED,
        params:
            synthetic=config["synthetic"],
            seed=config["seed"],
            mesh=MESH,
            root=lambda wc, output: dataset_root(output.stimuli),
        log:
            "logs/generate_synthetic.log",
        benchmark:
            "benchmarks/generate_synthetic.tsv"
        threads: 1
        resources:
            mem_mb=per_attempt(3000),
            runtime=per_attempt(20),
        conda:
            "../envs/amodal.yaml"
        script:
            "../workflow_scripts/generate_synthetic.py"


if RAW:  # a real download (dataset.source ds007272 or nsd), brought into the layout under results/dataset

    rule import_dataset:
        input:
            layout_inputs(SOURCE, RAW, SUBJECTS),
        output:
            stimuli=STIMULI,
            trials=TRIALS,
        params:
            source=SOURCE,
            raw=RAW,
            subjects=SUBJECTS,
            # the names of the beta files (a digest): adding or removing one reruns the import, whose trials tables
            # list them; replacing one reruns only its subject's preprocessing (rules/common.smk: dataset_files)
            betas_listing=lambda wc: betas_listing(SOURCE, RAW, SUBJECTS),
            coco_root=config["dataset"]["coco_root"],
            root=lambda wc, output: dataset_root(output.stimuli),
        log:
            "logs/import_dataset.log",
        benchmark:
            "benchmarks/import_dataset.tsv"
        threads: 1
        resources:
            mem_mb=per_attempt(4000),
            runtime=per_attempt(60),
        conda:
            "../envs/amodal.yaml"
        script:
            "../workflow_scripts/import_dataset.py"

    rule atlas_from_freesurfer:
        output:
            atlas=ATLAS,
        params:
            mesh=MESH,
            name=config["dataset"]["atlas"],
            # NSD's download has its own FreeSurfer fsaverage folder; it is tried after the configured one
            subjects_dir=config["dataset"]["freesurfer_subjects_dir"] or (f"{RAW}/nsddata/freesurfer" if SOURCE == "nsd" else None),
        log:
            "logs/atlas_from_freesurfer.log",
        threads: 1
        resources:
            mem_mb=per_attempt(1000),
            runtime=per_attempt(5),
        conda:
            "../envs/amodal.yaml"
        script:
            "../workflow_scripts/atlas_from_freesurfer.py"
