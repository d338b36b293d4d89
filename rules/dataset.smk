# The dataset: generated (synthetic) or read from dataset.path in amodal's layout.

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
