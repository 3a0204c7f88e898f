"""The wire format: flowql.proto and the code generated from it (scripts/generate_proto.py)."""
