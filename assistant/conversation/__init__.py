"""Conversation: the turns of one chat (``session``: each question asked with what came before) and the
rewriting of a follow-up into a question that stands alone (``followup``)."""
