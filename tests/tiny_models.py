"""Tiny randomly initialised models, saved to a folder and loaded back through the hub-id code path."""
import json
from pathlib import Path

import torch

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def save_tokenizer(folder: Path, texts):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    words = sorted({w for t in texts for w in t.lower().replace(".", " .").replace(",", " ,").split()})
    vocab = {tok: i for i, tok in enumerate(SPECIALS + words)}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tk.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2),
                                                                                                 ("[SEP]", 3)])
    from tokenizers import normalizers

    tk.normalizer = normalizers.Lowercase()
    fast = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", bos_token="[CLS]", eos_token="[SEP]",
                                   model_max_length=60)
    fast.save_pretrained(folder)
    return len(vocab)


def tiny(kind: str, folder: Path, texts) -> Path:
    """Build a tiny model of ``kind`` with its tokenizer/processor in ``folder``; return the folder."""
    import transformers as tf

    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    small = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)
    vision = dict(small, image_size=32, patch_size=8)
    v = save_tokenizer(folder, texts) if kind not in ("vit", "dinov2", "dinov2_reg") else 0
    text = dict(small, vocab_size=v, max_position_embeddings=64, pad_token_id=0, bos_token_id=2, eos_token_id=3)
    if kind == "clip":
        cfg = tf.CLIPConfig(text_config=dict(text, projection_dim=16), vision_config=dict(vision, projection_dim=16),
                            projection_dim=16)
        model = tf.CLIPModel(cfg)
        proc = tf.CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    elif kind == "siglip":
        cfg = tf.SiglipConfig(text_config=text, vision_config=vision)
        model = tf.SiglipModel(cfg)
        proc = tf.SiglipImageProcessor(size={"height": 32, "width": 32})
    elif kind == "vit":
        model = tf.ViTModel(tf.ViTConfig(**vision))
        proc = tf.ViTImageProcessor(size={"height": 32, "width": 32})
    elif kind == "dinov2":
        model = tf.Dinov2Model(tf.Dinov2Config(**{k: v for k, v in vision.items() if k != "intermediate_size"}))
        proc = tf.BitImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    elif kind == "dinov2_reg":  # DINOv2 with register tokens: CLS, 2 registers, then the patches
        model = tf.Dinov2WithRegistersModel(tf.Dinov2WithRegistersConfig(
            **{k: v for k, v in vision.items() if k != "intermediate_size"}, num_register_tokens=2))
        proc = tf.BitImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    elif kind == "bert":
        model = tf.BertModel(tf.BertConfig(**text))
        proc = None
    elif kind == "gpt2":
        model = tf.GPT2Model(tf.GPT2Config(vocab_size=v, n_embd=32, n_layer=2, n_head=4, n_positions=64,
                                           bos_token_id=2, eos_token_id=3))
        proc = None
    elif kind == "vilt":
        model = tf.ViltModel(tf.ViltConfig(**dict(text, image_size=32, patch_size=8, max_image_length=-1,
                                                  modality_type_vocab_size=2, type_vocab_size=2)))
        proc = tf.ViltImageProcessor(size={"shortest_edge": 32}, size_divisor=8, do_pad=True)
    else:
        raise ValueError(kind)
    model.save_pretrained(folder)
    if proc is not None:
        proc.save_pretrained(folder)
    return folder


def tiny_open_clip(folder: Path):
    """A tiny open_clip architecture JSON and a random checkpoint file for it."""
    import open_clip

    folder.mkdir(parents=True, exist_ok=True)
    cfg = {"embed_dim": 16,
           "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "patch_size": 8, "head_width": 16},
           "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2}}
    path = folder / "amodal-tiny-clip.json"
    path.write_text(json.dumps(cfg))
    open_clip.add_model_config(path)
    torch.manual_seed(0)
    model = open_clip.create_model("amodal-tiny-clip", pretrained=None)
    ckpt = folder / "tiny.pt"
    torch.save(model.state_dict(), ckpt)
    return path, ckpt
