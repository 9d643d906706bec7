"""Answering: what a user gets back (``answer``), the sentences quoted and the question's analysis (``compose``,
``question``), the reader that finds the answer span and says whether the passages state it (``reading``), the
numbering of the sources (``citations``) and what a cited source shows besides its passages (``citation_extras``).
Whether to answer with the earlier designs is ``assistant/answerability/``."""
