"""Chinese words: jieba, loaded once per process and only when first needed (it reads a large dictionary)."""
from __future__ import annotations

import logging
import re
import threading

_lock = threading.Lock()
_jieba = None
WORD = re.compile(r"^[\w\u4e00-\u9fff]+$")


def segmenter():
    """jieba, initialised once per process (it loads its dictionary and logs to stderr otherwise)."""
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import jieba
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba
