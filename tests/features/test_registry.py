"""The feature registry is light (no torch at import) and agrees with the backends."""
import subprocess
import sys

from amodal import features


def test_importing_the_registry_does_not_import_torch():
    code = ("import sys, amodal.features as f, amodal.data, amodal.config\n"
            "f.model_definition('minilm_gabor'); f.default_feature_set('gabor')\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_every_backend_name_has_an_extractor():
    assert set(features.BACKENDS) == set(features.BACKEND_NAMES)
    assert all(callable(features.BACKENDS[b]) for b in features.BACKEND_NAMES if b != "combine")
