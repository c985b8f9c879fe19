"""Tiny, randomly initialised Stable Diffusion parts for fast CPU tests (diffusers test style).

Everything is built here and saved to a temp folder in the layouts the engine loads: a
diffusers pipeline folder, ControlNet folders, a rinna-style Japanese folder (T5Tokenizer from
a SentencePiece model trained on a few sentences + CLIPTextModel). No download, ever.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import torch

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def write_clip_tokenizer(folder: Path) -> None:
    """A CLIP BPE tokenizer over single letters: enough to tokenise English prompts."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "!": 2}
    for ch in LETTERS + ",.-'":
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault(ch + "</w>", len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "CLIPTokenizer", "model_max_length": 77, "pad_token": "<|endoftext|>"})
    )


def tiny_text_encoder(vocab_size: int = 1000, with_projection: bool = False, seed: int = 0):  # type: ignore[no-untyped-def]
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(seed)
    cfg = CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32, intermediate_size=37,
        layer_norm_eps=1e-5, num_attention_heads=4, num_hidden_layers=2, vocab_size=vocab_size,
        projection_dim=32, hidden_act="gelu",
    )  # fmt: skip
    return (CLIPTextModelWithProjection if with_projection else CLIPTextModel)(cfg).eval()


def tiny_unet(sdxl: bool = False, seed: int = 0, in_channels: int = 4):  # type: ignore[no-untyped-def]
    from diffusers import UNet2DConditionModel

    torch.manual_seed(seed)
    kw: dict = dict(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=in_channels, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, norm_num_groups=4, attention_head_dim=2,
    )  # fmt: skip
    if sdxl:
        kw.update(
            cross_attention_dim=64, addition_embed_type="text_time", addition_time_embed_dim=8,
            projection_class_embeddings_input_dim=8 * 6 + 32, use_linear_projection=True,
        )  # fmt: skip
    return UNet2DConditionModel(**kw).eval()


def tiny_controlnet(unet, seed: int = 1):  # type: ignore[no-untyped-def]
    from diffusers import ControlNetModel

    torch.manual_seed(seed)
    net = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(4, 4, 4, 4))
    # from_unet zero-initialises the output convs (a fresh net changes nothing) and the default
    # init washes the condition out; give the condition path weights that carry it through
    for name, p in net.named_parameters():
        if name.startswith("controlnet_cond_embedding") or p.abs().sum() == 0:
            if name.endswith("bias"):
                torch.nn.init.zeros_(p)
            else:
                torch.nn.init.normal_(p, std=0.5)
    return net.eval()


def tiny_vae(seed: int = 0):  # type: ignore[no-untyped-def]
    from diffusers import AutoencoderKL

    torch.manual_seed(seed)
    return AutoencoderKL(
        block_out_channels=(4, 4, 8, 8), in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4, norm_num_groups=2, sample_size=64,
    ).eval()  # fmt: skip


def tiny_scheduler():  # type: ignore[no-untyped-def]
    from diffusers import DDIMScheduler

    return DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )


def save_sd15(folder: Path, in_channels: int = 4) -> Path:
    from diffusers import StableDiffusionPipeline
    from transformers import CLIPTokenizer

    write_clip_tokenizer(folder / "_tok")
    pipe = StableDiffusionPipeline(
        vae=tiny_vae(), text_encoder=tiny_text_encoder(), tokenizer=CLIPTokenizer.from_pretrained(folder / "_tok"),
        unet=tiny_unet(in_channels=in_channels), scheduler=tiny_scheduler(), safety_checker=None, feature_extractor=None,
        requires_safety_checker=False,
    )  # fmt: skip
    pipe.save_pretrained(folder / "sd15", safe_serialization=True)
    shutil.rmtree(folder / "_tok")
    return folder / "sd15"


def save_sdxl(folder: Path) -> Path:
    from diffusers import StableDiffusionXLPipeline
    from transformers import CLIPTokenizer

    write_clip_tokenizer(folder / "_tok")
    tok = CLIPTokenizer.from_pretrained(folder / "_tok")
    pipe = StableDiffusionXLPipeline(
        vae=tiny_vae(), text_encoder=tiny_text_encoder(), text_encoder_2=tiny_text_encoder(with_projection=True, seed=1),
        tokenizer=tok, tokenizer_2=tok, unet=tiny_unet(sdxl=True), scheduler=tiny_scheduler(),
    )  # fmt: skip
    pipe.save_pretrained(folder / "sdxl", safe_serialization=True)
    shutil.rmtree(folder / "_tok")
    return folder / "sdxl"


def save_controlnet(folder: Path, model: Path, name: str, seed: int) -> Path:
    from diffusers import UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(model / "unet", local_files_only=True)
    tiny_controlnet(unet, seed=seed).save_pretrained(folder / name, safe_serialization=True)
    return folder / name


JA_SENTENCES = [
    "秋の夕方、逆光の山並み",
    "冬の朝、雪の田んぼと電柱",
    "夏の昼、青い空と白い雲",
    "春の夜、桜の花と小道",
    "雨上がりの道路と建物",
    "アニメ背景美術、手描き、緻密、人物なし",
    "人物、キャラクター、文字、透かし、ぼやけ",
]


def save_japanese(folder: Path) -> Path:
    """rinna japanese-stable-diffusion layout: tokenizer/spiece.model (T5Tokenizer) + CLIPTextModel."""
    import sentencepiece as spm

    model = save_sd15(folder / "_ja")
    target = folder / "ja"
    shutil.move(str(model), target)
    shutil.rmtree(folder / "_ja")
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(JA_SENTENCES * 4), model_writer=buf, vocab_size=80, character_coverage=1.0,
        model_type="unigram", hard_vocab_limit=False, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, minloglevel=2,
    )  # fmt: skip
    tok = target / "tokenizer"
    shutil.rmtree(tok)
    tok.mkdir()
    (tok / "spiece.model").write_bytes(buf.getvalue())
    (tok / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "T5Tokenizer", "model_max_length": 77, "extra_ids": 0})
    )
    index = json.loads((target / "model_index.json").read_text())
    index["tokenizer"] = ["transformers", "T5Tokenizer"]
    (target / "model_index.json").write_text(json.dumps(index))
    return target


def tiny_models(root: Path) -> dict[str, Path]:
    """Build (once per folder) the tiny models every sd test loads from disk."""
    paths = {
        "sd15": root / "sd15", "cn_line": root / "cn_line", "cn_seg": root / "cn_seg",
    }  # fmt: skip
    if not (root / "done").exists():
        root.mkdir(parents=True, exist_ok=True)
        model = save_sd15(root)
        save_controlnet(root, model, "cn_line", seed=1)
        save_controlnet(root, model, "cn_seg", seed=2)
        (root / "done").write_text("ok")
    return paths


def engine_config(paths: dict[str, Path], **changes: object) -> dict[str, object]:
    cfg: dict[str, object] = {
        "model": str(paths["sd15"]),
        "controlnets": [{"kind": "lineart", "path": str(paths["cn_line"]), "weight": 1.0}],
        "steps": 2,
        "guidance": 5.0,
    }
    cfg.update(changes)
    return cfg


def save_ip_adapter(folder: Path, model: Path) -> tuple[Path, Path]:
    """A tiny CLIP image encoder and IP-Adapter weights shaped for the tiny UNet."""
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(3)
    enc = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4, image_size=32,
            patch_size=8, projection_dim=32,
        )
    )  # fmt: skip
    enc.save_pretrained(folder / "image_encoder", safe_serialization=True)
    unet = UNet2DConditionModel.from_pretrained(model / "unet", local_files_only=True)
    cross = unet.config.cross_attention_dim
    tensors = {
        "image_proj.proj.weight": torch.randn(cross * 4, 32) * 0.5,
        "image_proj.proj.bias": torch.zeros(cross * 4),
        "image_proj.norm.weight": torch.ones(cross),
        "image_proj.norm.bias": torch.zeros(cross),
    }
    key_id = 1
    for name in unet.attn_processors:
        if name.endswith("attn2.processor"):
            to_k = unet.get_submodule(name.removesuffix(".processor")).to_k.weight
            tensors[f"ip_adapter.{key_id}.to_k_ip.weight"] = torch.randn_like(to_k)
            tensors[f"ip_adapter.{key_id}.to_v_ip.weight"] = torch.randn_like(to_k)
            key_id += 2
    save_file(tensors, str(folder / "ip_adapter.safetensors"))
    return folder / "ip_adapter.safetensors", folder / "image_encoder"


def save_lora(folder: Path, model: Path) -> Path:
    """A rank-4 LoRA on the tiny UNet's attention projections, in diffusers' LoRA file format."""
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    torch.manual_seed(4)
    unet = UNet2DConditionModel.from_pretrained(model / "unet", local_files_only=True)
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    for name, p in unet.named_parameters():
        if "lora_B" in name:  # peft starts B at zero (a no-op LoRA); make it do something
            torch.nn.init.normal_(p, std=0.5)
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    StableDiffusionPipeline.save_lora_weights(
        folder / "lora", unet_lora_layers=layers, safe_serialization=True
    )
    return next((folder / "lora").glob("*.safetensors"))
