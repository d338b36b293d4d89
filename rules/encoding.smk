# Image-to-brain encoders: a voxelwise banded ridge per subject x feature model, scored against noise ceilings.

rule encode:
    input:
        betas=f"{RES}/preprocessed/{{subject}}_betas.zarr",
        features=f"{RES}/features/{{model}}.zarr",
        planted=planted_json(),
    output:
        store=directory(f"{RES}/encoding/{{subject}}/{{model}}/encoder.zarr"),
        maps=list(amodal_data.encoding_maps(RES, "{subject}", "{model}", MESH).values()),
        scores=f"{RES}/encoding/{{subject}}/{{model}}/scores.tsv",
        retrieval=f"{RES}/encoding/{{subject}}/{{model}}/retrieval.json",
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
        scores=expand(f"{RES}/encoding/{{subject}}/{{model}}/scores.tsv", subject=SUBJECTS, model=ENC_MODELS),
        retrieval=expand(f"{RES}/encoding/{{subject}}/{{model}}/retrieval.json", subject=SUBJECTS, model=ENC_MODELS),
        stores=expand(f"{RES}/encoding/{{subject}}/{{model}}/encoder.zarr", subject=SUBJECTS, model=ENC_MODELS),
    output:
        summary=f"{RES}/encoding/summary.tsv",
        retrieval=f"{RES}/encoding/retrieval.tsv",
        figure=in_report(f"{RES}/figures/encoding_voxelwise.png", "encoding_voxelwise", REPORT_ENCODERS,
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
