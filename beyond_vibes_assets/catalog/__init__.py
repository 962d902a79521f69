"""models.yaml and packs: loading and pydantic validation with file/entry/field/fix messages."""
