"""Batch work and the command line (`python -m pipelines ...`). No Streamlit."""
