"""amodal: modality-agnostic decoding of vision and language from fMRI.

The library behind the Snakemake workflow; every part is importable without Snakemake. Sub-packages follow
the stages of the pipeline:

- :mod:`amodal.data`: the on-disk dataset layout, GIFTI and Zarr I/O, preprocessing, the synthetic dataset
  (:mod:`amodal.data.synthetic`) and adapters for real datasets (:mod:`amodal.data.adapters`);
- :mod:`amodal.features`: the registry of feature models, their backends, and targets per stimulus;
- :mod:`amodal.models`: decoders and encoders (fit on train rows, predict rows), ridge first;
- :mod:`amodal.evaluation`: pairwise accuracy and retrieval, scoring per training mode, bootstrap;
- :mod:`amodal.searchlight`: the batched surface searchlight and its null maps;
- :mod:`amodal.stats`: t-maps, TFCE, group permutations, clusters, the group stage, calibration;
- :mod:`amodal.viz`: surface plotting, the QC figure, decoding and searchlight figures.

Small shared modules: :mod:`amodal.errors`, :mod:`amodal.seeding` (one master seed), :mod:`amodal.device`
(CPU or CUDA), :mod:`amodal.surface` (meshes and hemispheres), :mod:`amodal.standardize` (train statistics),
:mod:`amodal.config` (the validated configuration) and :mod:`amodal.workflow` (logging, thread limits and
sidecars for the Snakemake scripts).
"""

__version__ = "0.1.0"
