"""What users hand in: questionnaire answers, events and the roster, read as YAML with line numbers and checked."""
