"""A Gabor wavelet pyramid (the low-level vision model): scikit-image Gabor kernels applied in the Fourier domain
on a luminance and two colour-opponent channels, pooled on a grid and log-compressed."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ._util import backend_doc, batches as _batches, progress as _progress


def gabor_bank(frequencies=(0.05, 0.1, 0.2, 0.4), n_orientations=6, bandwidth=1.0):
    """Complex Gabor kernels from scikit-image, zero-padded to one odd size.

    Parameters
    ----------
    frequencies : sequence of float
        Spatial frequencies in cycles per pixel.
    n_orientations : int
    bandwidth : float

    Returns
    -------
    complex array of shape (n_frequencies * n_orientations, size, size)
    """
    from skimage.filters import gabor_kernel

    kernels = [gabor_kernel(f, theta=np.pi * o / n_orientations, bandwidth=bandwidth)
               for f in frequencies for o in range(n_orientations)]
    size = max(k.shape[0] for k in kernels) | 1
    bank = np.zeros((len(kernels), size, size), dtype=np.complex128)
    for i, k in enumerate(kernels):
        oy, ox = (size - k.shape[0]) // 2, (size - k.shape[1]) // 2
        bank[i, oy: oy + k.shape[0], ox: ox + k.shape[1]] = k
    return bank


def _trim(bank: np.ndarray) -> np.ndarray:
    """``bank`` without the zero border that all its (centred) kernels share; the size stays odd."""
    mag = np.abs(bank).max(axis=0)
    rows, cols = np.flatnonzero(mag.max(axis=1) > 0), np.flatnonzero(mag.max(axis=0) > 0)
    size = bank.shape[-1]
    m = int(min(rows[0], cols[0], size - 1 - rows[-1], size - 1 - cols[-1]))
    return bank[:, m: size - m, m: size - m]


def gabor_energy(chans: torch.Tensor, bank: np.ndarray, kfft=None, group: int | None = None):
    """|response| of each channel to each complex kernel, with reflect padding, as direct correlation gives it.

    Filtered in the Fourier domain: the low-frequency kernels are large, and direct convolution is slow (the tests
    check the result against scipy's ``correlate2d``).

    Parameters
    ----------
    chans : tensor of shape (batch, n_channels, height, width)
    bank : complex array of shape (n_filters, k, k)
    kfft : complex tensor (or list of them, with ``group``), optional
        The kernels' transform from a previous call, reused.
    group : int, optional
        Filter each run of ``group`` consecutive kernels (one frequency of :func:`gabor_bank`, whose kernels are
        frequency-major) at its own size, its zero border trimmed: the large low-frequency kernels then no longer
        set the transform size of the small high-frequency ones (1.5x faster for the default pyramid in
        ``bench/gabor.py``; the same result up to float32 rounding, ~1e-7).

    Returns
    -------
    energy : tensor of shape (batch, n_channels, n_filters, height, width)
    kfft : complex tensor of shape (n_filters, height + k - 1, width + k - 1), or a list of them with ``group``
    """
    if group:
        kfft = kfft or [None] * (bank.shape[0] // group)
        parts = []
        for g in range(len(kfft)):
            energy, kfft[g] = gabor_energy(chans, _trim(bank[g * group: (g + 1) * group]), kfft[g])
            parts.append(energy)
        return torch.cat(parts, 2), kfft
    size = chans.shape[-1]
    ks = bank.shape[-1]
    pad = ks // 2
    full = size + 2 * pad
    if kfft is None:
        kpad = np.zeros((bank.shape[0], full, full), dtype=np.complex128)
        kpad[:, :ks, :ks] = bank
        kfft = torch.as_tensor(np.fft.fft2(kpad), dtype=torch.complex64, device=chans.device)  # (F, full, full)
    padded = torch.nn.functional.pad(chans, (pad, pad, pad, pad), mode="reflect")  # (B, C, full, full)
    resp = torch.fft.ifft2(torch.fft.fft2(padded).unsqueeze(2) * kfft)  # (B, C, F, full, full) complex
    # circular correlation offset: the valid response of pixel (i, j) sits at (i + 2*pad, j + 2*pad) mod full,
    # and since full = size + 2*pad that is the block [2*pad:, 2*pad:], with no wrap; |.| on that block alone
    return resp[..., 2 * pad:, 2 * pad:].abs(), kfft


def colour_channels(paths, size: int, device) -> torch.Tensor:
    """Images resized to ``size`` × ``size`` as luminance, red-green and blue-yellow channels.

    Returns
    -------
    tensor of shape (n_images, 3, size, size)
    """
    imgs = np.stack([np.asarray(Image.open(p).convert("RGB").resize((size, size), Image.Resampling.BILINEAR),
                                dtype=np.float32) / 255.0 for p in paths])
    x = torch.as_tensor(imgs, device=device).permute(0, 3, 1, 2)  # (B, 3, H, W)
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    return torch.stack([(r + g + b) / 3, r - g, (r + g) / 2 - b], dim=1)


@backend_doc(
    spec="``image_size`` (default 96), ``grid`` (4), ``frequencies``, ``n_orientations`` (6).",
    sets="``vision``: array of shape (n_stimuli, 3 * n_filters * grid**2).",
    attrs="The filter bank's settings.",
    captions=False)
def extract_gabor(spec, captions, image_paths, device, batch_size, log):
    """A Gabor wavelet pyramid: energy of scikit-image Gabor filters at several spatial frequencies and
    orientations, on a luminance and two colour-opponent channels, pooled on a grid and log-compressed."""
    size = int(spec.get("image_size", 96))
    grid = int(spec.get("grid", 4))
    freqs = tuple(spec.get("frequencies", (0.05, 0.1, 0.2, 0.4)))
    n_or = int(spec.get("n_orientations", 6))
    bank = gabor_bank(freqs, n_or)
    kfft = None
    out = []
    for j, batch in enumerate(_batches(list(image_paths), batch_size)):
        chans = colour_channels(batch, size, device)
        energy, kfft = gabor_energy(chans, bank, kfft, group=n_or)
        bsz = energy.shape[0]
        pooled = torch.nn.functional.adaptive_avg_pool2d(energy.reshape(bsz, -1, size, size), grid)
        out.append(torch.log1p(pooled.reshape(bsz, -1) * 10).cpu().numpy())
        _progress(log, "gabor", min((j + 1) * batch_size, len(image_paths)), len(image_paths), batch_size)
    return {"vision": np.concatenate(out)}, {
        "pooling": f"mean energy on a {grid}x{grid} grid", "frequencies": list(freqs), "n_orientations": n_or,
        "channels": "luminance, red-green, blue-yellow", "image_size": size,
        "filter_bank": "skimage.filters.gabor_kernel"}
