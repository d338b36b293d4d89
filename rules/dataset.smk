# The dataset: generated (synthetic) or read from dataset.path in amodal's layout.

if config["dataset"]["source"] == "synthetic":

    rule generate_synthetic:
        output:
            stimuli=f"{DATA}/stimuli/stimuli.tsv",
            trials=expand(f"{DATA}/{{subject}}/{{subject}}_trials.tsv", subject=SUBJECTS),
            betas=expand(
                f"{DATA}/{{subject}}/{{subject}}_hemi-{{h}}_betas.func.gii",
                subject=SUBJECTS,
                h=("L", "R"),
            ),
            atlas=expand(f"{DATA}/atlas/atlas_hemi-{{h}}.label.gii", h=("L", "R")),
            planted=f"{DATA}/atlas/planted.json",
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
