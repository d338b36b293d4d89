"""decoding_figures routes each table to its figure and each modality to its retrieval grid."""
from amodal import viz
from amodal.viz import _decoding


def test_decoding_figures_draws_every_figure_once(monkeypatch):
    calls = []
    for name in ("fig4_decoder_types", "fig5_within_cross", "app6_per_subject"):
        monkeypatch.setattr(_decoding, name, lambda table, out, dpi, name=name: calls.append((name, table, out, dpi)))
    monkeypatch.setattr(_decoding, "retrieval_grid", lambda preds, stim, stim_dir, modality, fs, out, **kw:
                        calls.append(("retrieval", modality, fs, out, kw["title"], kw["n_examples"])))
    paths = {n: f"/out/{n}.png" for n in ("fig4_decoder_types", "fig5_within_cross", "app6_per_subject",
                                          "fig6_retrieval_images", "fig7_retrieval_captions")}
    viz.decoding_figures("SUMMARY", "SCORES", "PREDS", "STIM", "stim_dir", "avg", paths, example_subject="sub-02",
                         example_model="clip", n_examples=4, dpi=77)
    assert calls[:3] == [("fig4_decoder_types", "SUMMARY", paths["fig4_decoder_types"], 77),
                         ("fig5_within_cross", "SUMMARY", paths["fig5_within_cross"], 77),
                         ("app6_per_subject", "SCORES", paths["app6_per_subject"], 77)]
    assert [c[1:4] for c in calls[3:]] == [("image", "avg", paths["fig6_retrieval_images"]),
                                           ("caption", "avg", paths["fig7_retrieval_captions"])]
    assert calls[3][4] == "sub-02: modality-agnostic decoder (clip, avg), decoding images: top-5 test candidates"
    assert calls[4][5] == 4
