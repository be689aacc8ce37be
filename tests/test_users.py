import pytest

from dossier.access import AccessDenied
from dossier.users import (
    SYSTEM_USER,
    AccountError,
    authenticate,
    create_user,
    list_users,
    set_password,
    suggest_username,
    update_user,
    user_for_email,
)
from tests.factories import PASSWORD, make_school


@pytest.fixture
def school(db):
    return make_school(db)


def audit_rows(db, action):
    with db.cursor() as cur:
        return cur.execute(
            "SELECT user_name, role, detail FROM audit_log WHERE action = ? ORDER BY id", [action]
        ).fetchall()


def test_password_is_hashed_with_argon2(db, school):
    with db.cursor() as cur:
        stored = cur.execute("SELECT password_hash FROM staff_user WHERE username = 'zorg'").fetchone()[0]
    assert stored.startswith("$argon2") and PASSWORD not in stored


def test_sign_in_success_and_failure_are_audited(db, school):
    assert authenticate(db, "zorg", PASSWORD).role == "zorgteam"
    assert authenticate(db, "zorg", "fout-wachtwoord") is None
    assert authenticate(db, "bestaat-niet", PASSWORD) is None
    assert [r[0] for r in audit_rows(db, "sign-in")] == ["zorg"]
    assert [r[0] for r in audit_rows(db, "sign-in-failed")] == ["zorg", "bestaat-niet"]


def test_deactivated_account_cannot_sign_in(db, school):
    admin = authenticate(db, "beheer", PASSWORD)
    update_user(db, admin, school.users["clb"], role="clb", active=False, email=None, class_ids=[])
    assert authenticate(db, "clb", PASSWORD) is None


def test_only_beheerder_manages_accounts(db, school):
    director = authenticate(db, "directie", PASSWORD)
    with pytest.raises(AccessDenied):
        create_user(db, director, display_name="X Y", role="clb", password="abcdefgh1")
    with pytest.raises(AccessDenied):
        list_users(db, director)
    admin = authenticate(db, "beheer", PASSWORD)
    assert len(list_users(db, admin)) == 7


def test_create_user_validates(db, school):
    admin = authenticate(db, "beheer", PASSWORD)
    with pytest.raises(AccountError, match="minstens"):
        create_user(db, admin, display_name="Kort Wachtwoord", role="clb", password="kort")
    with pytest.raises(AccountError, match="bestaat al"):
        create_user(db, admin, display_name="Zorg", role="zorgteam", password="abcdefgh1", username="zorg")
    with pytest.raises(AccountError, match="Klas 'L9Z'"):
        create_user(db, admin, display_name="Juf Nieuw", role="leerkracht", password="abcdefgh1", class_names=["L9Z"])
    # Nothing half-written by the failures.
    assert len(list_users(db, admin)) == 7


def test_reset_password_and_roles(db, school):
    admin = authenticate(db, "beheer", PASSWORD)
    set_password(db, admin, school.users["zorg"], "nieuw-wachtwoord")
    assert authenticate(db, "zorg", PASSWORD) is None
    assert authenticate(db, "zorg", "nieuw-wachtwoord") is not None
    update_user(
        db,
        admin,
        school.users["juf.k3a"],
        role="leerkracht",
        active=True,
        email=None,
        class_ids=[school.classes["K3A"], school.classes["L1B"]],
    )
    teacher = authenticate(db, "juf.k3a", PASSWORD)
    assert teacher.class_ids == {school.classes["K3A"], school.classes["L1B"]}
    with pytest.raises(AccountError):
        update_user(db, admin, admin.id, role="directie", active=True, email=None, class_ids=[])


def test_email_seam_for_school_sign_in(db, school):
    admin = authenticate(db, "beheer", PASSWORD)
    update_user(db, admin, school.users["zorg"], role="zorgteam", active=True, email="Zorg@School.be", class_ids=[])
    assert user_for_email(db, "zorg@school.be").username == "zorg"
    assert user_for_email(db, "onbekend@school.be") is None
    assert audit_rows(db, "sign-in-failed")[-1][0] == "onbekend@school.be"


def test_suggest_username():
    assert suggest_username("Jules Çelik") == "jules.celik"
    assert suggest_username("  ") == "gebruiker"


def test_system_user_creates_accounts(db):
    uid = create_user(db, SYSTEM_USER, display_name="Eerste Beheerder", role="beheerder", password="abcdefgh1")
    assert uid > 0
    assert audit_rows(db, "account")[0][0] == "opdrachtregel"
