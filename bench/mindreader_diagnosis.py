"""Why the Mind Reader mapper sits at chance on the embedded default (issue 30, item 4): the experiments the README
quotes, in one run. Exploratory measurements, not a benchmark: it prints one JSON line per fit.

Worlds (every fit: the workflow's training loop :func:`amodal.models.train`, Mind Reader's loss with targets
clipped to +-1.5 and unit-normalised, AdamW, one thread; test R@1 among the test items by cosine):

- ``toy-per-vertex``: a linear world where each signal-carrying vertex reads the target embedding with its own
  random weights (1/8 of 4,096 vertices; 700 fit, 150 validation, 70 test rows; 64-d targets). Ridge into the
  space (scikit-learn's ``RidgeCV``) reads it; so does the same loss on a linear map.
- ``toy-shared-code``: the same sizes, but every 64-vertex patch carries one shared linear code of the target,
  scaled per patch: the function class of the mapper's stem and its maps across positions.
- ``--results DIR``: a finished main job's own stores (sub-01, image-trained rows, image test trials), in the
  store's vertex order and in a spatial order (Morton code of the sphere coordinates within each hemisphere).

    python bench/mindreader_diagnosis.py [--results results] [--long]
"""
import argparse
import json
import time

import numpy as np
import torch
from sklearn.linear_model import RidgeCV

from amodal.models import LinearMap, MindReaderMapper, TrainSettings, clamp_normalize, thread_invariant, train

CPU_DEFAULT = dict(hidden=16, n_blocks=2, fc_hidden=32, stem_kernel=64, stem_stride=64)  # config/config.yaml


def r_at_1(pred, targets) -> float:
    p = torch.nn.functional.normalize(torch.as_tensor(pred, dtype=torch.float32), dim=1)
    c = torch.nn.functional.normalize(torch.as_tensor(targets, dtype=torch.float32), dim=1)
    return float(((p @ c.T).argmax(1) == torch.arange(len(c))).float().mean())


def fit(model, x, y, fit_rows, val_rows, test_rows, *, epochs=30, patience=3, batch_size=128, lr=4e-4):
    """Train with Mind Reader's loss; returns test R@1 and the training curve's summary."""
    x = torch.as_tensor(x, dtype=torch.float32)
    t = clamp_normalize(torch.as_tensor(y, dtype=torch.float32), 1.5)
    s = TrainSettings(loss="mindreader", tau=0.5, lr=lr, weight_decay=0.01, max_epochs=epochs, patience=patience,
                      min_delta=0.002, batch_size=batch_size)
    ids = np.array([str(i) for i in range(len(x))])
    start = time.perf_counter()
    with thread_invariant("cpu"):
        out = train(model, x[fit_rows], [t[fit_rows]], ids[fit_rows], x[val_rows], [t[val_rows]], ids[val_rows],
                    s, seed=0)
        with torch.no_grad():
            pred = model(x[test_rows])
    h = out["history"]
    return {"r_at_1": round(r_at_1(pred, y[test_rows]), 3), "best_epoch": out["best_epoch"], "epochs": len(h),
            "train_loss_first": round(h[0]["train_loss"], 3),
            "train_loss_min": round(min(e["train_loss"] for e in h), 3),
            "val_loss_best": round(out["best_val_loss"], 3), "seconds": round(time.perf_counter() - start, 1)}


def ridge_r_at_1(x, y, train_rows, test_rows) -> tuple[float, float]:
    r = RidgeCV(alphas=np.logspace(0, 6, 7)).fit(x[train_rows], y[train_rows])
    return round(r_at_1(r.predict(x[test_rows]), y[test_rows]), 3), float(r.alpha_)


def toy(kind: str, n_vertices=4096, dim=64, n_train=850, n_test=70, snr=0.5, seed=0):
    g = np.random.default_rng(seed)
    y = g.standard_normal((n_train + n_test, dim)).astype(np.float32)
    if kind == "per-vertex":
        a = np.zeros((dim, n_vertices), np.float32)
        carry = g.choice(n_vertices, n_vertices // 8, replace=False)
        a[:, carry] = g.standard_normal((dim, carry.size)) / np.sqrt(dim)
    else:  # one code per within-patch offset, shared by every 64-vertex patch, scaled per patch
        code = g.standard_normal((dim, 64)) / np.sqrt(dim)
        scale = g.standard_normal(n_vertices // 64)
        a = (code[:, None, :] * scale[None, :, None]).reshape(dim, n_vertices).astype(np.float32)
    x = snr * (y @ a) + g.standard_normal((n_train + n_test, n_vertices)).astype(np.float32)
    x = (x - x[:n_train].mean(0)) / x[:n_train].std(0)
    return x, y, np.arange(n_train), np.arange(n_train, n_train + n_test)


def emit(**row):
    print(json.dumps(row), flush=True)


def run_toys(long: bool):
    for kind in ("per-vertex", "shared-code"):
        x, y, train_rows, test_rows = toy(kind)
        fit_rows, val_rows = train_rows[:700], train_rows[700:]
        r1, alpha = ridge_r_at_1(x, y, train_rows, test_rows)
        emit(world=f"toy-{kind}", model="ridge", r_at_1=r1, alpha=alpha, chance=round(1 / len(test_rows), 3))
        torch.manual_seed(0)
        emit(world=f"toy-{kind}", model="linear", **fit(LinearMap(x.shape[1], y.shape[1]), x, y, fit_rows,
                                                         val_rows, test_rows))
        torch.manual_seed(0)
        emit(world=f"toy-{kind}", model="mindreader_cpu_default",
             **fit(MindReaderMapper(x.shape[1], y.shape[1], **CPU_DEFAULT), x, y, fit_rows, val_rows, test_rows))
        if long and kind == "per-vertex":  # optimisation or function class? small batches, long, no early stop
            torch.manual_seed(0)
            emit(world=f"toy-{kind}", model="mindreader_cpu_default", note="batch 16, lr 1e-3, 60 epochs, no stop",
                 **fit(MindReaderMapper(x.shape[1], y.shape[1], **CPU_DEFAULT), x, y, fit_rows, val_rows, test_rows,
                       epochs=60, patience=100, batch_size=16, lr=1e-3))


def morton_order(xyz: np.ndarray, bits: int = 10) -> np.ndarray:
    """Order of points along a Z-order curve: neighbours in the order are mostly neighbours in space."""
    q = ((xyz - xyz.min(0)) / np.ptp(xyz, 0) * (2**bits - 1)).astype(np.int64)
    code = np.zeros(len(xyz), np.int64)
    for i in range(bits):
        for a in range(3):
            code |= ((q[:, a] >> i) & 1) << (3 * i + a)
    return np.argsort(code, kind="stable")


def run_pipeline(results: str):
    from amodal import data, features
    from amodal.standardize import standardize_train
    from amodal.surface import load_mesh

    betas = data.read_store(f"{results}/preprocessed/sub-01_betas.zarr", "betas")
    feats = features.open_features(f"{results}/features/dualenc.zarr")
    sid, mod = betas["stimulus_id"].values.astype(str), betas["modality"].values.astype(str)
    split = betas["split"].values.astype(str)
    train_rows = np.flatnonzero((split == "train") & (mod == "image"))
    test_rows = np.flatnonzero((split == "test") & (mod == "image"))
    x = standardize_train(betas["betas"].values, train_rows, dtype=np.float32)
    where = {s: i for i, s in enumerate(feats["stimulus"].values.astype(str))}
    y = feats["vision"].values[[where[s] for s in sid]].astype(np.float32)
    hemi, index = betas["hemi"].values.astype(str), betas["vertex_index"].values
    sphere = load_mesh("fsaverage5", "sphere")
    order = np.concatenate([np.flatnonzero(hemi == h)[morton_order(sphere[h].coords[index[hemi == h]])]
                            for h in np.unique(hemi)])
    perm = np.random.default_rng(0).permutation(train_rows.size)
    val_rows, fit_rows = train_rows[perm[:len(train_rows) * 15 // 100]], train_rows[perm[len(train_rows) * 15 // 100:]]
    world = "pipeline sub-01 images"
    r1, alpha = ridge_r_at_1(x, y, train_rows, test_rows)
    emit(world=world, model="ridge", r_at_1=r1, alpha=alpha, chance=round(1 / len(test_rows), 3),
         n_train=int(train_rows.size), n_vertices=int(x.shape[1]))
    torch.manual_seed(0)
    emit(world=world, model="linear", **fit(LinearMap(x.shape[1], y.shape[1]), x, y, fit_rows, val_rows, test_rows))
    for name, xx in (("store order", x), ("spatial order", x[:, order])):
        for arch in (CPU_DEFAULT, {**CPU_DEFAULT, "stem_kernel": 8, "stem_stride": 8}):
            torch.manual_seed(0)
            emit(world=world, model="mindreader", vertex_order=name, architecture=arch,
                 **fit(MindReaderMapper(x.shape[1], y.shape[1], **arch), xx, y, fit_rows, val_rows, test_rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", help="a finished main job's results folder (its own stores)")
    ap.add_argument("--long", action="store_true", help="add the 60-epoch small-batch fit (about 20 s)")
    args = ap.parse_args()
    run_toys(args.long)
    if args.results:
        run_pipeline(args.results)


if __name__ == "__main__":
    main()
