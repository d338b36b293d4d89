# Contrastive decoders into an aligned image-text space (BrainCLIP, Mind Reader) and ridge into the same space:
# one job per subject x decoder family x training mode, then one long table, a summary and figures.

rule contrastive_decode:
    input:
        betas=res("betas"),
        features=CONTRASTIVE_STORE,
        stimuli=STIMULI,
    output:
        predictions=directory(res("contrastive_predictions")),
        trial_scores=res("contrastive_trial_scores"),
        info=res("contrastive_info"),
    params:
        contrastive=lambda wc: contrastive_params(wc.decoder),
        retrieval_k=config["decoding"]["retrieval_k"],
        seed=config["seed"],
        # a checkpoint per epoch, outside the declared outputs: a killed job resumes where it stopped
        checkpoints=lambda wc: res("contrastive_checkpoints", subject=wc.subject, decoder=wc.decoder, mode=wc.mode),
    log:
        "logs/contrastive/{subject}_{decoder}_{mode}.log",
    benchmark:
        "benchmarks/contrastive/{subject}_{decoder}_{mode}.tsv"
    threads: 1
    resources:
        mem_mb=per_attempt(4000),
        runtime=per_attempt(30),
        gpu=gpus_for(CONTRASTIVE["device"]),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/contrastive_decode.py"


rule summarize_contrastive:
    input:
        trial_scores=expand(
            res("contrastive_trial_scores"),
            subject=SUBJECTS,
            decoder=CONTRASTIVE["decoders"],
            mode=MODES,
        ),
    output:
        trial_scores=res("contrastive_all_trial_scores"),
        scores=in_report(res("contrastive_scores"), "contrastive_scores", REPORT_CONTRASTIVE,
                         "Tables (download)"),
        summary=res("contrastive_summary"),
    params:
        n_bootstrap=CONTRASTIVE["n_bootstrap"],
        ci=config["evaluation"]["ci"],
        seed=config["seed"],
    log:
        "logs/summarize_contrastive.log",
    benchmark:
        "benchmarks/summarize_contrastive.tsv"
    threads: 1
    resources:
        mem_mb=per_attempt(3000),
        runtime=per_attempt(20),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/summarize_contrastive.py"


rule contrastive_figures:
    input:
        summary=res("contrastive_summary"),
        predictions=expand(
            res("contrastive_predictions", mode=CONTRASTIVE_EXAMPLE_MODE),
            subject=config["figures"]["example_subject"],
            decoder=CONTRASTIVE["decoders"],
        ),
        stimuli=STIMULI,
    output:
        figures=[in_report(res("figure", name=name), name, REPORT_CONTRASTIVE,
                           **({"modes": CONTRASTIVE_EXAMPLE_MODE} if "examples" in name else {}))
                 for name in CONTRASTIVE_FIGURES],
    params:
        names=CONTRASTIVE_FIGURES,  # of out.figures, in order
        figures=config["figures"],
        mode=CONTRASTIVE_EXAMPLE_MODE,
    log:
        "logs/contrastive_figures.log",
    benchmark:
        "benchmarks/contrastive_figures.tsv"
    threads: 1
    resources:
        mem_mb=per_attempt(3000),
        runtime=per_attempt(20),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/contrastive_figures.py"
