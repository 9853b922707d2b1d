"""Tools for policy authors: the YAML test cases of a policy and the impact of a policy change."""
