# The Universal Brain Encoder (Beliy et al. 2024): one image-to-fMRI network for every subject, trained jointly on
# all subjects but one, single-subject on each of them, and transferred to the one held out; then the clusters of
# its vertex embeddings and the figure.


rule ube_train:
    # one rule for the joint run (every training subject together) and each single-subject run
    input:
        betas=lambda wc: expand(res("betas"), subject=ube_run_subjects(wc.run)),
        features=UBE_STORE,
        planted=planted_json(),
    output:
        stores=directory(res("ube_stores")),
        model=res("ube_model"),
        scores=res("ube_scores"),
        retrieval=res("ube_retrieval"),
        history=res("ube_history"),
    params:
        ube=UBE,
        size=UBE_SIZE,
        subjects=lambda wc: ube_run_subjects(wc.run),
        run=lambda wc: ube_run_name(wc.run),
        seed=config["seed"],
        # a checkpoint per epoch, outside the declared outputs: a killed job resumes where it stopped
        checkpoints=lambda wc: res("ube_checkpoints", run=wc.run),
    log:
        "logs/ube/{run}.log",
    benchmark:
        "benchmarks/ube/{run}.tsv"
    threads: 1
    # The joint run (135 s on the default) and the transfer after it are the main job's longest chain. Scheduled by
    # readiness alone they ran last, with one core idle for the last ~3 minutes of a 29-minute run; started as soon
    # as their features exist, they overlap the many short decoding jobs. Order only: the jobs are seeded each on
    # its own, so their outputs do not depend on when they run.
    priority: 10
    resources:
        mem_mb=per_attempt(lambda wc: 4000 if wc.run == "joint" else 3000),
        runtime=per_attempt(lambda wc: 60 if wc.run == "joint" else 30),
        gpu=gpus_for(UBE["device"]),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/ube_train.py"


rule ube_transfer:
    input:
        betas=res("betas", subject=UBE_TRANSFER_SUBJECT),
        features=UBE_STORE,
        model=res("ube_model", run="joint"),
        planted=planted_json(),
    output:
        stores=directory(res("ube_stores", run="transfer")),
        scores=res("ube_scores", run="transfer"),
        retrieval=res("ube_retrieval", run="transfer"),
        history=res("ube_history", run="transfer"),
    params:
        ube=UBE,
        size=UBE_SIZE,
        subject=UBE_TRANSFER_SUBJECT,
        seed=config["seed"],
        checkpoints=res("ube_checkpoints", run="transfer"),
    log:
        "logs/ube/transfer.log",
    benchmark:
        "benchmarks/ube/transfer.tsv"
    threads: 1
    priority: 10  # as ube_train
    resources:
        mem_mb=per_attempt(3000),
        runtime=per_attempt(30),
        gpu=gpus_for(UBE["device"]),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/ube_transfer.py"


rule summarize_ube:
    input:
        joint=res("ube_stores", run="joint"),
        scores=[
            res("ube_scores", run="joint"),
            *[res("ube_scores", run=f"single/{s}") for s in UBE_TRAIN_SUBJECTS],
            res("ube_scores", run="transfer"),
        ],
        retrieval=[
            res("ube_retrieval", run="joint"),
            *[res("ube_retrieval", run=f"single/{s}") for s in UBE_TRAIN_SUBJECTS],
            res("ube_retrieval", run="transfer"),
        ],
    output:
        scores=res("ube_table", table="scores"),
        retrieval=res("ube_table", table="retrieval"),
        gain=res("ube_table", table="joint_vs_single"),
        clusters=res("ube_clusters"),
        maps=list(amodal_data.ube_maps(RES, UBE_TRAIN_SUBJECTS, MESH).values()),
        figure=in_report(res("figure", name="ube"), "ube", REPORT_ENCODERS, models=str(UBE["patch_model"])),
    params:
        ube=UBE,
        subjects=UBE_TRAIN_SUBJECTS,
        n_clusters=UBE["n_clusters"],
        example_subject=config["figures"]["example_subject"],
        mesh=MESH,
        seed=config["seed"],
        dpi=config["qc"]["dpi"],
    log:
        "logs/summarize_ube.log",
    benchmark:
        "benchmarks/summarize_ube.tsv"
    threads: 1
    resources:
        mem_mb=per_attempt(3000),
        runtime=per_attempt(20),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/summarize_ube.py"
