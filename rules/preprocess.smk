# Beta preprocessing: one job per subject.


rule preprocess:
    input:
        unpack(lambda wc: dataset_files(wc.subject)),
    output:
        store=directory(res("betas")),
        report=res("mask_report"),
    params:
        root=lambda wc, input: dataset_root(input.stimuli),
        mesh=MESH,
        average_repeats=config["preprocess"]["average_repeats"],
        zscore=config["preprocess"]["zscore"],
        roi=config["dataset"]["roi"],
        source=SOURCE,
        raw=RAW,  # a real download, whose beta files the trials table names
    log:
        "logs/preprocess/{subject}.log",
    benchmark:
        "benchmarks/preprocess/{subject}.tsv"
    threads: 1
    resources:
        mem_mb=per_attempt(PREPROCESS_MEM_MB),
        runtime=per_attempt(PREPROCESS_RUNTIME),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/preprocess.py"
