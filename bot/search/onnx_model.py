"""Questions embedded by ONNX Runtime: the same model and weights, exported from the loaded
sentence-transformers model when the bot starts.

PyTorch runs a short question as hundreds of small calls, each going back through Python (and
its GIL); ONNX Runtime runs the whole model in one call that releases the GIL. Measured on 2
cores, one thread: one question 5.6 ms instead of 14.7, a batch of 10 questions 46 ms instead of
62 (README, "Questions through ONNX Runtime"). Only the transformer is exported: the model's own pooling and
normalisation modules run on its output, so any sentence-transformers model works the same way.

The export is checked before it is used: it must give the vectors PyTorch gives (cosine
similarity at least 0.9999 on a few probe sentences), else the bot logs why and keeps PyTorch.
"""

from __future__ import annotations

import io
import logging
import warnings

log = logging.getLogger(__name__)

PROBES = [
    "can we use AGPL code in our SaaS product?",
    "how do I get approval to contribute to kubernetes",
    "CLA",
]
AGREEMENT = 0.9999  # least cosine similarity between the exported model's vectors and PyTorch's


class ExportError(RuntimeError):
    """The model cannot run under ONNX Runtime; PyTorch is used instead."""


class OnnxEncoder:
    """encode(texts) -> unit vectors (numpy), as SentenceTransformer.encode(normalize_embeddings=True)."""

    def __init__(self, model, threads: int = 1):
        import onnxruntime
        import torch

        self.model = model
        transformer = model[0]
        self.tokenizer = transformer.tokenizer
        self.max_length = model.max_seq_length
        example = self.tokenizer(PROBES, padding=True, return_tensors="pt")
        self.inputs = list(example.keys())  # e.g. input_ids, attention_mask (+ token_type_ids for BERT)
        buffer = io.BytesIO()
        try:
            with warnings.catch_warnings():  # the tracer's notes on control flow it fixes in place
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    last_hidden_state(transformer.auto_model, self.inputs).eval(),
                    tuple(example[name] for name in self.inputs),
                    buffer,
                    input_names=self.inputs,
                    output_names=["token_embeddings"],
                    dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*self.inputs, "token_embeddings"]},
                    opset_version=17,
                    dynamo=False,
                )
        except Exception as error:  # many kinds: an operator ONNX lacks, a model that is no transformer
            raise ExportError(f"cannot export {type(transformer.auto_model).__name__} to ONNX: {error}") from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # 0: one per core
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        self.session = onnxruntime.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
        self.check()

    def encode(self, texts: list[str]):
        import torch

        features = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="np")
        ids = {name: features[name].astype("int64") for name in self.inputs}
        (token_embeddings,) = self.session.run(None, ids)
        tensors = {name: torch.from_numpy(values) for name, values in ids.items()}
        tensors["token_embeddings"] = torch.from_numpy(token_embeddings)
        # Pooling a batch on one thread: on more, OpenMP keeps a worker for each thread that ever ran a
        # batch (in serve, any listener thread: ~90 more threads under bench/load.py). Callers hold
        # _ENCODE_LOCK (but check(), at construction), under which torch's process-wide count may change.
        every_core = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.inference_mode():
                for module in list(self.model)[1:]:  # the model's own pooling (and dense, normalize) modules
                    tensors = module(tensors)
                vectors = torch.nn.functional.normalize(tensors["sentence_embedding"], p=2, dim=1)
        finally:
            torch.set_num_threads(every_core)
        return vectors.numpy()

    def check(self) -> None:
        expected = self.model.encode(PROBES, normalize_embeddings=True, convert_to_numpy=True)
        agreement = float((self.encode(PROBES) * expected).sum(axis=1).min())
        if agreement < AGREEMENT:
            raise ExportError(f"the exported model's vectors differ from PyTorch's (cosine {agreement:.6f})")


def last_hidden_state(auto_model, inputs: list[str]):
    """A torch module to export: made here, since torch is imported only when needed."""
    import torch

    class LastHiddenState(torch.nn.Module):
        """The transformer with named inputs and its token embeddings as the one output."""

        def __init__(self):
            super().__init__()
            self.auto_model = auto_model

        def forward(self, *values):
            return self.auto_model(**dict(zip(inputs, values, strict=True))).last_hidden_state

    return LastHiddenState()


def onnx_encoder(model, threads: int = 1) -> OnnxEncoder | None:
    """An OnnxEncoder for a loaded SentenceTransformer, or None (logged: why) when it cannot be made."""
    try:
        return OnnxEncoder(model, threads)
    except ImportError as error:
        log.warning("questions embedded by PyTorch (OSPO_MODEL_RUNTIME=onnx): %s is not installed", error.name)
    except Exception as error:  # ExportError, or a model shaped unlike a sentence-transformers one
        log.warning("questions embedded by PyTorch (OSPO_MODEL_RUNTIME=onnx): %s", error)
    return None
