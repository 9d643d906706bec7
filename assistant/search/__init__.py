"""Search: the hybrid retriever over one store (``retrieve``), the fusion of its dense and lexical branches
(``fusion``), and time as evidence — a period named in the question (``period``) and date filters (``timefilter``)."""
