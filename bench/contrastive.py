"""Training throughput of the contrastive decoders (trials per second), on CPU and on CUDA when there is one.

Inputs have the embedded default's shape: 1,000 train trials (an agnostic decoder) × 20,484 fsaverage5
vertices, 64-d targets (the offline dual encoder). Each decoder trains for a fixed number of epochs with
early stopping off, through :func:`amodal.models.train` (the loop the workflow runs), batch 128. On CPU each fit
runs on one thread, as in the workflow (``thread_invariant``). The Mind Reader mapper is timed at amodal's CPU
size and at the paper's size (hidden 64, 4 residual blocks, fc 128, stem kernel 4 stride 2, 512-d targets): the
latter is a GPU job: on CPU it is timed on ``--paper-trials`` trials (2 batches by default) and its seconds per
epoch of the default agnostic decoder (6 batches of 128) are extrapolated from them (linear in batches; the
validation pass is included per trained trial, so this is an estimate). There is no reference implementation to
compare with (the papers' code needs their data and GPUs), so this prints throughput only, one JSON line per
decoder and device, as each finishes.

    python bench/contrastive.py [--quick] [--device cuda]
"""
import argparse
import json
import time

import torch

from amodal.models import (BrainCLIPVAE, LinearMap, MindReaderMapper, TrainSettings, VAEDecoder, clamp_normalize,
                           thread_invariant, train)


def fit_seconds(model, x, y, settings, device):
    ids = [str(i) for i in range(x.shape[0])]
    n_val = max(8, x.shape[0] // 8)
    with thread_invariant(device):
        t = time.perf_counter()
        out = train(model, x[n_val:], [y[n_val:], y[n_val:]], ids[n_val:], x[:n_val], [y[:n_val], y[:n_val]],
                    ids[:n_val], settings, seed=0)
        if x.is_cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t
    trained = (x.shape[0] - n_val) // settings.batch_size * settings.batch_size  # full batches only
    return seconds, out["epochs_run"], trained


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="200 trials, 1 epoch (a smoke run)")
    ap.add_argument("--paper-trials", type=int, default=300,
                    help="trials for the paper-size mapper on CPU (2 batches of 128 and a validation pass)")
    ap.add_argument("--device", default=None, help="one device only (default: the CPU, and CUDA when there is one)")
    ap.add_argument("--skip-paper-size", action="store_true",
                    help="leave out the paper-size Mind Reader mapper (a GPU job: minutes on a CPU)")
    args = ap.parse_args()
    n, n_vox, epochs = (200, 20484, 1) if args.quick else (1000, 20484, 3)
    devices = [args.device] if args.device else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for dev in devices:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(n, n_vox, generator=g).to(dev)
        y64 = torch.randn(n, 64, generator=g).to(dev)
        y512 = clamp_normalize(torch.randn(n, 512, generator=g)).to(dev)
        s = TrainSettings(max_epochs=epochs, patience=epochs + 1, batch_size=128)
        cases = {
            "brainclip_linear": (LinearMap(n_vox, 64), y64, s),
            "brainclip_vae": (BrainCLIPVAE(n_vox, VAEDecoder(32, 256, 64), 32), y64,
                              TrainSettings(**{**s.__dict__, "kl_weight": 1e-3})),
            "mindreader_cpu_size": (MindReaderMapper(n_vox, 64, 16, 2, 32, 64, 64), y64,
                                    TrainSettings(**{**s.__dict__, "loss": "mindreader", "tau": 0.5})),
            "mindreader_paper_size": (MindReaderMapper(n_vox, 512), y512,
                                      TrainSettings(**{**s.__dict__, "loss": "mindreader", "tau": 0.5,
                                                       "max_epochs": 1, "patience": 2})),
        }
        # warm-up (allocator, oneDNN kernels), so that the first timed decoder is not charged for it
        fit_seconds(LinearMap(n_vox, 64).to(dev), x[:300], y64[:300], TrainSettings(max_epochs=1), dev)
        for name, (model, y, settings) in cases.items():
            if name == "mindreader_paper_size" and args.skip_paper_size:
                continue
            rows = args.paper_trials if name == "mindreader_paper_size" and not dev.startswith("cuda") else n
            torch.manual_seed(0)
            seconds, n_epochs, n_train = fit_seconds(model.to(dev), x[:rows], y[:rows], settings, dev)
            per_trial = seconds / (n_train * n_epochs)
            print(json.dumps({"device": dev, "decoder": name, "threads": 1 if dev == "cpu" else None,
                              "n_vertices": n_vox, "n_train_trials": n_train, "epochs": n_epochs,
                              "trials_per_second": round(1 / per_trial, 1),
                              # an epoch of the default agnostic decoder: 6 batches of 128 (and its validation)
                              "seconds_per_epoch_of_768_trials": round(per_trial * 768, 2),
                              "parameters": sum(p.numel() for p in model.parameters())}), flush=True)


if __name__ == "__main__":
    main()
