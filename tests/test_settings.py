"""Settings in groups: nested and flat names (env and keywords), precedence, copies,
errors that name the field and the variable, secrets, and no .env unless asked for."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from rag.core.runtime import SettingsError, load_settings
from rag.core.settings import FLAT_NAMES, RetrievalSettings, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No RAG_* or OPENAI_API_KEY from the caller, and a working folder of our own."""
    for name in list(os.environ):
        if name.upper().startswith("RAG_") or name.upper() == "OPENAI_API_KEY":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_flat_env_names_set_fields_in_their_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_TOP_K", "3")
    monkeypatch.setenv("RAG_LLM", "ollama")
    monkeypatch.setenv("RAG_LLM_MODEL", "llama3")
    monkeypatch.setenv("RAG_MAX_ANSWER_SENTENCES", "2")
    monkeypatch.setenv("RAG_USE_MMR", "false")
    monkeypatch.setenv("RAG_CHROMA_HEADERS", '{"Authorization": "Bearer t"}')
    monkeypatch.setenv("RAG_FEEDBACK_PATH", "fb/x.jsonl")
    settings = Settings()
    assert settings.retrieval.top_k == 3
    assert settings.retrieval.use_mmr is False
    assert settings.llm.backend == "ollama" and settings.llm.model == "llama3"
    assert settings.answer.max_sentences == 2
    assert settings.index.chroma_headers == {"Authorization": "Bearer t"}
    assert settings.app.feedback_path == Path("fb/x.jsonl")


def test_old_chunk_names_still_set_passage_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CHUNK_TOKENS", "200")
    monkeypatch.setenv("RAG_CHUNK_OVERLAP_TOKENS", "20")
    assert Settings().index.passage_tokens == 200
    assert Settings().index.passage_overlap_tokens == 20
    monkeypatch.delenv("RAG_CHUNK_TOKENS")
    monkeypatch.setenv("RAG_PASSAGE_TOKENS", "120")
    assert Settings().index.passage_tokens == 120
    assert Settings(chunk_tokens=300).index.passage_tokens == 300


def test_nested_env_names_and_nested_wins_over_flat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_RETRIEVAL__FETCH_K", "11")
    monkeypatch.setenv("RAG_LLM__MODEL", "m-nested")
    monkeypatch.setenv("RAG_LLM", "openai")  # the flat backend beside a nested group
    settings = Settings()
    assert settings.retrieval.fetch_k == 11
    assert settings.llm.model == "m-nested" and settings.llm.backend == "openai"
    monkeypatch.setenv("RAG_TOP_K", "3")
    monkeypatch.setenv("RAG_RETRIEVAL__TOP_K", "4")
    assert Settings().retrieval.top_k == 4


def test_keywords_flat_or_nested_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_TOP_K", "9")
    monkeypatch.setenv("RAG_LLM__MODEL", "from-env")
    settings = Settings(top_k=3, llm="ollama", abstain_threshold=0.2)
    assert settings.retrieval.top_k == 3
    assert settings.llm.backend == "ollama"
    assert settings.llm.model == "from-env"  # the rest of the group still comes from env
    assert settings.answer.abstain_threshold == 0.2
    nested = Settings(retrieval={"top_k": 2}, index={"embedding_model": "hashing"})
    assert nested.retrieval.top_k == 2 and nested.index.embedding_model == "hashing"
    assert Settings.model_validate({"top_k": 6}).retrieval.top_k == 6


def test_copies_take_flat_names_and_are_validated() -> None:
    base = Settings(top_k=3, embedding_model="hashing")
    copy = base.model_copy(update={"abstain_threshold": 0.1, "use_dense": False})
    assert copy.answer.abstain_threshold == 0.1 and copy.retrieval.use_dense is False
    assert copy.retrieval.top_k == 3 and copy.index.embedding_model == "hashing"
    assert base.answer.abstain_threshold != 0.1 and base.retrieval.use_dense is True
    with pytest.raises(ValidationError):
        base.model_copy(update={"top_k": 0})


def test_every_flat_name_reaches_a_field_and_every_field_has_one() -> None:
    settings = Settings()
    for name, (group, field) in FLAT_NAMES.items():
        assert hasattr(getattr(settings, group), field), name
    reached = set(FLAT_NAMES.values())
    for group in ("index", "retrieval", "answer", "llm", "app"):
        for field in type(getattr(settings, group)).model_fields:
            assert (group, field) in reached, f"{group}.{field} has no flat name"


def test_invalid_values_name_the_field_and_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_TOP_K", "0")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "retrieval.top_k" in message and "RAG_TOP_K" in message
    assert "greater than or equal to 1" in message
    monkeypatch.delenv("RAG_TOP_K")
    with pytest.raises(SettingsError, match="RAG_LLM_TIMEOUT_S") as timeout:
        load_settings(llm_timeout_s=-1)
    assert "llm.timeout_s (RAG_LLM_TIMEOUT_S)" in str(timeout.value)
    with pytest.raises(SettingsError, match="lower RAG_PASSAGE_OVERLAP_TOKENS"):
        load_settings(chunk_tokens=20)
    monkeypatch.setenv("RAG_CHROMA_HEADERS", "not json")
    with pytest.raises(SettingsError, match="RAG_CHROMA_HEADERS must be a JSON"):
        load_settings()
    monkeypatch.delenv("RAG_CHROMA_HEADERS")
    monkeypatch.setenv("RAG_INDEX__CHROMA_HEADERS", "not json")
    with pytest.raises(SettingsError, match=r"RAG_INDEX__.*must be a JSON object"):
        load_settings()


def test_dotenv_is_read_only_when_passed(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("RAG_TOP_K=8\nRAG_LLM=ollama\nRAG_RETRIEVAL__FETCH_K=12\n")
    plain = Settings()
    default_k = RetrievalSettings.model_fields["top_k"].default
    assert plain.retrieval.top_k == default_k != 8 and plain.llm.backend == "none"
    assert plain.retrieval.fetch_k == 40
    asked = Settings(_env_file=dotenv)  # type: ignore[call-arg]
    assert asked.retrieval.top_k == 8 and asked.llm.backend == "ollama"
    assert asked.retrieval.fetch_k == 12


def test_api_key_from_either_variable_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-plain-123")
    settings = Settings()
    assert settings.llm.openai_api_key is not None
    assert settings.llm.openai_api_key.get_secret_value() == "sk-plain-123"
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert "sk-plain-123" not in shown
    monkeypatch.setenv("RAG_OPENAI_API_KEY", "sk-rag-456")
    key = Settings().llm.openai_api_key
    assert key is not None and key.get_secret_value() == "sk-rag-456"
    copy = Settings().model_copy(update={"top_k": 2}).llm.openai_api_key
    assert copy is not None and copy.get_secret_value() == "sk-rag-456"
