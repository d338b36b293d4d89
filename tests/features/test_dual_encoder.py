"""The offline dual encoder: the aligned image-text space of the embedded default."""

import numpy as np

from amodal.features import _dual_encoder as de


def test_vocabulary_drops_unseen_tokens():
    v = de.Vocabulary(["a red ball", "a blue box"])
    flat, offsets = v.encode(["a red cube", "zebra"])
    assert offsets.tolist() == [0, 3]  # "a", "red", "a_red" are known; "cube", "red_cube", "zebra" are not
    assert len(flat) == 3


def test_the_experiments_stimuli_are_never_drawn():
    first, _ = de._draw_scenes(11, 40, set(), 32)
    again, _ = de._draw_scenes(11, 40, set(first[:20]), 32)
    assert not set(again) & set(first[:20])
    assert again[:20] == first[20:40]  # the same stream, with the excluded scenes skipped


def test_held_out_retrieval_is_far_above_chance():
    model, vocab, report = de.train_dual_encoder(5, n_scenes=1024, n_heldout=200, epochs=4, image_size=64,
                                                 log=lambda *a: None)
    held = report["heldout"]
    assert held["chance_r@1"] == 1 / 200
    assert held["i2t_r@10"] > 0.15 and held["t2i_r@10"] > 0.15  # chance 0.05
    emb = de.class_embeddings(model, vocab, ["ball", "box"])
    assert emb.shape == (2, 64) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
