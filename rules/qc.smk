# Dataset QC figure (atlas, split-half reliability per region type, trial counts as in Fig. 1B).


rule qc_figure:
    input:
        trials=TRIALS,
        betas=lambda wc: dataset_files(config["qc"]["subject"])["betas"],
        atlas=ATLAS,
        planted=planted_json(),
    output:
        figure=in_report(res("figure", name="qc_dataset"), "qc_dataset", REPORT_DATA, subjects=config["qc"]["subject"]),
        counts=res("trial_counts"),
    params:
        root=lambda wc, input: dataset_root(input.atlas[0]),
        mesh=MESH,
        subjects=SUBJECTS,
        subject=config["qc"]["subject"],
        dpi=config["qc"]["dpi"],
        source=SOURCE,
        raw=RAW,
    log:
        "logs/qc_figure.log",
    benchmark:
        "benchmarks/qc_figure.tsv"
    threads: 1
    resources:
        mem_mb=per_attempt(2000),
        runtime=per_attempt(10),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/qc_figure.py"
