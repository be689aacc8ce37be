"""Leerlingendossier core: domain rules, data access, access policy and audit. No Streamlit."""
