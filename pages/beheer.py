"""Beheer (beheerder only): staff accounts, roles, class assignments, passwords; backups."""

from datetime import datetime

import streamlit as st

from dossier import backup, pupils, users
from dossier.access import ROLE_LABELS, ROLES
from dossier.schoolyear import current_school_year
from ui.context import page_context

db, user = page_context("admin.users")
year = current_school_year()

st.title("Beheer")
st.caption("Accounts, rollen en klastoewijzingen. De beheerder ziet geen dossierinhoud.")

accounts = users.list_users(db, user)
classes = pupils.list_classes(db, user, year)
class_names = dict(zip(classes["id"], classes["name"], strict=True))

st.subheader("Accounts")
shown = accounts.assign(
    role=accounts["role"].map(ROLE_LABELS), active=accounts["active"].map({True: "ja", False: "nee"})
)
st.dataframe(
    shown[["username", "display_name", "email", "role", "active", "klassen"]].rename(
        columns={
            "username": "Aanmeldnaam",
            "display_name": "Naam",
            "email": "E-mail",
            "role": "Rol",
            "active": "Actief",
            "klassen": "Klassen",
        }
    ),
    hide_index=True,
)

new_tab, edit_tab = st.tabs(["Nieuw account", "Account wijzigen"])

with new_tab, st.form("new_account", clear_on_submit=False):
    name = st.text_input("Volledige naam", key="new_name")
    role = st.selectbox("Rol", ROLES, format_func=ROLE_LABELS.get, key="new_role")
    username = st.text_input("Aanmeldnaam (leeg: afgeleid van de naam)", key="new_username")
    email = st.text_input("E-mail (voor aanmelden met het schoolaccount)", key="new_email")
    chosen = st.multiselect(
        f"Klassen {year} (voor leerkrachten)",
        list(class_names),
        format_func=class_names.get,
        key="new_classes",
        placeholder="Kies…",
    )
    password = st.text_input("Startwachtwoord (leeg: een willekeurig wachtwoord)", type="password", key="new_password")
    if st.form_submit_button("Account aanmaken", type="primary"):
        initial = password or users.generate_password()
        try:
            users.create_user(
                db,
                user,
                display_name=name,
                role=role,
                password=initial,
                username=username or None,
                email=email or None,
                class_names=[class_names[c] for c in chosen],
                school_year=year,
            )
        except users.AccountError as exc:
            st.error(str(exc))
        else:
            st.success(f"Account voor {name} aangemaakt.")
            if not password:
                st.info(f"Tijdelijk wachtwoord (geef het veilig door, het wordt niet meer getoond): `{initial}`")

with edit_tab:
    if accounts.empty:
        st.info("Nog geen accounts.")
    else:
        labels = dict(zip(accounts["id"], accounts["display_name"] + " (" + accounts["username"] + ")", strict=True))
        target = st.selectbox("Account", list(labels), format_func=labels.get, key="edit_target")
        record = accounts.set_index("id").loc[target]
        current_classes = users.assigned_class_ids(db, int(target), year)
        with st.form("edit_account"):
            role = st.selectbox(
                "Rol", ROLES, index=ROLES.index(record["role"]), format_func=ROLE_LABELS.get, key="edit_role"
            )
            active = st.checkbox("Actief", value=bool(record["active"]), key="edit_active")
            email = st.text_input("E-mail", value=record["email"] or "", key="edit_email")
            chosen = st.multiselect(
                f"Klassen {year}",
                list(class_names),
                default=[c for c in current_classes if c in class_names],
                format_func=class_names.get,
                key="edit_classes",
                placeholder="Kies…",
            )
            new_password = st.text_input("Nieuw wachtwoord (leeg: ongewijzigd)", type="password", key="edit_pw")
            if st.form_submit_button("Wijzigingen bewaren", type="primary"):
                try:
                    if new_password:  # first, so a too-short password changes nothing
                        users.set_password(db, user, int(target), new_password)
                    # Keep assignments of other school years: only this year's classes are edited here.
                    other_years = [c for c in users.assigned_class_ids_all(db, int(target)) if c not in class_names]
                    users.update_user(
                        db,
                        user,
                        int(target),
                        role=role,
                        active=active,
                        email=email,
                        class_ids=[*other_years, *chosen],
                    )
                except users.AccountError as exc:
                    st.error(str(exc))
                else:
                    st.success("Wijzigingen bewaard.")

st.subheader("Back-up")
backup_dir = backup.default_backup_dir(db)
st.caption(
    f"Een volledige, consistente kopie van de databank in een nieuwe map onder `{backup_dir}` op de server, "
    "met een manifest (aantal rijen per tabel, controlesom). Kan terwijl de app draait. Terugzetten gebeurt met "
    "`python -m pipelines restore` terwijl de app gestopt is."
)
if st.button("Back-up maken", icon=":material/backup:", key="make_backup"):
    try:
        with st.spinner("Back-up maken…"):
            made = backup.make_backup(db, user, backup_dir)
    except backup.BackupError as exc:
        st.error(str(exc))
    else:
        rows = sum(made.manifest["tables"].values())
        st.success(f"Back-up gemaakt: `{made.file}` ({len(made.manifest['tables'])} tabellen, {rows} rijen).")
recent = backup.list_backups(backup_dir)[:5]
if recent:
    st.dataframe(
        [
            {
                "Gemaakt op": datetime.fromisoformat(m["created_at"]).strftime("%d/%m/%Y %H:%M"),
                "Door": m.get("created_by", ""),
                "Map": m["folder"],
                "Grootte (MB)": round(m.get("size", 0) / 1e6, 1),
            }
            for m in recent
        ],
        hide_index=True,
    )
