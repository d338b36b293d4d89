"""The same numbers on every device: each stage that runs in torch gives, on the device under test, what it gives on
the CPU, within float32 tolerance. The device is `--device` (default ``cuda``; these tests skip where there is no
CUDA device). ``bench/gpu_check.py`` runs them first; with ``--device cpu`` they run the same code path on the CPU
(the comparison is then the CPU with itself: it shows the check works end to end, not that CUDA agrees)."""
import copy

import numpy as np
import pytest
import torch

from amodal import data, evaluation, features, searchlight
from amodal.surface import load_mesh

from .conftest import DEFAULT

pytestmark = pytest.mark.device


@pytest.fixture(scope="module")
def device(request):
    name = request.config.getoption("--device")
    if name.startswith("cuda") and not torch.cuda.is_available():
        pytest.skip("no CUDA device here (bench/gpu_check.py --device cpu runs these on the CPU)")
    return name


@pytest.fixture(scope="module")
def inputs(device, small_dataset):  # device first: no data is made where the tests skip
    b = data.preprocess_subject(small_dataset, "sub-01", "fsaverage5", log=lambda *a: None)
    f = features.extract("minilm", data.read_stimuli(small_dataset), small_dataset / "stimuli", log=lambda *a: None)
    return b, f


def test_searchlight_scores_and_nulls_agree(inputs, device):
    b, f = inputs
    coords = load_mesh("fsaverage5", "inflated")["left"].coords
    kw = dict(n_neighbors=30, n_perm=10, seed=3, dtype=torch.float32, batch_size=512)
    cpu = searchlight.searchlight_subject(b, f, "lang", "agnostic", "left", coords, device="cpu", **kw)
    dev = searchlight.searchlight_subject(b, f, "lang", "agnostic", "left", coords, device=device, **kw)
    np.testing.assert_array_equal(cpu["vertex_index"].values, dev["vertex_index"].values)
    for var in ("scores", "null", "null_imagery"):
        a, d = cpu[var].values, dev[var].values
        # accuracies count wins over candidates: a float32 near-tie may fall the other way on another device
        assert np.mean(a == d) > 0.99 and np.abs(a - d).max() < 0.05, var
        np.testing.assert_allclose(d.mean(), a.mean(), atol=1e-3)


def test_ridge_decoder_predictions_agree(inputs, device):
    b, f = inputs
    kw = dict(alphas=[1e1, 1e3, 1e5], n_folds=3, seed=1, log=lambda *a: None)
    cpu, _, info_cpu = evaluation.decode(b, f, ["lang"], "agnostic", device="cpu", **kw)
    dev, _, info_dev = evaluation.decode(b, f, ["lang"], "agnostic", device=device, **kw)
    assert info_cpu["feature_sets"] == info_dev["feature_sets"]  # the same alpha chosen
    for var in cpu.data_vars:
        np.testing.assert_allclose(dev[var].values, cpu[var].values, rtol=1e-4, atol=1e-5)


def test_contrastive_training_agrees(device, small_dataset, inputs):
    """One BrainCLIP-Linear fit: the same data, seeds and steps on both devices; float32 sums in another order
    drift a little over the steps, so the retrieval scores are compared, not the weights."""
    b, _ = inputs
    stim = data.read_stimuli(small_dataset)
    defs = {"dualenc": {"backend": "dual_encoder", "default_set": "avg", "n_scenes": 300, "n_heldout": 50,
                        "epochs": 1}}
    feats = features.extract("dualenc", stim, small_dataset / "stimuli", defs, seed=3, device="cpu",
                             log=lambda *a: None)
    cfg = copy.deepcopy(DEFAULT["contrastive"])
    cfg.update(ridge_alphas=[1e2, 1e4], max_epochs=2)
    cfg["brainclip_linear"]["tau"] = [0.1]
    cfg["brainclip"]["vt_image_weight"] = [0.5]
    out = {}
    for dev in ("cpu", device):
        _, table, _ = evaluation.decode_contrastive(b, feats, "brainclip_linear", "images", cfg, seed=1,
                                                    device=dev, log=lambda *a: None)
        out[dev] = table.groupby(["decoder", "eval_modality", "metric"])["value"].mean()
    np.testing.assert_allclose(out[device].values, out["cpu"].values, atol=0.05)


def test_ube_forward_and_gradients_agree(device):
    from amodal.encoding import UniversalBrainEncoder, ube_loss

    torch.manual_seed(0)
    model = UniversalBrainEncoder(4, 65, 18, {"s": 500}, channels=16, embedding=32).eval()
    x, y = torch.randn(4, 4, 65, 18), torch.randn(4, 200)
    verts = torch.randint(0, 500, (4, 200))
    loss = ube_loss(model(x, "s", verts), y)
    grads = torch.autograd.grad(loss, list(model.parameters()), allow_unused=True)
    other = copy.deepcopy(model).to(device)
    loss_d = ube_loss(other(x.to(device), "s", verts.to(device)), y.to(device))
    grads_d = torch.autograd.grad(loss_d, list(other.parameters()), allow_unused=True)
    torch.testing.assert_close(loss_d.cpu(), loss, rtol=1e-4, atol=1e-5)
    for g, gd in zip(grads, grads_d):
        if g is not None:
            torch.testing.assert_close(gd.cpu(), g, rtol=1e-3, atol=1e-5)
