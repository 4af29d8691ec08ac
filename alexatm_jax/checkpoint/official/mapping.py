"""The one mapping between the official AlexaTM release (PyTorch,
`AlexaTMSeq2SeqForConditionalGeneration`) and ours, used in both directions: config.json <-> `ModelConfig`,
official tensor names <-> our parameter paths.

Official linear weights are `[out, in]`; our kernels are `[in, out]`, with attention projections split per
head (q/k/v `[d_model, heads, head_dim]`, out `[heads, head_dim, d_model]`). The official model ties tensors
by module identity: `model.shared` is the encoder's token embedding (and the decoder's with
`share_embeddings`), and `tie_word_embeddings` makes `lm_head` the decoder embedding. Each of our tensors
therefore has one canonical official name (what `save_pretrained(safe_serialization=True)` keeps) plus
aliases that a `.bin` also holds.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np

from alexatm_jax.errors import DataError
from alexatm_jax.model.config import ModelConfig

MODEL_TYPE = "alexatm"
ARCHITECTURE = "AlexaTMSeq2SeqForConditionalGeneration"
# A buffer (`arange(max_position_embeddings)`) in the official state_dict: skipped on import, written on
# export.
POSITION_IDS = "model.encoder.position_ids"

# `AlexaTMSeq2SeqConfig` defaults (and `PretrainedConfig`'s for tie_word_embeddings): a config.json written by
# `save_pretrained` holds every field, but a hand-written one may not, and transformers then uses these.
OFFICIAL_DEFAULTS: dict[str, Any] = {
    "vocab_size": 50265, "type_vocab_size": 2, "d_model": 1024, "encoder_layers": 12, "decoder_layers": 12,
    "encoder_attention_heads": 16, "decoder_attention_heads": 16, "encoder_ffn_dim": 4096,
    "decoder_ffn_dim": 4096, "hidden_act": "gelu", "dropout": 0.1, "attention_dropout": 0.0,
    "activation_dropout": 0.0, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 1024, "layer_norm_eps": 1e-12, "share_embeddings": True,
    "tie_word_embeddings": True, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
    "decoder_start_token_id": None, "position_embedding_type": "absolute", "is_decoder": False,
    "add_cross_attention": False,
}
# Official config field -> ours, for fields that map one to one.
_CONFIG_FIELDS = {
    "vocab_size": "vocab_size", "d_model": "d_model", "encoder_layers": "num_encoder_layers",
    "decoder_layers": "num_decoder_layers", "encoder_attention_heads": "num_encoder_heads",
    "decoder_attention_heads": "num_decoder_heads", "encoder_ffn_dim": "encoder_ffn_dim",
    "decoder_ffn_dim": "decoder_ffn_dim", "max_position_embeddings": "max_position_embeddings",
    "type_vocab_size": "type_vocab_size", "layer_norm_eps": "layer_norm_eps",
    "share_embeddings": "share_embeddings", "tie_word_embeddings": "tie_word_embeddings",
    "pad_token_id": "pad_token_id", "bos_token_id": "bos_token_id", "eos_token_id": "eos_token_id",
    # The official decoder's rates (its encoder has hidden_dropout_prob, attention_probs_dropout_prob).
    "dropout": "dropout_rate", "attention_dropout": "attention_dropout_rate",
    "activation_dropout": "activation_dropout_rate",
}
_ENCODER_DROPOUT_FIELDS = {"hidden_dropout_prob": "dropout",
                           "attention_probs_dropout_prob": "attention_dropout"}


# ----------------------------------------------------------------------------------------------- config
def config_from_official(official: dict[str, Any], **overrides: Any) -> ModelConfig:
    """`ModelConfig` for an official config.json dict; `overrides` set run-time fields (e.g. scan_layers)."""
    values = {**OFFICIAL_DEFAULTS, **official}
    model_type = official.get("model_type", MODEL_TYPE)
    if model_type != MODEL_TYPE:
        raise DataError(f"config.json has model_type={model_type!r}; expected {MODEL_TYPE!r} (an AlexaTM "
                         f"{ARCHITECTURE} checkpoint).")
    if values["hidden_act"] != "gelu":
        raise DataError(f"config.json has hidden_act={values['hidden_act']!r}; only 'gelu' (exact, erf) is "
                         "implemented: this checkpoint cannot be converted.")
    if values["position_embedding_type"] != "absolute":
        raise DataError(f"config.json has position_embedding_type={values['position_embedding_type']!r}; "
                         "only 'absolute' (learned) positions are implemented.")
    if values["is_decoder"] or values["add_cross_attention"]:
        raise DataError("config.json sets is_decoder/add_cross_attention, which adds cross-attention to the "
                         "encoder layers: not an encoder-decoder checkpoint that this converter understands.")
    for encoder_field, decoder_field in _ENCODER_DROPOUT_FIELDS.items():
        if values[encoder_field] != values[decoder_field]:
            logging.warning("config.json: %s=%s differs from %s=%s; our model uses one rate for encoder and "
                            "decoder and takes %s.", encoder_field, values[encoder_field], decoder_field,
                            values[decoder_field], decoder_field)
    ours = {our: values[name] for name, our in _CONFIG_FIELDS.items()}
    # transformers falls back to bos_token_id when decoder_start_token_id is unset.
    start = values["decoder_start_token_id"]
    ours["decoder_start_token_id"] = values["bos_token_id"] if start is None else start
    ours.update(overrides)
    return ModelConfig.from_dict(ours)


def config_to_official(config: ModelConfig) -> dict[str, Any]:
    """The config.json dict that `AlexaTMSeq2SeqConfig.from_pretrained` reads back as this architecture."""
    values: dict[str, Any] = {"model_type": MODEL_TYPE, "architectures": [ARCHITECTURE]}
    values.update({name: getattr(config, our) for name, our in _CONFIG_FIELDS.items()})
    for encoder_field, decoder_field in _ENCODER_DROPOUT_FIELDS.items():
        values[encoder_field] = values[decoder_field]
    values.update(
        decoder_start_token_id=config.decoder_start_token_id, hidden_act="gelu",
        position_embedding_type="absolute", is_encoder_decoder=True, extra_pos_embeddings=2,
        torch_dtype=config.param_dtype,
    )
    return dict(sorted(values.items()))


# ----------------------------------------------------------------------------------------------- tensors
# How an official tensor becomes ours ("kind"); `heads` splits the attention projections.
KINDS = ("same", "transpose", "qkv_kernel", "qkv_bias", "out_kernel", "row")


@dataclasses.dataclass(frozen=True)
class Entry:
    """One of our parameters and its official tensor(s).

    `names[0]` is the canonical official name, the rest are aliases holding the same tensor. `stack` is
    "encoder"/"decoder" for per-layer parameters (`layer` its index, `subpath` its path inside the layer),
    None for the others (`subpath` is then the full path).
    """

    names: tuple[str, ...]
    subpath: tuple[str, ...]
    official_shape: tuple[int, ...]
    kind: str = "same"
    heads: int = 0
    stack: str | None = None
    layer: int = 0

    @property
    def name(self) -> str:
        return self.names[0]

    @property
    def shape(self) -> tuple[int, ...]:
        """Our shape of one layer's tensor."""
        s = self.official_shape
        if self.kind == "transpose":
            return s[::-1]
        if self.kind == "qkv_kernel":
            return (s[1], self.heads, s[0] // self.heads)
        if self.kind == "qkv_bias":
            return (self.heads, s[0] // self.heads)
        if self.kind == "out_kernel":
            return (self.heads, s[1] // self.heads, s[0])
        if self.kind == "row":
            return s[1:]
        return s

    def path(self, scanned: bool) -> tuple[str, ...]:
        """Our path in a params tree of the given layout (scanned trees index `layer` on axis 0)."""
        if self.stack is None:
            return self.subpath
        if scanned:
            return (self.stack, "stack", "layers", *self.subpath)
        return (self.stack, f"layers_{self.layer}", *self.subpath)

    def to_ours(self, array: np.ndarray) -> np.ndarray:
        if self.kind in ("transpose", "qkv_kernel", "out_kernel"):
            array = array.T
        return array.reshape(self.shape)

    def to_official(self, array: np.ndarray) -> np.ndarray:
        if self.kind in ("transpose", "qkv_kernel", "out_kernel"):
            return np.ascontiguousarray(array.reshape(self.official_shape[::-1]).T)
        return array.reshape(self.official_shape)


def _linear(names: tuple[str, ...], path: tuple[str, ...], n_in: int, n_out: int, heads: int = 0,
            kind: str = "transpose", **where: Any) -> Iterator[Entry]:
    """A `torch.nn.Linear` (weight [out, in], bias [out]) as our Dense kernel and bias."""
    weight, bias = names
    bias_kind = "qkv_bias" if kind == "qkv_kernel" else "same"
    yield Entry((weight,), (*path, "kernel"), (n_out, n_in), kind, heads, **where)
    yield Entry((bias,), (*path, "bias"), (n_out,), bias_kind, heads, **where)


def _layer_norm(prefix: str, path: tuple[str, ...], d: int, **where: Any) -> Iterator[Entry]:
    yield Entry((f"{prefix}.weight",), (*path, "scale"), (d,), **where)
    yield Entry((f"{prefix}.bias",), (*path, "bias"), (d,), **where)


def _attention(names: dict[str, str], path: tuple[str, ...], d: int, heads: int,
               **where: Any) -> Iterator[Entry]:
    """`names` maps our projection names (query/key/value/out) to official module prefixes."""
    for ours in ("query", "key", "value"):
        prefix = names[ours]
        yield from _linear((f"{prefix}.weight", f"{prefix}.bias"), (*path, ours), d, d, heads, "qkv_kernel",
                           **where)
    prefix = names["out"]
    yield Entry((f"{prefix}.weight",), (*path, "out", "kernel"), (d, d), "out_kernel", heads, **where)
    yield Entry((f"{prefix}.bias",), (*path, "out", "bias"), (d,), **where)


def _encoder_layer(cfg: ModelConfig, i: int) -> Iterator[Entry]:
    p, d, where = f"model.encoder.pre_ln_encoder.layer.{i}", cfg.d_model, {"stack": "encoder", "layer": i}
    yield from _layer_norm(f"{p}.layer_norm", ("self_attn_norm",), d, **where)
    qkv = {name: f"{p}.attention.self.{name}" for name in ("query", "key", "value")}
    yield from _attention({**qkv, "out": f"{p}.attention.output.dense"}, ("self_attn",), d,
                          cfg.num_encoder_heads, **where)
    yield from _layer_norm(f"{p}.intermediate.layer_norm", ("mlp_norm",), d, **where)
    yield from _linear((f"{p}.intermediate.dense.weight", f"{p}.intermediate.dense.bias"), ("mlp", "wi"), d,
                       cfg.encoder_ffn_dim, **where)
    yield from _linear((f"{p}.output.dense.weight", f"{p}.output.dense.bias"), ("mlp", "wo"),
                       cfg.encoder_ffn_dim, d, **where)


def _decoder_layer(cfg: ModelConfig, i: int) -> Iterator[Entry]:
    p, d, where = f"model.decoder.layers.{i}", cfg.d_model, {"stack": "decoder", "layer": i}
    for official, ours, norm in (("self_attn", "self_attn", "self_attn_layer_norm"),
                                 ("encoder_attn", "cross_attn", "encoder_attn_layer_norm")):
        yield from _layer_norm(f"{p}.{norm}", (f"{ours}_norm",), d, **where)
        names = {"query": "q_proj", "key": "k_proj", "value": "v_proj", "out": "out_proj"}
        yield from _attention({k: f"{p}.{official}.{v}" for k, v in names.items()}, (ours,), d,
                              cfg.num_decoder_heads, **where)
    yield from _layer_norm(f"{p}.final_layer_norm", ("mlp_norm",), d, **where)
    yield from _linear((f"{p}.fc1.weight", f"{p}.fc1.bias"), ("mlp", "wi"), d, cfg.decoder_ffn_dim, **where)
    yield from _linear((f"{p}.fc2.weight", f"{p}.fc2.bias"), ("mlp", "wo"), cfg.decoder_ffn_dim, d, **where)


def _embeddings(cfg: ModelConfig) -> Iterator[Entry]:
    vocab = (cfg.vocab_size, cfg.d_model)
    lm_alias = ("lm_head.weight",) if cfg.tie_word_embeddings else ()
    encoder_names = ("model.shared.weight", "model.encoder.token_embeddings.weight")
    if cfg.share_embeddings:
        names = (*encoder_names, "model.decoder.embed_tokens.weight", *lm_alias)
        yield Entry(names, ("shared_embed", "embedding"), vocab)
    else:
        yield Entry(encoder_names, ("encoder_embed", "embedding"), vocab)
        yield Entry(("model.decoder.embed_tokens.weight", *lm_alias), ("decoder_embed", "embedding"), vocab)
    if not cfg.tie_word_embeddings:
        yield Entry(("lm_head.weight",), ("lm_head",), vocab, "transpose")
    yield Entry(("final_logits_bias",), ("final_logits_bias",), (1, cfg.vocab_size), "row")


def parameter_table(cfg: ModelConfig) -> list[Entry]:
    """Every parameter of a model with this config, in the official state_dict's order of modules."""
    d = cfg.d_model
    table = list(_embeddings(cfg))
    table.append(Entry(("model.encoder.position_embeddings.weight",),
                       ("encoder", "position_embed", "embedding"), (cfg.max_position_embeddings, d)))
    table.append(Entry(("model.encoder.token_type_embeddings.weight",),
                       ("encoder", "token_type_embed", "embedding"), (cfg.type_vocab_size, d)))
    for i in range(cfg.num_encoder_layers):
        table.extend(_encoder_layer(cfg, i))
    table.extend(_layer_norm("model.encoder.pre_ln_encoder.layer_norm", ("encoder", "final_norm"), d))
    # The decoder's table has 2 extra rows: position p is read from row p + 2.
    table.append(Entry(("model.decoder.embed_positions.weight",), ("decoder", "position_embed", "embedding"),
                       (cfg.max_position_embeddings + 2, d)))
    for i in range(cfg.num_decoder_layers):
        table.extend(_decoder_layer(cfg, i))
    table.extend(_layer_norm("model.decoder.layernorm_output", ("decoder", "final_norm"), d))
    return table


def stacked_shapes(table: list[Entry], scanned: bool) -> dict[tuple[str, ...], tuple[int, ...]]:
    """Our parameter paths and full shapes (with the leading layer axis when `scanned`)."""
    shapes: dict[tuple[str, ...], tuple[int, ...]] = {}
    counts: dict[tuple[str, ...], int] = {}
    for entry in table:
        path = entry.path(scanned)
        counts[path] = counts.get(path, 0) + 1
        shapes[path] = entry.shape
    if scanned:
        shapes = {p: (counts[p], *s) if p[1:3] == ("stack", "layers") else s for p, s in shapes.items()}
    return shapes


def position_ids(cfg: ModelConfig) -> np.ndarray:
    """The official `model.encoder.position_ids` buffer."""
    return np.arange(cfg.max_position_embeddings, dtype=np.int64)[None]
