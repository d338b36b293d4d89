"""The Gabor pyramid's filtering (the offline vision model's cost, and that of its patch tokens): amodal's batched
Fourier-domain energies against scipy, on the embedded default's sizes (96 x 96 images, 3 colour channels, 4
frequencies x 6 orientations of scikit-image kernels, reflect padding).

- amodal: ``gabor_energy(..., group=6)``: one torch FFT per frequency for the whole batch, each frequency at its own
  transform size (its kernels' zero border trimmed);
- amodal before: ``gabor_energy(...)``: one transform size, set by the largest kernel, for every filter;
- reference: what a careful scipy user writes: ``scipy.signal.fftconvolve`` (FFT-based, ``mode="valid"``) of each
  reflect-padded channel with each flipped kernel (correlation), per image, in float32/complex64 like amodal.

All three are timed in one run on the same images and asserted equal (to float32 rounding).

    python bench/gabor.py [--quick]
"""
import argparse
import time

import numpy as np
import torch
from scipy.signal import fftconvolve

from amodal.features import gabor_bank, gabor_energy


def images(n, size=96, seed=0):
    """Smooth random colour images in [0, 1], as colour channels (luminance, red-green, blue-yellow)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.nn.functional.interpolate(torch.rand(n, 3, size // 8, size // 8, generator=g), size=(size, size),
                                        mode="bilinear", align_corners=False)
    r, gr, b = x[:, 0], x[:, 1], x[:, 2]
    return torch.stack([(r + gr + b) / 3, r - gr, (r + gr) / 2 - b], dim=1)


def scipy_energy(chans: np.ndarray, bank: np.ndarray) -> np.ndarray:
    kernels = []
    for k in bank:  # each kernel at its own support (zero border trimmed), flipped for correlation
        nz = np.flatnonzero(np.abs(k).max(axis=0) > 0)
        m = min(nz[0], k.shape[0] - 1 - nz[-1])
        kernels.append(k[m: k.shape[0] - m, m: k.shape[0] - m][::-1, ::-1].astype(np.complex64))
    out = np.empty(chans.shape[:2] + (len(kernels),) + chans.shape[2:], dtype=np.float32)
    for i in range(chans.shape[0]):
        for c in range(chans.shape[1]):
            for f, k in enumerate(kernels):
                padded = np.pad(chans[i, c], k.shape[0] // 2, mode="reflect")
                out[i, c, f] = np.abs(fftconvolve(padded, k, mode="valid"))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="8 images instead of 64")
    args = ap.parse_args()
    n = 8 if args.quick else 64
    chans = images(n)
    bank = gabor_bank((0.05, 0.1, 0.2, 0.4), 6)
    gabor_energy(chans[:2], bank, group=6)  # warm-up
    times = {}
    t = time.perf_counter()
    ours = torch.cat([gabor_energy(chans[i: i + 32], bank, group=6)[0] for i in range(0, n, 32)])
    times["amodal (per-frequency size)"] = time.perf_counter() - t
    t = time.perf_counter()
    before = torch.cat([gabor_energy(chans[i: i + 32], bank)[0] for i in range(0, n, 32)])
    times["amodal before (one size)"] = time.perf_counter() - t
    t = time.perf_counter()
    ref = scipy_energy(chans.numpy(), bank)
    times["scipy fftconvolve"] = time.perf_counter() - t
    scale = float(np.abs(ref).max())
    np.testing.assert_allclose(ours.numpy(), ref, atol=1e-5 * scale)
    np.testing.assert_allclose(before.numpy(), ref, atol=1e-5 * scale)
    print(f"{n} images of 96 x 96, 3 channels, {bank.shape[0]} filters; torch threads {torch.get_num_threads()}; "
          f"energies equal to {1e-5 * scale:.1e}")
    base = times["scipy fftconvolve"]
    for name, sec in times.items():
        print(f"  {name:30s} {sec:7.2f} s   {n / sec:8.1f} images/s   {base / sec:5.2f}x scipy")


if __name__ == "__main__":
    main()
