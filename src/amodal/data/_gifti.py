"""The one GIFTI writer of amodal: functional maps (betas, statistics) and label maps, per hemisphere.

Every file names its hemisphere in the ``AnatomicalStructurePrimary`` metadata (``CortexLeft``/``CortexRight``),
as FreeSurfer, Connectome Workbench and nilearn expect.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np

from ..sidecars import sidecar_path, write_sidecar

STRUCTURE = {"left": "CortexLeft", "right": "CortexRight"}


def _meta(hemi: str):
    return nib.gifti.GiftiMetaData({"AnatomicalStructurePrimary": STRUCTURE[hemi]})


def write_func_gifti(path, data: np.ndarray, hemi: str, compress: bool = True) -> None:
    """Write float32 maps as a ``.func.gii`` with one data array per map.

    Parameters
    ----------
    path : str or Path
    data : array of shape (n_vertices,) or (n_maps, n_vertices)
        One map, or one map per row (for example one beta map per trial).
    hemi : {"left", "right"}
    compress : bool
        gzip each array (GIFTI's ``GIFTI_ENCODING_B64GZ``, the default) or not (``GIFTI_ENCODING_B64BIN``). Noisy
        float32 betas shrink by only ~10 % under gzip, which costs seconds per thousand maps to write: the
        synthetic dataset's betas are written uncompressed. Readers handle both.
    """
    data = np.asarray(data)
    rows = data[None] if data.ndim == 1 else data
    encoding = "GIFTI_ENCODING_B64GZ" if compress else "GIFTI_ENCODING_B64BIN"
    darrays = [nib.gifti.GiftiDataArray(np.ascontiguousarray(row, dtype=np.float32),
                                        intent="NIFTI_INTENT_ESTIMATE", datatype="NIFTI_TYPE_FLOAT32",
                                        encoding=encoding)
               for row in rows]
    nib.save(nib.gifti.GiftiImage(meta=_meta(hemi), darrays=darrays), str(path))


def write_map(path, values: np.ndarray, hemi: str, sidecar: dict, sort_keys: bool = True) -> None:
    """Write one map of one hemisphere as a float32 ``.func.gii`` with its JSON sidecar beside it: every map
    amodal writes goes through here.

    Parameters
    ----------
    path : str or Path
        A ``.func.gii`` path; the sidecar is :func:`amodal.sidecars.sidecar_path` of it.
    values : array of shape (n_vertices,)
    hemi : {"left", "right"}
    sidecar : dict
        The parameters that made the map (:func:`amodal.sidecars.write_sidecar` adds the provenance).
    sort_keys : bool
        Sort the sidecar's keys (the group stage keeps its own order).
    """
    write_func_gifti(path, values, hemi)
    write_sidecar(sidecar_path(path), sidecar, sort_keys=sort_keys)


def write_label_gifti(path, labels: np.ndarray, names: dict[int, str], hemi: str, colours=None) -> None:
    """Write an integer label map as a ``.label.gii`` with its label table.

    Parameters
    ----------
    path : str or Path
    labels : int array of shape (n_vertices,)
    names : dict of int to str
        Key to name; key 0 is drawn transparent grey.
    hemi : {"left", "right"}
    colours : dict of int to RGBA tuple, optional
        Colour per key (default: matplotlib's ``tab10``).
    """
    import matplotlib

    table = nib.gifti.GiftiLabelTable()
    cmap = matplotlib.colormaps["tab10"]
    for key, name in sorted(names.items()):
        lab = nib.gifti.GiftiLabel(key=int(key))
        lab.label = name
        rgba = (0.85, 0.85, 0.85, 0.0) if key == 0 else (colours or {}).get(key, cmap(key % 10))
        lab.red, lab.green, lab.blue, lab.alpha = rgba
        table.labels.append(lab)
    img = nib.gifti.GiftiImage(labeltable=table, meta=_meta(hemi))
    img.add_gifti_data_array(nib.gifti.GiftiDataArray(np.asarray(labels, dtype=np.int32),
                                                      intent="NIFTI_INTENT_LABEL", datatype="NIFTI_TYPE_INT32"))
    nib.save(img, str(path))
