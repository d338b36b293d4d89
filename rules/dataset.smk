# The dataset: generated (synthetic), read from dataset.path in amodal's layout, or brought into that layout from
# a real download (ds007272: the stimuli and trials tables and the atlas are written; the betas stay where they are).

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
            mem_mb=lambda wc, attempt: 3000 * attempt,
            runtime=lambda wc, attempt: 20 * attempt,
        conda:
            "../envs/amodal.yaml"
        script:
            "../workflow_scripts/generate_synthetic.py"


if SOURCE == "ds007272":

    rule ds007272_layout:
        input:
            stimuli=f"{RAW}/stimuli/stimuli.csv",
            betas=[b for s in SUBJECTS for b in dataset_files(s)["betas"]],
        output:
            stimuli=STIMULI,
            trials=TRIALS,
        params:
            raw=RAW,
            subjects=SUBJECTS,
            coco_root=config["dataset"]["coco_root"],
            root=lambda wc, output: dataset_root(output.stimuli),
        log:
            "logs/ds007272_layout.log",
        benchmark:
            "benchmarks/ds007272_layout.tsv"
        threads: 1
        resources:
            mem_mb=lambda wc, attempt: 2000 * attempt,
            runtime=lambda wc, attempt: 20 * attempt,
        conda:
            "../envs/amodal.yaml"
        script:
            "../workflow_scripts/ds007272_layout.py"

    rule atlas_from_freesurfer:
        output:
            atlas=ATLAS,
        params:
            mesh=MESH,
            name=config["dataset"]["atlas"],
            subjects_dir=config["dataset"]["freesurfer_subjects_dir"],
        log:
            "logs/atlas_from_freesurfer.log",
        threads: 1
        resources:
            mem_mb=lambda wc, attempt: 1000 * attempt,
            runtime=lambda wc, attempt: 5 * attempt,
        conda:
            "../envs/amodal.yaml"
        script:
            "../workflow_scripts/atlas_from_freesurfer.py"
