"""Chinese word segmentation for search: jieba's search-mode cut, loaded once and on first use."""

from __future__ import annotations

import logging
import threading
from functools import lru_cache

_lock = threading.Lock()
_tokenizer = None


def _jieba():
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()  # ~0.5 s once per process (a cached prefix dictionary)
                _tokenizer = tokenizer
    return _tokenizer


@lru_cache(maxsize=4096)
def words(run: str) -> tuple[str, ...]:
    """The words of one run of Chinese characters, longer words and the shorter ones inside them
    (jieba's search mode: 连衣裙 gives 连衣, 衣裙 and 连衣裙)."""
    return tuple(w for w in _jieba().cut_for_search(run, HMM=False) if w.strip())
