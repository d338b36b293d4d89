# The Universal Brain Encoder (Beliy et al. 2024): one image-to-fMRI network for every subject, trained jointly on
# all subjects but one, single-subject on each of them, and transferred to the one held out; then the clusters of
# its vertex embeddings and the figure.


rule ube_joint:
    input:
        betas=expand(f"{RES}/preprocessed/{{subject}}_betas.zarr", subject=UBE_TRAIN_SUBJECTS),
        features=UBE_STORE,
        planted=planted_json(),
    output:
        stores=directory(f"{RES}/ube/joint/stores"),
        model=f"{RES}/ube/joint/model.pt",
        scores=f"{RES}/ube/joint/scores.tsv",
        retrieval=f"{RES}/ube/joint/retrieval.tsv",
        history=f"{RES}/ube/joint/history.json",
    params:
        ube=UBE,
        size=UBE_SIZE,
        subjects=UBE_TRAIN_SUBJECTS,
        run="joint",
        seed=config["seed"],
        # a checkpoint per epoch, outside the declared outputs: a killed job resumes where it stopped
        checkpoints=f"{RES}/checkpoints/ube/joint",
    log:
        "logs/ube/joint.log",
    benchmark:
        "benchmarks/ube/joint.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
        gpu=gpus_for(UBE["device"]),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/ube_train.py"


rule ube_single:
    input:
        betas=[f"{RES}/preprocessed/{{subject}}_betas.zarr"],
        features=UBE_STORE,
        planted=planted_json(),
    output:
        stores=directory(f"{RES}/ube/single/{{subject}}/stores"),
        model=f"{RES}/ube/single/{{subject}}/model.pt",
        scores=f"{RES}/ube/single/{{subject}}/scores.tsv",
        retrieval=f"{RES}/ube/single/{{subject}}/retrieval.tsv",
        history=f"{RES}/ube/single/{{subject}}/history.json",
    params:
        ube=UBE,
        size=UBE_SIZE,
        subjects=lambda wc: [wc.subject],
        run=lambda wc: f"single-{wc.subject}",
        seed=config["seed"],
        checkpoints=lambda wc: f"{RES}/checkpoints/ube/single/{wc.subject}",
    log:
        "logs/ube/single_{subject}.log",
    benchmark:
        "benchmarks/ube/single_{subject}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
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
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
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
        maps=expand(
            f"{RES}/ube/maps/{{subject}}_hemi-{{h}}_space-{MESH}_stat-{{stat}}_ube.func.gii",
            subject=UBE_TRAIN_SUBJECTS,
            h=H_LETTERS,
            stat=("r", "cluster"),
        ),
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
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 20 * attempt,
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/summarize_ube.py"
