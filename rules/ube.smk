# The Universal Brain Encoder (Beliy et al. 2024): one image-to-fMRI network for every subject, trained jointly on
# all subjects but one, single-subject on each of them, and transferred to the one held out; then the clusters of
# its vertex embeddings and the figure.


rule ube_train:
    # one rule for the joint run (every training subject together) and each single-subject run
    input:
        betas=lambda wc: expand(f"{RES}/preprocessed/{{subject}}_betas.zarr", subject=ube_run_subjects(wc.run)),
        features=UBE_STORE,
        planted=planted_json(),
    output:
        stores=directory(f"{RES}/ube/{{run}}/stores"),
        model=f"{RES}/ube/{{run}}/model.pt",
        scores=f"{RES}/ube/{{run}}/scores.tsv",
        retrieval=f"{RES}/ube/{{run}}/retrieval.tsv",
        history=f"{RES}/ube/{{run}}/history.json",
    params:
        ube=UBE,
        size=UBE_SIZE,
        subjects=lambda wc: ube_run_subjects(wc.run),
        run=lambda wc: ube_run_name(wc.run),
        seed=config["seed"],
        # a checkpoint per epoch, outside the declared outputs: a killed job resumes where it stopped
        checkpoints=lambda wc: f"{RES}/checkpoints/ube/{wc.run}",
    log:
        "logs/ube/{run}.log",
    benchmark:
        "benchmarks/ube/{run}.tsv"
    threads: 1
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
        betas=f"{RES}/preprocessed/{UBE_TRANSFER_SUBJECT}_betas.zarr",
        features=UBE_STORE,
        model=f"{RES}/ube/joint/model.pt",
        planted=planted_json(),
    output:
        stores=directory(f"{RES}/ube/transfer/stores"),
        scores=f"{RES}/ube/transfer/scores.tsv",
        retrieval=f"{RES}/ube/transfer/retrieval.tsv",
        history=f"{RES}/ube/transfer/history.json",
    params:
        ube=UBE,
        size=UBE_SIZE,
        subject=UBE_TRANSFER_SUBJECT,
        seed=config["seed"],
        checkpoints=f"{RES}/checkpoints/ube/transfer",
    log:
        "logs/ube/transfer.log",
    benchmark:
        "benchmarks/ube/transfer.tsv"
    threads: 1
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
        joint=f"{RES}/ube/joint/stores",
        scores=[
            f"{RES}/ube/joint/scores.tsv",
            *expand(f"{RES}/ube/single/{{subject}}/scores.tsv", subject=UBE_TRAIN_SUBJECTS),
            f"{RES}/ube/transfer/scores.tsv",
        ],
        retrieval=[
            f"{RES}/ube/joint/retrieval.tsv",
            *expand(f"{RES}/ube/single/{{subject}}/retrieval.tsv", subject=UBE_TRAIN_SUBJECTS),
            f"{RES}/ube/transfer/retrieval.tsv",
        ],
    output:
        scores=f"{RES}/ube/scores.tsv",
        retrieval=f"{RES}/ube/retrieval.tsv",
        gain=f"{RES}/ube/joint_vs_single.tsv",
        clusters=f"{RES}/ube/clusters.json",
        maps=list(amodal_data.ube_maps(RES, UBE_TRAIN_SUBJECTS, MESH).values()),
        figure=in_report(f"{RES}/figures/ube.png", "ube", REPORT_ENCODERS, models=str(UBE["patch_model"])),
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
