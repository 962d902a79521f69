"""LLM judges: what a judge sees of an episode, human labels, and (to come) compiled judge programs."""
