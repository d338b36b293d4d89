# Model features: one cached Zarr store per feature model, computed once.


rule extract_features:
    input:
        stimuli=STIMULI,
        components=feature_components,
    output:
        store=directory(res("features")),
    params:
        definition=lambda wc: feature_definition(wc.model),
        definitions=FEATURES["definitions"],
        batch_size=FEATURES["batch_size"],
        device=FEATURES["device"],
        # only a model that draws random numbers depends on the seed (so a new seed reruns only that model)
        seed=lambda wc: config["seed"] if feature_definition(wc.model)["backend"] == "dual_encoder" else None,
    log:
        "logs/features/{model}.log",
    benchmark:
        "benchmarks/features/{model}.tsv"
    threads: 2
    # first whenever ready: every study waits on its features, and the Universal Brain Encoder's are the start of the
    # main job's longest chain (see rules/ube.smk)
    priority: 20
    resources:
        mem_mb=per_attempt(6000),
        runtime=per_attempt(60),
        gpu=gpus_for(FEATURES["device"]),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/extract_features.py"
