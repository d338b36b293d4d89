# Contrastive decoders into an aligned image-text space (BrainCLIP, Mind Reader) and ridge into the same space:
# one job per subject x decoder family x training mode, then one long table, a summary and figures.

rule contrastive_decode:
    input:
        betas=f"{RES}/preprocessed/{{subject}}_betas.zarr",
        features=CONTRASTIVE_STORE,
        stimuli=STIMULI,
    output:
        predictions=directory(f"{RES}/contrastive/{{subject}}/{{decoder}}/{{mode}}/predictions.zarr"),
        trial_scores=f"{RES}/contrastive/{{subject}}/{{decoder}}/{{mode}}/trial_scores.tsv",
        info=f"{RES}/contrastive/{{subject}}/{{decoder}}/{{mode}}/decoder.json",
    params:
        contrastive=lambda wc: contrastive_params(wc.decoder),
        retrieval_k=config["decoding"]["retrieval_k"],
        seed=config["seed"],
        # a checkpoint per epoch, outside the declared outputs: a killed job resumes where it stopped
        checkpoints=lambda wc: f"{RES}/checkpoints/contrastive/{wc.subject}/{wc.decoder}/{wc.mode}",
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
            f"{RES}/contrastive/{{subject}}/{{decoder}}/{{mode}}/trial_scores.tsv",
            subject=SUBJECTS,
            decoder=CONTRASTIVE["decoders"],
            mode=MODES,
        ),
    output:
        trial_scores=f"{RES}/contrastive/trial_scores.tsv.gz",
        scores=in_report(f"{RES}/contrastive/scores.tsv", "contrastive_scores", REPORT_CONTRASTIVE,
                         "Tables (download)"),
        summary=f"{RES}/contrastive/summary.tsv",
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
        summary=f"{RES}/contrastive/summary.tsv",
        predictions=expand(
            f"{RES}/contrastive/{{subject}}/{{decoder}}/{CONTRASTIVE_EXAMPLE_MODE}/predictions.zarr",
            subject=config["figures"]["example_subject"],
            decoder=CONTRASTIVE["decoders"],
        ),
        stimuli=STIMULI,
    output:
        figures=[in_report(f"{RES}/figures/{name}.png", name, REPORT_CONTRASTIVE,
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
