"""The optional generative path: the OpenAI-compatible client (``llm``), the prompts (``prompts``), the generator
that writes a cited answer from the passages (``generate``) and the check of each of its citations (``verify``)."""
