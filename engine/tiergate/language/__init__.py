"""The policy language: grammar, parser, syntax tree, compiler and formatter."""
