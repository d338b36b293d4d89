"""The GPU check: everything a lent CUDA machine should run first, in one command, within 8 minutes, into one JSON.

A device is lent rarely and for minutes, so this installs nothing and asks nothing: on a machine with the venv
(``make setup``) and CUDA, run

    .venv/bin/python bench/gpu_check.py --out gpu_check.json            # on the GPU
    .venv/bin/python bench/gpu_check.py --device cpu --out cpu.json     # the same steps on the CPU (end to end)

Steps, each in its own process with its own time limit (a step that fails or runs out of time is recorded as such
and the others still run):

1. ``agreement``: ``tests/test_devices.py --device <device>`` (searchlight scores and nulls, ridge predictions,
   contrastive training, UBE forward and gradients: the device against the CPU, within float32 tolerance);
2. ``searchlight``: ``bench/searchlight.py --mesh ico7 --only k750 --scale`` (fsaverage7's size, k = 750, one
   job's 100 null maps, timed on a shard of centres and scaled to the hemisphere, peak memory);
3. ``ube``: the Universal Brain Encoder's train step at the paper's size (``bench/encoding.py``'s case; on the CPU
   amodal's CPU size);
4. ``contrastive``: ``bench/contrastive.py --quick --device <device>`` (throughput of each family, and on CUDA the
   Mind Reader mapper at the paper's size);
5. ``group``: ``bench/group_permutations.py`` on fsaverage5 with 1,000 permutations: the group stage is CPU code
   (numba), timed here so that one file holds the whole machine's picture.

The JSON: ``{"device", "torch", "cuda", "steps": {name: {"ok", "seconds", "result" (the step's JSON lines) or
"error" (its last output)}}}``.
"""
import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def steps(device: str) -> dict:
    """name -> (command, time limit in seconds); the centres and steps are fewer on the CPU, to stay in budget."""
    py = sys.executable
    gpu = device.startswith("cuda")
    return {
        "agreement": ([py, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "--device", device,
                       "tests/test_devices.py"], 150),
        "searchlight": ([py, "bench/searchlight.py", "--device", device, "--mesh", "ico7", "--only", "k750", "--scale",
                         "--n-centres", "4000" if gpu else "150"], 150),
        # the paper's sizes are GPU jobs (a UBE step takes 21 s on one CPU thread, a Mind Reader epoch minutes): on
        # the CPU the check times amodal's CPU sizes instead
        "ube": ([py, "bench/encoding.py", "--ube-case", device, "paper" if gpu else "cpu", "amodal"], 60),
        "contrastive": ([py, "bench/contrastive.py", "--quick", "--device", device]
                        + ([] if gpu else ["--skip-paper-size"]), 60),
        "group": ([py, "bench/group_permutations.py", "--n-permutations", "1000", "--reference-permutations", "0"], 60),
    }


def run_step(cmd, limit) -> dict:
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired as exc:
        text = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return {"ok": False, "seconds": round(time.perf_counter() - t, 1), "error": f"timed out after {limit} s",
                "result": [json.loads(ln) for ln in text.splitlines() if ln.startswith("{")]}  # what it got to
    out = {"ok": proc.returncode == 0, "seconds": round(time.perf_counter() - t, 1)}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if lines:
        out["result"] = [json.loads(ln) for ln in lines]
    if proc.returncode != 0 or not lines:
        out["error"] = (proc.stdout + proc.stderr)[-3000:]
    if cmd[1:3] == ["-m", "pytest"]:  # the agreement tests print a summary line, not JSON
        out["result"] = [ln for ln in proc.stdout.splitlines() if " passed" in ln or " failed" in ln
                         or " skipped" in ln][-1:]
        out["ok"] = proc.returncode == 0 and "skipped" not in " ".join(out["result"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--out", default="gpu_check.json")
    ap.add_argument("--only", nargs="*", default=None, help="run these steps only")
    args = ap.parse_args()
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("no CUDA device here: run with --device cpu to check the steps on the CPU")
    report = {"device": args.device, "torch": torch.__version__, "cuda": torch.version.cuda,
              "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
              "host": platform.node(), "steps": {}}
    t = time.perf_counter()
    for name, (cmd, limit) in steps(args.device).items():
        if args.only and name not in args.only:
            continue
        report["steps"][name] = run_step(cmd, limit)
        print(f"{name}: {'ok' if report['steps'][name]['ok'] else 'FAILED'} in {report['steps'][name]['seconds']} s",
              flush=True)
        Path(args.out).write_text(json.dumps(report, indent=1))  # kept as it goes, should the lease end
    report["seconds"] = round(time.perf_counter() - t, 1)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v["ok"] for k, v in report["steps"].items()}))
    sys.exit(0 if all(v["ok"] for v in report["steps"].values()) else 1)


if __name__ == "__main__":
    main()
