"""Contrastive decoders (BrainCLIP, Mind Reader): losses, networks, training loop and the science checks of
issue 13 on planted latent data (``shared/notes/other-seeds.md`` §1.7)."""

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from amodal import metrics
from amodal.models import (ContrastiveDecoder, LinearMap, MindReaderMapper, TrainSettings, clamp_normalize,
                           info_nce, train, validation_split)

QUICK = TrainSettings(lr=3e-3, weight_decay=1e-2, batch_size=64, max_epochs=40, patience=5)


def planted(n_stim=300, n_vox=300, d_shared=8, d_text_only=0, noise=1.0, seed=0, outlier=None):
    """Latent z → voxels (x = z W + noise); image target = z_shared A, text target = z B (B also reads the
    text-only dimensions). Returns x, image targets, text targets, stimulus ids; rows = stimuli."""
    g = np.random.default_rng(seed)
    z = g.standard_normal((n_stim, d_shared + d_text_only))
    w = g.standard_normal((z.shape[1], n_vox))
    x = z @ w + noise * math.sqrt(z.shape[1]) * g.standard_normal((n_stim, n_vox))
    a = g.standard_normal((d_shared, 32))
    b = g.standard_normal((z.shape[1], 32))
    y_img = z[:, :d_shared] @ a
    y_txt = z @ b
    if outlier is not None:  # a fixed-index outlier dimension, unrelated to the brain (as CLIP's)
        y_img[:, outlier] = 30.0 + 5.0 * g.standard_normal(n_stim)
    x = (x - x.mean(0)) / x.std(0)
    return x.astype(np.float32), y_img, y_txt, np.array([f"s{i:04d}" for i in range(n_stim)])


def recall_at(pred, cand, k):
    sim = F.normalize(torch.as_tensor(pred, dtype=torch.float64), dim=1) @ F.normalize(
        torch.as_tensor(cand, dtype=torch.float64), dim=1).T
    rank = (sim >= sim.diagonal()[:, None]).sum(1)
    return float((rank <= k).double().mean())


def fit(kind, target, x, y_img, y_txt, ids, settings=(QUICK,), **kw):
    return ContrastiveDecoder(kind, target, list(settings), 0.15, 3, ("test", kind, target), **kw).fit(
        x, y_img, y_txt, ids)


# --------------------------------------------------------------------------------------------------------------
# losses


def test_info_nce_of_independent_embeddings_is_log_n():
    g = torch.Generator().manual_seed(0)
    for n in (64, 256):
        a, b = torch.randn(n, 512, generator=g), torch.randn(n, 512, generator=g)
        # random unit vectors in 512-d have cosine ~ N(0, 1/512): with tau = 1 the softmax is nearly uniform
        assert info_nce(a, b, tau=1.0).item() == pytest.approx(math.log(n), rel=0.01)


def test_info_nce_of_aligned_embeddings_goes_to_zero():
    a = torch.eye(32)
    assert info_nce(a, a.clone(), tau=0.01).item() < 1e-6


def test_symmetric_info_nce_is_the_mean_of_row_and_column_cross_entropy():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(40, 16, generator=g), torch.randn(40, 16, generator=g)
    tau = 0.3
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / tau
    labels = torch.arange(40)
    rows, cols = F.cross_entropy(logits, labels), F.cross_entropy(logits.T, labels)
    assert torch.allclose(info_nce(a, b, tau), 0.5 * (rows + cols), atol=1e-6)
    assert torch.allclose(info_nce(a, b, tau, row_weight=1.0), rows, atol=1e-6)
    assert torch.allclose(info_nce(a, b, tau, row_weight=0.0), cols, atol=1e-6)


def test_info_nce_leaves_repeats_of_a_stimulus_out_of_the_negatives():
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(6, 8, generator=g), torch.randn(6, 8, generator=g)
    ids = np.array(["x", "y", "x", "z", "w", "v"])  # rows 0 and 2 are two trials of one stimulus
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T
    keep = [0, 1, 3, 4, 5]  # row 0's candidates without row 2
    expected = -(logits[0, 0] - torch.logsumexp(logits[0, keep], 0))
    row_terms = []
    for i in range(6):
        mask = [j for j in range(6) if j == i or ids[j] != ids[i]]
        row_terms.append(-(logits[i, i] - torch.logsumexp(logits[i, mask], 0)))
    assert torch.allclose(row_terms[0], expected)
    assert torch.allclose(info_nce(a, b, 1.0, row_weight=1.0, ids=ids), torch.stack(row_terms).mean(), atol=1e-6)


def test_clamp_normalize_clips_then_normalises():
    y = torch.tensor([[3.0, -4.0, 0.5]])
    out = clamp_normalize(y, 1.5)
    assert torch.allclose(out, F.normalize(torch.tensor([[1.5, -1.5, 0.5]]), dim=1))
    assert torch.allclose(clamp_normalize(y, None), F.normalize(y, dim=1))


# --------------------------------------------------------------------------------------------------------------
# networks


def test_mindreader_at_the_papers_size_has_the_papers_parameter_count():
    m = MindReaderMapper(20000, 512)  # hidden 64, 4 blocks, fc 128, stem k4 s2: 1.43 M (other-seeds.md §2.2)
    assert sum(p.numel() for p in m.parameters()) == 1_429_313
    assert m(torch.randn(2, 20000)).shape == (2, 512)


def test_mindreader_stem_is_the_papers_conv1d():
    m = MindReaderMapper(50, 8, hidden=4, n_blocks=0, fc_hidden=3)
    conv = torch.nn.Conv1d(1, 4, 4, stride=2, padding=1)
    with torch.no_grad():
        m.stem.weight.copy_(conv.weight[:, 0, :])
        m.stem.bias.copy_(conv.bias)
    x = torch.randn(3, 50)
    ours = m.stem(F.pad(x, (1, 1)).unfold(1, 4, 2)).transpose(1, 2)
    assert torch.allclose(ours, conv(x[:, None, :]), atol=1e-6)


# --------------------------------------------------------------------------------------------------------------
# the validation split and the training loop


def test_validation_split_is_by_stimulus_and_never_holds_test_stimuli():
    # trials: train stimuli seen as image and caption (two rows each), test stimuli apart
    train_ids = np.repeat([f"tr{i}" for i in range(50)], 2)
    test_ids = {f"te{i}" for i in range(10)}
    val = validation_split(train_ids, 0.2, 0, "sub-01")
    assert val.sum() == 20  # 10 stimuli x 2 rows
    assert not set(train_ids[val]) & set(train_ids[~val])
    assert not set(train_ids[val]) & test_ids
    x, y_img, y_txt, ids = planted(n_stim=120, n_vox=40)
    ids = np.concatenate([ids, ids])  # every stimulus twice (image and caption trials)
    dec = fit("brainclip_linear", "V", np.concatenate([x, x]), np.concatenate([y_img, y_img]),
              np.concatenate([y_txt, y_txt]), ids, [TrainSettings(max_epochs=2)])
    used = set(ids) - set(dec.val_stimuli_)
    assert dec.val_stimuli_.size == 18 and not set(dec.val_stimuli_) & used


def test_checkpoint_resume_gives_the_uninterrupted_result(tmp_path):
    x, y_img, _, ids = planted(n_stim=200, n_vox=60)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y_img, dtype=torch.float32)
    s = TrainSettings(max_epochs=6, patience=10, batch_size=32)

    def run(ckpt, stop_at=None):
        torch.manual_seed(0)
        m = LinearMap(60, 32)

        def on_epoch(epoch):
            if epoch == stop_at:
                raise KeyboardInterrupt  # the job is killed after this epoch's checkpoint
        out = train(m, xt[:160], [yt[:160]], ids[:160], xt[160:], [yt[160:]], ids[160:], s, 5, ckpt,
                    on_epoch=on_epoch)
        return m, out

    whole, info = run(None)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "c.pt", stop_at=3)
    torch.manual_seed(123)  # a different process state: resuming must not depend on it
    resumed, info2 = run(tmp_path / "c.pt")
    assert info2["epochs_run"] == info["epochs_run"] == 6
    assert [h["val_loss"] for h in info2["history"]] == [h["val_loss"] for h in info["history"]]
    for a, b in zip(whole.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


def test_min_delta_stops_when_validation_gains_are_small():
    """An epoch counts as better only when it beats the best validation loss by more than ``min_delta`` of it
    (relative): with a bar no epoch can clear, training stops after the first epoch plus ``patience``."""
    x, y_img, _, ids = planted(n_stim=200, n_vox=60)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y_img, dtype=torch.float32)

    def run(min_delta):
        torch.manual_seed(0)
        s = TrainSettings(max_epochs=20, patience=2, batch_size=32, lr=3e-3, min_delta=min_delta)
        return train(LinearMap(60, 32), xt[:160], [yt[:160]], ids[:160], xt[160:], [yt[160:]], ids[160:], s, 5)

    free, strict = run(0.0), run(0.9)
    assert strict["best_epoch"] == 1 and strict["epochs_run"] == 3
    assert free["epochs_run"] > 3 and free["best_epoch"] > 1


def test_results_are_identical_at_one_and_two_threads():
    code = textwrap.dedent("""
        import sys, hashlib, numpy as np, torch
        torch.set_num_threads(int(sys.argv[1]))
        sys.path.insert(0, sys.argv[2])
        from test_contrastive import planted, fit, TrainSettings
        x, yi, yt, ids = planted(n_stim=200, n_vox=300)
        s = TrainSettings(max_epochs=3, batch_size=32)
        out = []
        for kind in ("brainclip_linear", "brainclip_vae", "mindreader"):
            arch = {"hidden": 4, "n_blocks": 1, "fc_hidden": 8, "stem_kernel": 8, "stem_stride": 8,
                    "latent": 8, "pretrain_epochs": 2}
            d = fit(kind, "V", x, yi, yt, ids, [s], architecture=arch, pretrain_embeddings=yi)
            out.append(d.predict(x).numpy().tobytes())
        print(hashlib.sha256(b"".join(out)).hexdigest())
    """)
    here = str(__import__("pathlib").Path(__file__).parent)
    hashes = [subprocess.run([sys.executable, "-c", code, str(n), here], capture_output=True, text=True,
                             check=True).stdout.strip() for n in (1, 2)]
    assert hashes[0] and hashes[0] == hashes[1]


# --------------------------------------------------------------------------------------------------------------
# science checks on planted data


def _split(x, y_img, y_txt, ids, n_test):
    return (x[:-n_test], y_img[:-n_test], y_txt[:-n_test], ids[:-n_test]), (x[-n_test:], y_img[-n_test:],
                                                                            y_txt[-n_test:])


def test_planted_signal_gives_recall_far_above_chance_and_shuffled_labels_sit_at_chance():
    x, y_img, y_txt, ids = planted(n_stim=700, n_vox=300, noise=1.0)
    (xr, yi, yt, idr), (xe, yie, _) = _split(x, y_img, y_txt, ids, 200)
    dec = fit("brainclip_linear", "V", xr, yi, yt, idr)
    pred = dec.predict(xe).numpy()
    assert recall_at(pred, yie, 1) > 20 / 200  # chance 1/200
    # label-shuffled control: every train stimulus gets another stimulus's targets
    perm = np.random.default_rng(5).permutation(len(yi))
    shuffled = fit("brainclip_linear", "V", xr, yi[perm], yt[perm], idr).predict(xe).numpy()
    for k in (1, 10, 50):
        # binomial SD of recall@k over 200 queries: sqrt(p(1-p)/200) <= 0.035
        assert abs(recall_at(shuffled, yie, k) - k / 200) < 0.035 + 1e-9
    ranks = metrics.retrieval_ranks(torch.as_tensor(shuffled), torch.as_tensor(yie, dtype=torch.float32), False,
                                    np.arange(200))
    assert metrics.mean_recall(ranks) < 16 / (3 * 200) + 0.03


def test_vt_beats_v_on_fmri_to_text_when_text_carries_its_own_latents():
    x, y_img, y_txt, ids = planted(n_stim=700, n_vox=300, d_shared=6, d_text_only=6, noise=0.7, seed=3)
    (xr, yi, yt, idr), (xe, _, yte) = _split(x, y_img, y_txt, ids, 200)
    v = fit("brainclip_linear", "V", xr, yi, yt, idr).predict(xe).numpy()
    vt = fit("brainclip_linear", "VT", xr, yi, yt, idr,
             [TrainSettings(**{**QUICK.__dict__, "image_weight": 0.5, "text_weight": 0.5})]).predict(xe).numpy()
    assert recall_at(vt, yte, 5) > recall_at(v, yte, 5) + 0.1


def test_clamping_removes_a_fixed_index_outlier_dimension():
    arch = {"hidden": 8, "n_blocks": 1, "fc_hidden": 16, "stem_kernel": 10, "stem_stride": 10}
    s = [TrainSettings(lr=3e-3, batch_size=64, max_epochs=60, patience=8)]

    def r1(outlier, clamp):
        x, y_img, y_txt, ids = planted(n_stim=600, n_vox=300, noise=0.7, seed=4, outlier=outlier)
        (xr, yi, yt, idr), (xe, yie, _) = _split(x, y_img, y_txt, ids, 150)
        dec = fit("mindreader", "V", xr, yi, yt, idr, s, architecture={**arch, "clamp": clamp})
        cand = clamp_normalize(torch.as_tensor(yie, dtype=torch.float32), clamp)
        return recall_at(dec.predict(xe).numpy(), cand.numpy(), 1)

    clean, clamped, raw = r1(None, 1.5), r1(3, 1.5), r1(3, None)
    assert clean > 10 / 150
    assert abs(clamped - clean) < 0.1
    assert raw < clamped - 0.1


def test_agnostic_beats_specific_in_cross_modal_retrieval():
    # image trials carry the stimulus's shared latents and image-only latents; caption trials the shared latents
    # and caption-only latents. Targets (aligned space) read the shared latents.
    g = np.random.default_rng(7)
    n, n_vox, d = 600, 300, 8
    z = g.standard_normal((n, d))
    w_shared, w_img, w_cap = (g.standard_normal((d, n_vox)) for _ in range(3))
    ai, ac = g.standard_normal((n, d)), g.standard_normal((n, d))
    target = z @ g.standard_normal((d, 32))
    x_img = z @ w_shared + 3 * ai @ w_img + 12 * g.standard_normal((n, n_vox))
    x_cap = z @ w_shared + 3 * ac @ w_cap + 12 * g.standard_normal((n, n_vox))
    ids = np.array([f"s{i}" for i in range(n)])
    tr, te = slice(0, 450), slice(450, n)
    std = lambda a: ((a - a[tr].mean(0)) / a[tr].std(0)).astype(np.float32)  # noqa: E731
    x_img, x_cap = std(x_img), std(x_cap)
    images = fit("brainclip_linear", "V", x_img[tr], target[tr], target[tr], ids[tr])
    agnostic = fit("brainclip_linear", "V", np.concatenate([x_img[tr], x_cap[tr]]),
                   np.concatenate([target[tr], target[tr]]), np.concatenate([target[tr], target[tr]]),
                   np.concatenate([ids[tr], ids[tr]]))
    cross_specific = recall_at(images.predict(x_cap[te]).numpy(), target[te], 5)
    cross_agnostic = recall_at(agnostic.predict(x_cap[te]).numpy(), target[te], 5)
    assert cross_agnostic > cross_specific + 0.05


def test_a_checkpoint_of_other_settings_is_not_resumed(tmp_path):
    x, y_img, _, ids = planted(n_stim=100, n_vox=30)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y_img, dtype=torch.float32)
    ckpt = tmp_path / "c.pt"
    torch.manual_seed(0)
    train(LinearMap(30, 32), xt[:80], [yt[:80]], ids[:80], xt[80:], [yt[80:]], ids[80:],
          TrainSettings(max_epochs=2, batch_size=16, lr=0.1), 5, ckpt)
    lines = []
    torch.manual_seed(0)
    out = train(LinearMap(30, 32), xt[:80], [yt[:80]], ids[:80], xt[80:], [yt[80:]], ids[80:],
                TrainSettings(max_epochs=3, batch_size=16, lr=0.01), 5, ckpt, log=lines.append)
    assert "starting afresh" in lines[0] and out["epochs_run"] == 3
