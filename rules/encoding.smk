# Image-to-brain encoders: a voxelwise banded ridge per subject x feature model, scored against noise ceilings.

rule encode:
    input:
        betas=res("betas"),
        features=res("features"),
        planted=planted_json(),
    output:
        store=directory(res("encoder_store")),
        maps=list(amodal_data.encoding_maps(RES, "{subject}", "{model}", MESH).values()),
        scores=res("encoder_scores"),
        retrieval=res("encoder_retrieval"),
    params:
        encoding=config["encoding"],
        seed=config["seed"],
        mesh=MESH,
    log:
        "logs/encoding/{subject}_{model}.log",
    benchmark:
        "benchmarks/encoding/{subject}_{model}.tsv"
    threads: 1
    resources:
        mem_mb=per_attempt(3000),
        runtime=per_attempt(20),
        gpu=gpus_for(config["encoding"]["device"]),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/encode.py"


rule summarize_encoding:
    input:
        scores=expand(res("encoder_scores"), subject=SUBJECTS, model=ENC_MODELS),
        retrieval=expand(res("encoder_retrieval"), subject=SUBJECTS, model=ENC_MODELS),
        stores=expand(res("encoder_store"), subject=SUBJECTS, model=ENC_MODELS),
    output:
        summary=res("encoding_summary"),
        retrieval=res("encoding_retrieval"),
        figure=in_report(res("figure", name="encoding_voxelwise"), "encoding_voxelwise", REPORT_ENCODERS,
                         models=", ".join(ENC_MODELS)),
    params:
        subjects=SUBJECTS,
        models=ENC_MODELS,
        mesh=MESH,
        dpi=config["qc"]["dpi"],
    log:
        "logs/summarize_encoding.log",
    benchmark:
        "benchmarks/summarize_encoding.tsv"
    threads: 1
    resources:
        mem_mb=per_attempt(3000),
        runtime=per_attempt(20),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/summarize_encoding.py"
