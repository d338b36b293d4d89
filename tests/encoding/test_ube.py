"""The Universal Brain Encoder on brains planted in its own feature space: each vertex type reads one patch of one
layer through its own weights. Checks: the loss at a perfect prediction, subjects of any size, attention that finds
the planted patch and vertex embeddings whose k-means finds the vertex types, joint training that beats
single-subject training when subjects saw different images, transfer that beats training from scratch on few
images, a killed run that resumes where it stopped, and the forward pass against the paper's formula."""
import pytest
import torch
import xarray as xr

from amodal.encoding import UniversalBrainEncoder, train_ube, ube_loss, ube_predict, ube_study
from amodal.metrics import pearson_r

L, P, C, TYPES = 2, 10, 6, 4  # layers, tokens (image-wide + 3x3 patches), channels, vertex types


def world(seed=0, n_stimuli=900):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randn(n_stimuli, L, P, C, generator=g)
    layer = torch.arange(TYPES) % L
    patch = 1 + torch.randperm(P - 1, generator=g)[:TYPES]
    weights = torch.randn(TYPES, C, generator=g)
    return tokens, layer, patch, weights


def brain(tokens, layer, patch, weights, images, n_vertices, seed, noise=0.3):
    g = torch.Generator().manual_seed(seed)
    vtype = torch.arange(n_vertices) % TYPES
    gain = 0.5 + torch.rand(n_vertices, generator=g)
    drive = torch.einsum("nvc,vc->nv", tokens[images][:, layer[vtype], patch[vtype]], weights[vtype])
    y = gain * drive + noise * torch.randn(len(images), n_vertices, generator=g)
    return (y - y.mean(0)) / y.std(0), vtype


def small_model(n_vertices, seed=0, dropout=0.0):
    torch.manual_seed(seed)
    return UniversalBrainEncoder(L, P, C, n_vertices, channels=16, embedding=16, dropout=dropout)


FIT = dict(batch_images=16, n_sampled=64, lr=3e-3, log=lambda *a: None)


def test_loss_is_minus_the_cosine_weight_at_a_perfect_prediction():
    y = torch.randn(4, 50)
    assert torch.isclose(ube_loss(y, y), torch.tensor(-0.1), atol=1e-6)
    assert ube_loss(torch.randn(4, 50), y) > 0.5


def test_one_network_serves_subjects_of_any_size():
    model = small_model({"a": 30, "b": 55})
    x = torch.randn(3, L, P, C)
    assert model(x, "a", torch.tensor([0, 29])).shape == (3, 2)
    assert model(x, "b", torch.randint(0, 55, (3, 7))).shape == (3, 7)
    attn, _ = model.attention(x, "b", torch.arange(5))
    torch.testing.assert_close(attn.sum(-1), torch.ones(3, 5, L))
    with pytest.raises(IndexError):
        model(x, "a", torch.tensor([30]))


def test_attention_peaks_at_the_planted_patch_and_predicts_held_out_images():
    tokens, layer, patch, weights = world()
    train_img, test_img = torch.arange(0, 700), torch.arange(800, 900)
    y, vtype = brain(tokens, layer, patch, weights, torch.cat([train_img, test_img]), 40, seed=1)
    model = small_model({"s": 40})
    out = train_ube(model, tokens, {"s": (train_img, y[:700])}, {"s": (test_img, y[700:])}, epochs=10, seed=2, **FIT)
    r = pearson_r(ube_predict(model, tokens[test_img], "s", 40), y[700:])
    assert out["best_score"] > 0.7 and float(r.median()) > 0.7, out["history"][-1]  # the noise ceiling is ~0.99
    with torch.no_grad():
        attn, _ = model.attention(tokens[test_img], "s", torch.arange(40))
    peak = attn.mean(0).argmax(-1)  # (vertex, layer): the most attended token
    hits = (peak[torch.arange(40), layer[vtype]] == patch[vtype]).float().mean()
    assert hits >= 0.7, peak  # chance: 1 in 10 tokens
    # The learned vertex embeddings are functional: k-means on them finds the 4 planted vertex types. Chance ARI is
    # about 0 (test_ube_study: |ARI| < 0.1 on random embeddings); 0.8 leaves room for 2-3 of the 40 vertices in the
    # wrong cluster (k-means gave 1.0 on three seeds of this world).
    emb = xr.Dataset({"embedding": (("vertex", "dim"), model.vertex_embeddings["s"].detach().numpy()),
                      "region_type": ("vertex", [f"type{t}" for t in vtype.tolist()])})
    _, agreement = ube_study.embedding_clusters([emb], TYPES, seed=1)
    assert agreement["ari_all_types"] >= 0.8, agreement


def _subjects(n, per_subject, n_vertices=(40, 48, 36, 44)):
    tokens, layer, patch, weights = world()
    test_img = torch.arange(800, 900)
    data = {}
    for k in range(n):
        imgs = torch.arange(k * per_subject, (k + 1) * per_subject)  # disjoint train images
        y, _ = brain(tokens, layer, patch, weights, torch.cat([imgs, test_img]), n_vertices[k], seed=10 + k)
        data[f"s{k}"] = ((imgs, y[:per_subject]), (test_img, y[per_subject:]))
    return tokens, data


def test_joint_training_beats_single_subject_training_on_different_images():
    tokens, data = _subjects(4, 60)
    sizes = {s: d[0][1].shape[1] for s, d in data.items()}
    single = small_model({"s0": sizes["s0"]})
    train_ube(single, tokens, {"s0": data["s0"][0]}, {"s0": data["s0"][1]}, epochs=12, seed=3, **FIT)
    joint = small_model(sizes)
    train_ube(joint, tokens, {s: d[0] for s, d in data.items()}, {s: d[1] for s, d in data.items()}, epochs=12,
              seed=3, **FIT)
    test_img, y = data["s0"][1]
    r_single = pearson_r(ube_predict(single, tokens[test_img], "s0", sizes["s0"]), y).median()
    r_joint = pearson_r(ube_predict(joint, tokens[test_img], "s0", sizes["s0"]), y).median()
    assert r_joint > r_single + 0.05, (float(r_joint), float(r_single))


def test_transfer_to_a_new_subject_beats_training_from_scratch_on_few_images():
    tokens, data = _subjects(4, 100)
    base = {s: data[s] for s in ("s0", "s1", "s2")}
    model = small_model({s: d[0][1].shape[1] for s, d in base.items()})
    train_ube(model, tokens, {s: d[0] for s, d in base.items()}, {s: d[1] for s, d in base.items()}, epochs=12,
              seed=4, **FIT)
    (imgs, y), (test_img, y_test) = data["s3"]
    few = (imgs[:20], y[:20])
    nv = y.shape[1]
    model.add_subject("s3", nv)
    for p in model.parameters():
        p.requires_grad_(False)
    model.vertex_embeddings["s3"].requires_grad_(True)
    train_ube(model, tokens, {"s3": few}, {"s3": (test_img, y_test)}, epochs=25, seed=5,
              parameters=[model.vertex_embeddings["s3"]], **FIT)
    scratch = small_model({"s3": nv})
    train_ube(scratch, tokens, {"s3": few}, {"s3": (test_img, y_test)}, epochs=25, seed=5, **FIT)
    r_transfer = pearson_r(ube_predict(model, tokens[test_img], "s3", nv), y_test).median()
    r_scratch = pearson_r(ube_predict(scratch, tokens[test_img], "s3", nv), y_test).median()
    assert r_transfer > r_scratch + 0.1, (float(r_transfer), float(r_scratch))


def test_a_killed_run_resumes_where_it_stopped(tmp_path):
    tokens, data = _subjects(1, 60)
    train, val = {"s0": data["s0"][0]}, {"s0": data["s0"][1]}
    full = small_model({"s0": 40})
    h_full = train_ube(full, tokens, train, val, epochs=4, seed=6, **FIT)["history"]
    part = small_model({"s0": 40})
    ckpt = tmp_path / "ckpt.pt"
    train_ube(part, tokens, train, val, epochs=2, seed=6, checkpoint=ckpt, **FIT)
    resumed = small_model({"s0": 40}, seed=99)  # a fresh process: other initial weights, loaded from the file
    h_resumed = train_ube(resumed, tokens, train, val, epochs=4, seed=6, checkpoint=ckpt, **FIT)["history"]
    assert [h["val_r75"] for h in h_resumed] == pytest.approx([h["val_r75"] for h in h_full], abs=1e-6)
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_prediction_of_chosen_vertices_equals_those_columns_of_the_full_prediction():
    model = small_model({"s": 50})
    x = torch.randn(7, L, P, C)
    pick = torch.tensor([3, 17, 49, 0])
    full = ube_predict(model, x, "s", 50, batch_images=3, batch_vertices=8)
    torch.testing.assert_close(ube_predict(model, x, "s", 50, batch_vertices=3, vertices=pick), full[:, pick])


def test_forward_is_the_papers_formula_vertex_by_vertex():
    """The batched forward against the model written out for one image and one vertex at a time (paper §3.2)."""
    model = small_model({"s": 9}, seed=3).eval()  # eval: no dropout
    with torch.no_grad():
        model.pos.normal_()  # the positional term is 0.02-small at init: make it matter
        x = torch.randn(4, L, P, C)
        verts = torch.tensor([[0, 8, 3], [5, 5, 1], [2, 7, 6], [4, 0, 8]])
        expected = torch.zeros(verts.shape)
        for b in range(4):
            for j, v in enumerate(verts[b].tolist()):
                e = model.vertex_embeddings["s"][v]
                w = (e @ model.readout).view(L, -1)
                for k in range(L):
                    xl = model.project[k](x[b, k])  # (P, C)
                    keys = model.key[k](xl) + model.pos  # (P, E)
                    a = torch.softmax(keys @ model.query[k](e), 0) @ xl  # (C,)
                    a = a + model.mlp[k](model.mlp_norm[k](a))
                    expected[b, j] += a @ w[k]
        torch.testing.assert_close(model(x, "s", verts), expected, rtol=1e-5, atol=1e-6)
