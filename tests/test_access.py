"""The role matrix and scoped queries: a user never receives a pupil outside their scope."""

import pandas as pd
import pytest

from dossier import audit, pupils
from dossier.access import POLICY, ROLES, AccessDenied, User, can, matrix_rows, require
from dossier.users import authenticate
from tests.factories import PASSWORD, make_school


@pytest.fixture
def school(db):
    return make_school(db)


def sign_in(db, username):
    user = authenticate(db, username, PASSWORD)
    assert user is not None
    return user


def test_matrix_matches_domain_brief_for_key_cells():
    assert can(User(1, "t", "T", "leerkracht"), "registrations.team.write")
    assert not can(User(1, "t", "T", "leerkracht"), "registrations.zorgteam.read")
    assert not can(User(1, "c", "C", "clb"), "registrations.team.write")
    assert can(User(1, "c", "C", "clb"), "registrations.zorgteam.read")
    assert not can(User(1, "c", "C", "clb"), "registrations.directie.read")
    assert not can(User(1, "b", "B", "beheerder"), "dossier.read")
    assert can(User(1, "b", "B", "beheerder"), "admin.users")
    assert not can(User(1, "d", "D", "directie"), "admin.users")
    assert len(matrix_rows()) == len(POLICY)


@pytest.mark.parametrize("role", ROLES)
def test_every_permission_is_allowed_or_refused_with_dutch_message(role):
    user = User(1, "x", "X", role)
    for permission, grants in POLICY.items():
        if role in grants:
            assert require(user, permission) == grants[role]
        else:
            with pytest.raises(AccessDenied, match="geen toegang"):
                require(user, permission)


def test_teacher_sees_only_own_class(db, school):
    teacher = sign_in(db, "juf.l1a")
    assert teacher.class_ids == frozenset({school.classes["L1A"]})
    listed = pupils.list_pupils(db, teacher, school.year)
    assert set(listed["class_name"]) == {"L1A"}
    assert len(listed) == 3
    classes = pupils.list_classes(db, teacher, school.year)
    assert list(classes["name"]) == ["L1A"]


def test_teacher_cannot_reach_other_pupil_by_crafted_id(db, school):
    teacher = sign_in(db, "juf.l1a")
    other = school.pupils["30007"]  # in L1B
    with pytest.raises(AccessDenied):
        pupils.get_pupil(db, teacher, other)
    with pytest.raises(AccessDenied):
        pupils.class_history(db, teacher, other)
    # Filtering on another class id returns nothing rather than that class.
    assert pupils.list_pupils(db, teacher, school.year, class_id=school.classes["L1B"]).empty
    # Not a leak through search either.
    assert pupils.list_pupils(db, teacher, school.year, search="Desmet").empty


def test_teacher_sees_own_pupils_history(db, school):
    teacher = sign_in(db, "juf.l1a")
    history = pupils.class_history(db, teacher, school.pupils["30004"])
    assert list(history["class_name"]) == ["K3A", "L1A"]


@pytest.mark.parametrize("username", ["zorg", "directie", "clb"])
def test_school_roles_see_all_pupils(db, school, username):
    user = sign_in(db, username)
    assert len(pupils.list_pupils(db, user, school.year)) == 9
    assert pupils.get_pupil(db, user, school.pupils["30007"])["pupil_number"] == "30007"


def test_beheerder_gets_names_and_classes_only(db, school):
    admin = sign_in(db, "beheer")
    listed = pupils.list_pupils(db, admin, school.year)
    assert len(listed) == 9
    assert set(listed.columns) == {"id", "first_name", "last_name", "class_name", "class_id"}
    record = pupils.get_pupil(db, admin, school.pupils["30001"])
    assert set(record) == {"id", "first_name", "last_name"}


def test_search_is_accent_and_case_insensitive(db, school):
    director = sign_in(db, "directie")
    found = pupils.list_pupils(db, director, school.year, search="celik")
    assert list(found["last_name"]) == ["Çelik"]
    assert list(pupils.list_pupils(db, director, school.year, search="3000")["pupil_number"].str[:4].unique()) == [
        "3000"
    ]
    assert list(pupils.list_pupils(db, director, school.year, search="amrani amira")["first_name"]) == ["Amira"]
    assert list(pupils.list_pupils(db, director, school.year, search="zzz")["first_name"]) == []


def test_school_counts(db, school):
    director = sign_in(db, "directie")
    counts = pupils.school_counts(db, director, school.year)
    assert counts == {"classes": 3, "pupils": 9, "levels": {"kleuter": 3, "lager": 6}}


def test_teacher_without_classes_sees_nothing(db, school):
    lonely = User(999, "x", "X", "leerkracht")
    assert pupils.list_pupils(db, lonely, school.year).empty
    assert pupils.list_classes(db, lonely, school.year).empty


def test_audit_rejects_unknown_action(db):
    with pytest.raises(ValueError):
        db.write(lambda cur: audit.record(cur, None, "peek"))
    with db.cursor() as cur:
        assert pd.isna(cur.execute("SELECT max(id) FROM audit_log").fetchone()[0])


def test_readme_shows_the_policy_as_enforced():
    from pathlib import Path

    from dossier.access import matrix_markdown

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    assert matrix_markdown() in readme
