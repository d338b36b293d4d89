# Surface searchlight per subject x training mode x hemisphere (x shard), then group statistics and figures.


rule searchlight:
    input:
        betas=res("betas"),
        features=res("features", model=SL['model']),
    output:
        store=directory(searchlight_store("{subject}", "{mode}", "{h}", "{shard}")),
    params:
        searchlight=searchlight_params(),
        mesh=MESH,
        seed=config["seed"],
    log:
        "logs/searchlight/{subject}_{mode}_{h}_{shard}.log",
    benchmark:
        "benchmarks/searchlight/{subject}_{mode}_{h}_{shard}.tsv"
    # One thread: the batched solves barely gain from a second one (fsaverage5, k=100: 15.8 s on 1 thread, 14.1 s
    # on 2), so two jobs side by side finish the searchlight stage in about half the time on 2 cores.
    threads: 1
    resources:
        mem_mb=per_attempt(SEARCHLIGHT_MEM_MB),
        runtime=per_attempt(60),
        gpu=gpus_for(SL["device"]),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/searchlight.py"


rule group_stats:
    input:
        stores=all_searchlight_stores(),
        atlas=ATLAS,
        planted=planted_json(),
    output:
        clusters=res("group_clusters"),
        clusters_sidecar=res("group_clusters_sidecar"),
        summary=res("group_summary"),
    params:
        stats=STATS,
        searchlight=searchlight_params(),
        subjects=SUBJECTS,
        modes=MODES,
        shards=SHARDS,
        mesh=MESH,
        seed=config["seed"],
    log:
        "logs/group_stats.log",
    benchmark:
        "benchmarks/group_stats.tsv"
    threads: 2
    resources:
        mem_mb=per_attempt(GROUP_MEM_MB),
        runtime=per_attempt(60),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/group_stats.py"


rule searchlight_size_sweep:
    input:
        betas=res("betas"),
        features=res("features", model=SL['model']),
        atlas=ATLAS,
    output:
        table=res("size_sweep"),
    params:
        searchlight=searchlight_params(),
        mesh=MESH,
        seed=config["seed"],
        root=lambda wc, input: dataset_root(input.atlas[0]),
    log:
        "logs/searchlight/size_sweep_{subject}.log",
    benchmark:
        "benchmarks/searchlight/size_sweep_{subject}.tsv"
    threads: 1  # as the searchlight rule
    resources:
        mem_mb=per_attempt(4000),
        runtime=per_attempt(60),
        gpu=gpus_for(SL["device"]),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/searchlight_size_sweep.py"


rule searchlight_figures:
    input:
        clusters=res("group_clusters"),
        summary=res("group_summary"),
        sizes=expand(res("size_sweep"), subject=SL["size_sweep_subjects"]),
        atlas=ATLAS,
    output:
        figures=[in_report(res("figure", name=name), name, REPORT_SEARCHLIGHT, models=config["searchlight"]["model"],
                           **({"subjects": ", ".join(config["searchlight"]["size_sweep_subjects"])}
                              if name.startswith("app5") else {}))
                 for name in SEARCHLIGHT_FIGURES],
    params:
        names=SEARCHLIGHT_FIGURES,  # of out.figures, in order
        mesh=MESH,
        dpi=config["figures"]["dpi"],
    log:
        "logs/searchlight_figures.log",
    benchmark:
        "benchmarks/searchlight_figures.tsv"
    threads: 1
    resources:
        mem_mb=per_attempt(3000),
        runtime=per_attempt(20),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/searchlight_figures.py"
