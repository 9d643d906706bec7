"""The assistant: retrieve → answer → converse → serve."""
