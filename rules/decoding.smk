# Ridge decoders per subject x feature model x training mode, then tables and figures.


rule decode:
    input:
        betas=f"{RES}/preprocessed/{{subject}}_betas.zarr",
        features=f"{RES}/features/{{model}}.zarr",
    output:
        predictions=directory(f"{RES}/decoding/{{subject}}/{{model}}/{{mode}}/predictions.zarr"),
        trial_scores=f"{RES}/decoding/{{subject}}/{{model}}/{{mode}}/trial_scores.tsv",
        info=f"{RES}/decoding/{{subject}}/{{model}}/{{mode}}/decoder.json",
    params:
        decoding=config["decoding"],
        seed=config["seed"],
        definitions=FEATURES["definitions"],
    log:
        "logs/decoding/{subject}_{model}_{mode}.log",
    benchmark:
        "benchmarks/decoding/{subject}_{model}_{mode}.tsv"
    threads: 1
    resources:
        mem_mb=per_attempt(DECODE_MEM_MB),
        runtime=per_attempt(DECODE_RUNTIME),
        gpu=gpus_for(config["decoding"]["device"]),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/decode.py"


rule summarize_decoding:
    input:
        trial_scores=expand(
            f"{RES}/decoding/{{subject}}/{{model}}/{{mode}}/trial_scores.tsv",
            subject=SUBJECTS,
            model=MODELS,
            mode=MODES,
        ),
    output:
        trial_scores=f"{RES}/decoding/trial_scores.tsv.gz",
        scores=in_report(f"{RES}/decoding/scores.tsv", "decoding_scores", REPORT_DECODING, "Tables (download)"),
        summary=f"{RES}/decoding/summary.tsv",
    params:
        evaluation=config["evaluation"],
        seed=config["seed"],
    log:
        "logs/summarize_decoding.log",
    benchmark:
        "benchmarks/summarize_decoding.tsv"
    threads: 1
    resources:
        mem_mb=per_attempt(3000),
        runtime=per_attempt(20),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/summarize_decoding.py"


rule decoding_figures:
    input:
        summary=f"{RES}/decoding/summary.tsv",
        scores=f"{RES}/decoding/scores.tsv",
        predictions=example_predictions(),
        features=f"{RES}/features/{config['figures']['example_model']}.zarr",
        stimuli=STIMULI,
    output:
        figures=[in_report(f"{RES}/figures/{name}.png", name, REPORT_DECODING,
                           **({"subjects": config["figures"]["example_subject"],
                               "models": config["figures"]["example_model"], "modes": "agnostic"}
                              if name.startswith(("fig6", "fig7")) else {}))
                 for name in DECODING_FIGURES],
    params:
        names=DECODING_FIGURES,  # of out.figures, in order
        figures=config["figures"],
        models=MODELS,
    log:
        "logs/decoding_figures.log",
    benchmark:
        "benchmarks/decoding_figures.tsv"
    threads: 1
    resources:
        mem_mb=per_attempt(3000),
        runtime=per_attempt(20),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/decoding_figures.py"
