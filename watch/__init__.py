"""The watch job: what runs on its own over the corpus for the advisors, built on the assistant — saved watches
and their news (``watches``, ``news``), the briefing on a topic (``brief``), the periodic bulletin, its
summaries and its Markdown, e-mail HTML and Word renderings (``bulletin``, ``bulletin_summary``,
``bulletin_render``), and the schedule that runs collection, watches and bulletins (``schedule``).

May import the core (``veille``), ``ingestion``, ``accounts`` and ``assistant``; the front ends (``cli``,
``webui``) and ``eval`` import it, ``assistant`` never does."""
