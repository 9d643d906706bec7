"""Veille's core: configuration, the store (the only code that speaks SQL to it), the models, French text and
dates, filters, the one user-facing error type. It imports no other package of the project."""
