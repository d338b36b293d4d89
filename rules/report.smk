# The report's own outputs: the run's provenance, the summary tables as HTML the report shows inline (Snakemake's
# report offers other text files only as downloads), and the manifest of every output. `make report` then builds
# results/report.html from them and from every output marked with in_report() (rules/common.smk).


rule report_tables:
    input:
        [tsv for _, tsv, *_ in REPORT_TABLES],
    output:
        [in_report(res("report_page", name=name), name, category, "Tables", **labels)
         for name, _, _, category, labels in REPORT_TABLES],
    params:
        titles=[title for _, _, title, *_ in REPORT_TABLES],
    log:
        "logs/report_tables.log",
    threads: 1
    resources:
        mem_mb=per_attempt(1000),
        runtime=per_attempt(5),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/report_tables.py"


rule provenance:
    output:
        record=res("provenance"),
        html=in_report(res("report_page", name="provenance"), "provenance", REPORT_PROVENANCE, "Run"),
    params:
        # the rule reruns when the config, the code's commit or a library version changes (params are a rerun
        # trigger), and only then
        config=config,
        stamp=amodal_provenance.stamp(),
    log:
        "logs/provenance.log",
    threads: 1
    resources:
        mem_mb=per_attempt(1000),
        runtime=per_attempt(5),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/provenance.py"


rule manifest:
    input:
        all_targets(),
        report_targets(),
    output:
        in_report(res("manifest"), "manifest", REPORT_PROVENANCE, "Run"),
    params:
        root=lambda wc, output: str(Path(output[0]).parent),
        exclude=["checkpoints"],  # training state for resuming killed jobs (rules/contrastive.smk, ube.smk)
    log:
        "logs/manifest.log",
    threads: 1
    resources:
        mem_mb=per_attempt(1000),
        runtime=per_attempt(10),
    conda:
        "../envs/amodal.yaml"
    script:
        "../workflow_scripts/manifest.py"
