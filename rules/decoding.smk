# Ridge decoders per subject x feature model x training mode, then tables and figures.


rule decode:
    input:
        betas=res("betas"),
        features=res("features"),
    output:
        predictions=directory(res("decoding_predictions")),
        trial_scores=res("decoding_trial_scores"),
        info=res("decoding_info"),
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
            res("decoding_trial_scores"),
            subject=SUBJECTS,
            model=MODELS,
            mode=MODES,
        ),
    output:
        trial_scores=res("decoding_all_trial_scores"),
        scores=in_report(res("decoding_scores"), "decoding_scores", REPORT_DECODING, "Tables (download)"),
        summary=res("decoding_summary"),
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
        summary=res("decoding_summary"),
        scores=res("decoding_scores"),
        predictions=example_predictions(),
        features=res("features", model=config['figures']['example_model']),
        stimuli=STIMULI,
    output:
        figures=[in_report(res("figure", name=name), name, REPORT_DECODING,
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
