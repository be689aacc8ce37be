"""The sign-in page: the school account (st.login) when configured, local accounts when allowed;
in demo mode it lists the demo accounts."""

import json

import pandas as pd
import streamlit as st

from dossier.access import ROLE_LABELS
from dossier.db import Database, get_setting
from ui import session


def render_sign_in(db: Database) -> None:
    demo = get_setting(db, "demo_mode") == "1"

    st.title("Leerlingendossier")
    st.caption(get_setting(db, "school_name", "") or "Aanmelden met je schoolaccount")

    notice = session.pop_notice()
    if notice:
        st.info(notice)

    providers = session.identity_providers()
    refusal = session.identity_refusal()
    if refusal:
        st.error(refusal)
        if st.button("Afmelden bij je schoolaccount", icon=":material/logout:", key="identity_sign_out"):
            session.end_identity()
    for provider in providers:
        if st.button(provider.label, type="primary", icon=":material/login:", key=f"login_{provider.name or 'school'}"):
            st.login(provider.name)

    if session.local_sign_in_allowed(demo):
        if providers:
            st.caption("Of met een lokaal account van het leerlingendossier:")
        _local_form(db)

    if demo:
        st.divider()
        st.subheader("Demoschool")
        st.write(
            "Dit is een **demo** met fictieve leerlingen. Meld je aan met een van deze accounts; "
            "het wachtwoord is voor allemaal `demo1234`."
        )
        accounts = json.loads(get_setting(db, "demo_accounts", "[]") or "[]")
        if accounts:
            table = pd.DataFrame(accounts)
            table["role"] = table["role"].map(ROLE_LABELS).fillna(table["role"])
            table = table.rename(
                columns={"username": "Aanmeldnaam", "name": "Naam", "role": "Rol", "classes": "Klassen"}
            )
            if "Klassen" in table:
                table["Klassen"] = table["Klassen"].map(lambda v: ", ".join(v) if isinstance(v, list) else (v or ""))
            st.dataframe(table, hide_index=True, width="stretch")


def _local_form(db: Database) -> None:
    with st.form("sign_in_form"):
        username = st.text_input("Aanmeldnaam", key="sign_in_username")
        password = st.text_input("Wachtwoord", type="password", key="sign_in_password")
        submitted = st.form_submit_button("Aanmelden", type="primary")

    if submitted:
        if session.sign_in(db, username, password) is not None:
            st.rerun()
        st.error("Aanmelden mislukt: controleer je aanmeldnaam en wachtwoord.")
