"""The Universal Brain Encoder study on preprocessed stores: the data each run trains on, transfer that trains only
the new subject's embeddings, scores, and the k-means of the embeddings against the planted region types."""
import numpy as np
import pytest
import torch
import xarray as xr

from amodal import data
from amodal.encoding import UniversalBrainEncoder, ube_study
from amodal.errors import DataError


@pytest.fixture(scope="module")
def store(small_dataset):
    return data.preprocess_subject(small_dataset, "sub-01", "fsaverage5", log=lambda *a: None)


def test_subject_data_splits_train_images_into_fit_and_validation(store):
    stim_row = {s: i for i, s in enumerate(sorted(set(store["stimulus_id"].values.astype(str))))}
    d = ube_study.subject_data(store, stim_row, val_fraction=0.1, seed=3)
    split, modality = store["split"].values, store["modality"].values
    n_train = int(((split == "train") & (modality == "image")).sum())
    assert d["train"][0].numel() + d["val"][0].numel() == n_train
    assert d["val"][0].numel() == round(0.1 * n_train)
    assert not set(d["train"][0].tolist()) & set(d["val"][0].tolist())  # no image in both
    assert d["test"][0].numel() == int(((split == "test") & (modality == "image")).sum())
    # standardised with the train rows (fit and validation together): mean 0, SD 1 per vertex over them
    both = torch.cat([d["train"][1], d["val"][1]])
    assert float(both.mean(0).abs().max()) < 1e-4 and float((both.std(0, correction=0) - 1).abs().max()) < 1e-3
    again = ube_study.subject_data(store, stim_row, val_fraction=0.1, seed=3)
    assert torch.equal(again["val"][0], d["val"][0])  # seeded
    assert not torch.equal(ube_study.subject_data(store, stim_row, val_fraction=0.1, seed=4)["val"][0], d["val"][0])
    cut = ube_study.first_images(d, 7)
    assert torch.equal(cut["train"][0], d["train"][0][:7])
    with pytest.raises(DataError, match="transfer_n asks for"):
        ube_study.first_images(d, 10_000)


def test_a_stimulus_missing_from_the_patch_features_is_named(store):
    ids = sorted(set(store["stimulus_id"].values.astype(str)))
    image = store["stimulus_id"].values.astype(str)[store["modality"].values == "image"][0]
    with pytest.raises(DataError, match=r"patches\.zarr has no patch features for 1 stimuli.*delete the store"):
        ube_study.subject_data(store, {s: i for i, s in enumerate(ids) if s != image}, val_fraction=0.1, seed=0,
                               features_path="patches.zarr")
    with pytest.raises(DataError, match="needs a patch-feature model"):
        ube_study.patch_tokens(xr.Dataset({"vision": (("stimulus", "feature"), np.zeros((2, 3)))}), "x.zarr")


def test_transfer_trains_only_the_new_subjects_embeddings():
    torch.manual_seed(0)
    joint = UniversalBrainEncoder(2, 5, 4, {"a": 30}, channels=8, embedding=8)
    tokens = torch.randn(40, 2, 5, 4)
    y = torch.randn(40, 25)
    model, params = ube_study.for_transfer(joint, "b", 25)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    d = {"b": {"train": (torch.arange(30), y[:30]), "val": (torch.arange(30, 40), y[30:])}}
    cfg, size = {"epochs": 2, "lr": 1e-2, "patience": 2}, {"batch_images": 8, "n_sampled": 16, "val_vertices": None}
    ube_study.fit(model, tokens, d, cfg, size, seed=0, key="t", parameters=params, log=lambda *a: None)
    after = model.state_dict()
    changed = {k for k in after if not torch.equal(after[k], before[k])}
    assert changed == {"vertex_embeddings.b"}
    assert "b" not in joint.vertex_embeddings  # the joint network is left as it was


def test_embedding_clusters_separate_planted_groups_and_not_noise():
    g = np.random.default_rng(0)
    types = np.array(["visual"] * 60 + ["invariant"] * 60 + ["background"] * 80, dtype=object)
    centres = {"visual": np.eye(8)[0] * 3, "invariant": np.eye(8)[1] * 3, "background": np.zeros(8)}

    def store(emb, sel=slice(None)):
        return xr.Dataset({"embedding": (("vertex", "dim"), emb[sel]),
                           "region_type": ("vertex", types[sel].astype(str))})

    planted = np.stack([centres[t] for t in types]) + g.normal(0, 0.5, (types.size, 8))
    halves = g.permutation(types.size)
    labels, agree = ube_study.embedding_clusters([store(planted, halves[:100]), store(planted, halves[100:])], 3,
                                                 seed=1)
    assert [x.size for x in labels] == [100, 100]
    assert agree["ari_visual_invariant"] > 0.95 and agree["n_visual_invariant"] == 120
    _, noise = ube_study.embedding_clusters([store(g.normal(size=(types.size, 8)))], 3, seed=1)
    assert abs(noise["ari_visual_invariant"]) < 0.1 and abs(noise["ari_all_types"]) < 0.1
    cortex = xr.Dataset({"embedding": (("vertex", "dim"), planted), "region_type": ("vertex", ["cortex"] * 200)})
    _, real = ube_study.embedding_clusters([cortex], 3, seed=1)
    assert np.isnan(real["ari_all_types"]) and np.isnan(real["ari_visual_invariant"])


def test_evaluate_scores_a_perfect_and_a_useless_encoder(store, small_dataset):
    """A network whose prediction is the measured response gives r = 1 and retrieval rank 1; the untrained network
    is near chance."""
    stim_row = {s: i for i, s in enumerate(sorted(set(store["stimulus_id"].values.astype(str))))}
    d = ube_study.subject_data(store, stim_row, val_fraction=0.1, seed=0)
    n = d["n_vertices"]
    tokens = torch.randn(len(stim_row), 2, 5, 4)
    torch.manual_seed(0)
    model = UniversalBrainEncoder(2, 5, 4, {"sub-01": n}, channels=8, embedding=8)
    regions = data.read_planted(data.planted_json(small_dataset))["subjects"]["sub-01"]
    ds, table, retrieval = ube_study.evaluate(model, tokens, "sub-01", d, "joint", regions)
    assert ds.sizes["vertex"] == n and ds["embedding"].shape == (n, 8)
    assert list(table["region_type"]) == ["all", "background", "invariant", "language", "visual"]
    assert table["n_vertices"].iloc[1:].sum() == n
    assert set(ds["region_type"].values) == set(table["region_type"][1:])
    assert abs(float(np.median(ds["r"].values))) < 0.1 and retrieval["mean_rank"] > 3

    class Oracle(torch.nn.Module):  # returns the measured test response of each image
        def forward(self, tok, subject, vertices):
            rows = [int(torch.nonzero((tokens == t).all(-1).all(-1).all(-1))[0]) for t in tok]
            lookup = {int(i): k for k, i in enumerate(d["test"][0])}
            out = torch.stack([d["test"][1][lookup[r]] if r in lookup else torch.zeros(n) for r in rows])
            return out[:, vertices] if vertices.dim() == 1 else torch.gather(out, 1, vertices)

    oracle = Oracle()
    oracle.readout = model.readout
    oracle.vertex_embeddings = model.vertex_embeddings
    ds, _, retrieval = ube_study.evaluate(oracle, tokens, "sub-01", {**d, "val": d["test"]}, "oracle")
    assert np.allclose(ds["r"].values, 1, atol=1e-5) and retrieval["top1"] == 1.0 and retrieval["mean_rank"] == 1
