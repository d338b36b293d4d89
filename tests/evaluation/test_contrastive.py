"""Scoring of the contrastive decoders: retrieval, Mind Reader's batch retrieval, zero-shot classification, and
one job's table on a small synthetic dataset."""

import copy
from math import comb

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from amodal import data, evaluation, features
from amodal.errors import DataError

from ..conftest import DEFAULT


def test_retrieval_metrics_match_a_brute_force_ranking():
    g = torch.Generator().manual_seed(0)
    pred, cand = torch.randn(20, 6, generator=g, dtype=torch.float64), torch.randn(15, 6, generator=g,
                                                                                   dtype=torch.float64)
    target = np.arange(20) % 15
    out = evaluation.retrieval_metrics(pred, cand, target, (1, 5))
    sim = F.normalize(pred, dim=1) @ F.normalize(cand, dim=1).T
    for i in range(20):
        rank = 1 + int((sim[i] > sim[i, target[i]]).sum())
        assert out["rank"][i] == rank
        assert out["recall@5"][i] == (rank <= 5)
        assert out["mean_recall"][i] == pytest.approx(((rank <= 1) + (rank <= 5)) / 2)
    assert (out["n_candidates"] == 15).all()


def test_batch_retrieval_counts_another_trial_of_the_same_stimulus_as_a_hit():
    t = torch.eye(4, dtype=torch.float64)
    ids = np.array(["a", "a", "b", "c"])
    # trial 0 predicts trial 1's target (the same stimulus): a hit; trial 3 predicts b's: a miss
    pred = torch.stack([t[1], t[1], t[2], t[2]])
    fwd, bwd = evaluation.batch_retrieval(pred, t, ids, batch_size=300)
    assert fwd.tolist() == [1, 1, 1, 0]
    # backward: target 3 (c) is nearest to prediction 2 or 3 (both b-like; ties go to the first): a miss
    assert bwd[0] == 1 and bwd[1] == 1 and bwd[3] == 0


def test_batch_retrieval_cuts_batches():
    g = torch.Generator().manual_seed(1)
    t = torch.randn(10, 8, generator=g, dtype=torch.float64)
    ids = np.array([f"s{i}" for i in range(10)])
    # the perfect decoder hits in any batch; a batch of 1 makes every trial a hit
    assert evaluation.batch_retrieval(t, t, ids, 3)[0].sum() == 10
    noise = torch.randn(10, 8, generator=g, dtype=torch.float64)
    assert evaluation.batch_retrieval(noise, t, ids, 1)[0].sum() == 10
    assert evaluation.batch_retrieval(noise, t, ids, 10)[0].sum() < 10


def test_zero_shot_hits_and_chance():
    cls = torch.eye(8, dtype=torch.float64)
    pred = torch.stack([cls[2], cls[5] + 0.1 * cls[1]])
    out = evaluation.zero_shot(pred, cls, [{2, 7}, {1}], ks=(1, 5))
    assert out["zeroshot_top1"].tolist() == [1.0, 0.0]
    assert out["zeroshot_top5"].tolist() == [1.0, 1.0]
    assert out["zeroshot_top1_chance"].tolist() == pytest.approx([2 / 8, 1 / 8])
    assert out["zeroshot_top5_chance"][0] == pytest.approx(1 - comb(6, 5) / comb(8, 5))


@pytest.fixture(scope="module")
def small_job(small_dataset):
    stim = data.read_stimuli(small_dataset)
    quiet = dict(device="cpu", log=lambda *a: None)
    defs = {"dualenc": {"backend": "dual_encoder", "default_set": "avg", "n_scenes": 600, "n_heldout": 100,
                        "epochs": 2}}
    feats = features.extract("dualenc", stim, small_dataset / "stimuli", defs, seed=3, **quiet)
    betas = data.preprocess_subject(small_dataset, "sub-01", "fsaverage5", log=lambda *a: None)
    labels = {s: set(c.split(";")) for s, c in zip(stim["id"], stim["categories"])}
    cfg = copy.deepcopy(DEFAULT["contrastive"])
    cfg.update(ridge_alphas=[1e2, 1e4], max_epochs=3)
    cfg["brainclip_linear"]["tau"] = [0.1]
    cfg["brainclip"]["vt_image_weight"] = [0.5]
    return feats, betas, labels, cfg


@pytest.mark.parametrize("family", ["ridge", "brainclip_linear"])
def test_one_job_writes_the_long_table(small_job, family):
    feats, betas, labels, cfg = small_job
    preds, table, info = evaluation.decode_contrastive(betas, feats, family, "agnostic", cfg, seed=1,
                                                       labels=labels, log=lambda *a: None)
    assert list(table.columns) == evaluation.CONTRASTIVE_KEYS + ["stimulus_id", "value"]
    variants = {"ridge": {"ridge_V", "ridge_T"},
                "brainclip_linear": {"brainclip_linear_V", "brainclip_linear_T", "brainclip_linear_VT"}}[family]
    assert set(table.decoder) == variants == set(info["variants"])
    test = table[table.eval_modality == "image"]
    assert set(test.feature_set) == {"vision", "lang", "classes"}
    n_test = betas["split"].values.tolist().count("test") // 2
    assert (test[test.metric == "n_candidates"].value == n_test).all()
    assert {"recall@1", "recall@10", "mean_recall", "forward_retrieval", "backward_retrieval", "pairwise_acc",
            "zeroshot_top1", "zeroshot_top5"} <= set(test.metric)
    assert set(table[table.eval_modality == "imagery"].metric) == {"pairwise_acc"}
    assert table.value.notna().all()
    assert {f"pred_{v}" for v in variants} <= set(preds.data_vars)


def test_a_store_without_an_aligned_space_is_refused(small_job, small_dataset):
    feats, betas, labels, cfg = small_job
    with pytest.raises(DataError, match="aligned image-text model"):
        evaluation.decode_contrastive(betas, feats[["vision"]], "ridge", "images", cfg, features_path="x.zarr")


def test_ridge_folds_keep_each_images_single_trials_together(small_job, monkeypatch):
    """With single train trials (NSD, `average_repeats: test`) a shuffled fold would validate on images it was fitted
    on, and choose too small a penalty; each image's trials go whole to one fold. An image and a caption trial of one
    stimulus are not repeats: the agnostic decoder keeps shuffled folds, as before."""
    from amodal.evaluation import _contrastive

    feats, betas, labels, cfg = small_job
    seen = []
    real = _contrastive.kfold
    monkeypatch.setattr(_contrastive, "kfold", lambda *a: seen.append(a[3]) or real(*a))
    evaluation.decode_contrastive(betas, feats, "ridge", "agnostic", cfg, seed=1, log=lambda *a: None)
    assert seen[-1] is None
    train = np.flatnonzero(betas["split"].values == "train")
    twice = betas.isel(trial=np.concatenate([np.arange(betas.sizes["trial"]), train]))  # every train trial repeated
    evaluation.decode_contrastive(twice, feats, "ridge", "images", cfg, seed=1, log=lambda *a: None)
    groups = seen[-1]
    assert groups is not None
    for _, val in real(groups.size, 5, 0, groups):
        assert not set(groups[val]) & set(np.delete(groups, val))
