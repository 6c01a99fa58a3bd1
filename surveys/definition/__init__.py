"""The questionnaire definition format: validation, relevance rules, answers."""
