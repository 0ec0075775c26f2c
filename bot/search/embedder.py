"""The embedding model: loaded once per process and name, never fetched from a hub unless asked
(HF_HUB_OFFLINE=0); documents embedded by PyTorch in batches, questions through a Batcher
(bot/batching.py) and, with OSPO_MODEL_RUNTIME=onnx, ONNX Runtime (bot/search/onnx_model.py).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from bot import batching
from bot.config import MODEL_FIX, Settings

EMBED_BATCH = 64  # texts per call of the model when documents are embedded

_MODELS: dict[str, object] = {}  # one loaded model per name, shared by every Index in the process
_ONNX: dict[tuple[str, int], object] = {}  # its ONNX Runtime twin per (name, threads), or None
# One embedding at a time: torch already uses every core, and concurrent calls only fight for them.
# (Tests hold it to keep the model busy.)
_ENCODE_LOCK = threading.Lock()
_LOAD_LOCK = threading.Lock()


BUSY = (
    "ospo-bot is busy: {waiting} questions are already waiting for the embedding model "
    "(OSPO_EMBED_QUEUE); try again in a few seconds"
)


class ModelError(RuntimeError):
    """The embedding model cannot be loaded; the message says what to set."""


def may_download_models() -> bool:
    """Only when the operator asks for it (HF_HUB_OFFLINE=0): without network the hub is retried
    for over a minute before failing, so by default a model name must already be cached."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"0", "false", "no", "off"}


class Embedder:
    """A sentence-transformers model, loaded on first use (loading takes a few seconds). Questions
    go through `questions`, a Batcher (bot/batching.py): those asked at the same time share one call
    of the model, and too many waiting get batching.Busy."""

    def __init__(
        self,
        model: str,
        *,
        batch_size: int = batching.BATCH_SIZE,
        queue_size: int = batching.QUEUE_SIZE,
        window: float = batching.WINDOW_SECONDS,
        question_threads: int = 0,
        runtime: str = "torch",
    ):
        self.name = model
        self.question_threads = question_threads  # torch threads for questions; 0: torch's default
        self.runtime = runtime  # for questions: torch, or onnx (bot/search/onnx_model.py)
        self.encoded = 0  # texts embedded by this instance: sync's "nothing re-embedded" is checkable
        self.questions = batching.Batcher(
            self.encode_questions,
            batch_size=batch_size,
            queue_size=queue_size,
            window=window,
            busy_message=BUSY,
        )

    @classmethod
    def for_settings(cls, settings: Settings) -> Embedder:
        return cls(
            settings.embedding_model,
            batch_size=settings.embed_batch_size,
            queue_size=settings.embed_queue,
            window=settings.embed_window_ms / 1000,
            question_threads=settings.question_threads,
            runtime=settings.model_runtime,
        )

    @property
    def loaded(self) -> bool:
        return self.name in _MODELS

    def load(self):
        with _LOAD_LOCK:
            return self._load()

    def _load(self):
        if self.name not in _MODELS:
            local = Path(self.name).is_dir()
            offline = local or not may_download_models()
            if offline:  # nothing to fetch: fail at once instead of retrying an unreachable hub
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            try:
                _MODELS[self.name] = SentenceTransformer(self.name, device="cpu", local_files_only=offline)
            except Exception as error:  # the library raises many kinds; all mean the same here
                if local:
                    why = " ".join(str(error).split()).rstrip(".")
                    problem = f"cannot load the embedding model folder {self.name}: {why}"
                elif offline:
                    problem = f"the embedding model {self.name!r} is not found locally"
                    problem += " (and is not downloaded unless HF_HUB_OFFLINE=0)"
                else:
                    problem = f"cannot load the embedding model {self.name!r} from Hugging Face: {error}"
                raise ModelError(f"{problem}. To fix it, {MODEL_FIX}.") from None
        return _MODELS[self.name]

    def encode(self, texts: list[str], threads: int = 0) -> list[list[float]]:
        """Unit vectors of texts; threads: torch threads for this call (0: torch's default, one per core)."""
        self.encoded += len(texts)
        return self.encode_array(texts, threads).tolist()

    def encode_questions(self, texts: list[str]) -> list[list[float]]:
        """encode() for questions: by ONNX Runtime when that is the runtime and the model exports."""
        self.encoded += len(texts)
        return self.encode_questions_array(texts).tolist()

    def encode_questions_array(self, texts: list[str]):
        fast = _ONNX.get((self.name, self.question_threads)) if self.runtime == "onnx" else None
        if fast is None:
            return self.encode_array(texts, self.question_threads)
        with _ENCODE_LOCK:  # one embedding at a time, whichever runtime
            return fast.encode(texts)

    def warm_up(self) -> None:
        """Load the model and, with the onnx runtime, export it for questions: `serve` does this before
        it says ready. Without it (a one-off `ospo-bot ask`) questions use PyTorch: the export takes ~1 s."""
        self.load()
        if self.runtime == "onnx":
            self.onnx()

    def onnx(self):
        """This model's OnnxEncoder, made on first call; None when it cannot be (logged once)."""
        key = (self.name, self.question_threads)
        if key not in _ONNX:
            model = self.load()
            with _LOAD_LOCK:
                if key not in _ONNX:
                    from bot.search.onnx_model import onnx_encoder

                    _ONNX[key] = onnx_encoder(model, self.question_threads)
        return _ONNX[key]

    def encode_array(self, texts: list[str], threads: int = 0):
        """encode() by PyTorch, as a numpy array."""
        import torch

        model = self.load()
        with _ENCODE_LOCK:  # torch's thread count is the process's: set and put back under the lock
            every_core = torch.get_num_threads()
            if threads:
                torch.set_num_threads(threads)
            try:
                return model.encode(texts, batch_size=EMBED_BATCH, normalize_embeddings=True, convert_to_numpy=True)
            finally:
                torch.set_num_threads(every_core)

    def encode_question(self, text: str) -> list[float]:
        """One question's vector, embedded with the questions asked at the same time; raises
        batching.Busy at once when OSPO_EMBED_QUEUE questions already wait."""
        return self.questions.run(text)
