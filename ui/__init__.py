"""Streamlit glue shared by the pages: the root connection, the signed-in user, widgets."""
