"""Questions embedded by ONNX Runtime give the vectors PyTorch gives, on the real model; an export
that does not is refused and PyTorch answers instead; torch's thread count is put back."""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

from bot.config import ConfigError, Settings, load_settings
from bot.search import embedder as embedder_module
from bot.search import onnx_model
from bot.search.embedder import Embedder

ROOT = Path(__file__).resolve().parents[1]

QUESTIONS = [
    "can we use AGPL code in our SaaS product?",
    "do I need approval to fix a typo in an Apache-2.0 project?",
    "Who signs the corporate CLA for the CNCF?",
    "what",
    "is it ok to paste a snippet from stack overflow into our proprietary code base, and what license is it under?",
]


def unit(rows) -> np.ndarray:
    return np.asarray(rows, dtype=np.float64)


def test_onnx_runtime_gives_pytorchs_vectors(model_name):
    embedder = Embedder(model_name, runtime="onnx", question_threads=1)
    embedder.warm_up()  # as `serve` does
    assert embedder.onnx() is not None, "the bundled model exports to ONNX"
    by_onnx = unit(embedder.encode_questions(QUESTIONS))
    by_torch = unit(Embedder(model_name).encode(QUESTIONS))
    assert by_onnx.shape == by_torch.shape == (len(QUESTIONS), 384)
    assert np.allclose(np.linalg.norm(by_onnx, axis=1), 1.0, atol=1e-5)
    assert (by_onnx * by_torch).sum(axis=1).min() >= onnx_model.AGREEMENT


def test_questions_asked_together_get_the_vectors_they_get_alone(model_name):
    """Padding in a batch must not change a short question's vector."""
    embedder = Embedder(model_name, runtime="onnx", question_threads=1)
    embedder.warm_up()
    together = unit(embedder.encode_questions(QUESTIONS))
    alone = unit([embedder.encode_questions([q])[0] for q in QUESTIONS])
    assert (together * alone).sum(axis=1).min() >= onnx_model.AGREEMENT


def test_an_export_that_disagrees_with_pytorch_is_not_used(model_name, monkeypatch, caplog):
    monkeypatch.setattr(onnx_model, "AGREEMENT", 1.01)  # no export can reach it: the check refuses
    monkeypatch.setattr(embedder_module, "_ONNX", {})
    embedder = Embedder(model_name, runtime="onnx", question_threads=1)
    with caplog.at_level(logging.WARNING, logger="bot.search.onnx_model"):
        embedder.warm_up()
        vectors = unit(embedder.encode_questions(QUESTIONS[:2]))
    assert embedder.onnx() is None
    assert "questions embedded by PyTorch" in caplog.text and "differ from PyTorch's" in caplog.text
    assert np.allclose(vectors, unit(Embedder(model_name).encode(QUESTIONS[:2])), atol=1e-6)


def test_without_warm_up_questions_use_pytorch(model_name, monkeypatch):
    """A one-off `ospo-bot ask` does not pay for the export."""
    monkeypatch.setattr(embedder_module, "_ONNX", {})
    embedder = Embedder(model_name, runtime="onnx", question_threads=1)
    embedder.encode_questions(QUESTIONS[:1])
    assert embedder_module._ONNX == {}


def test_the_question_thread_count_is_put_back(model_name):
    before = torch.get_num_threads()
    Embedder(model_name, runtime="torch", question_threads=1).encode_questions(QUESTIONS[:1])
    assert torch.get_num_threads() == before


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(torch.get_num_threads() < 2, reason="with one core torch never starts a thread team")
def test_questions_embedded_from_many_threads_leave_no_threads_behind(model_name):
    """In serve each listener thread may run a batch; OpenMP kept a worker for each that ran torch's
    pooling on more than one thread (~90 more threads under load). Long questions: a big enough batch."""
    embedder = Embedder(model_name, runtime="onnx", question_threads=1)
    embedder.warm_up()
    done, finish = threading.Barrier(6), threading.Event()

    def ask_and_stay() -> None:
        embedder.encode_questions([QUESTIONS[-1]] * 8)
        done.wait(60)
        finish.wait(60)

    callers = [threading.Thread(target=ask_and_stay) for _ in range(5)]
    before = os_threads()
    for caller in callers:
        caller.start()
    done.wait(60)
    during = os_threads()
    finish.set()
    for caller in callers:
        caller.join(60)
    # one thread each (and a spare for any other the process starts meanwhile); with a team, two each
    assert during - before < 2 * len(callers)
    # the count is put back: a new thread starts from the process's
    assert ThreadPoolExecutor(1).submit(torch.get_num_threads).result(60) >= 2


def test_settings_choose_the_runtime_and_refuse_others(monkeypatch):
    monkeypatch.setenv("OSPO_MODEL_RUNTIME", "torch")
    assert Embedder.for_settings(load_settings()).runtime == "torch"
    monkeypatch.setenv("OSPO_MODEL_RUNTIME", "tensorflow")
    with pytest.raises(ConfigError, match="OSPO_MODEL_RUNTIME"):
        load_settings()


def test_readme_names_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [field.alias for field in Settings.model_fields.values() if f"`{field.alias}`" not in readme] == []
