"""The migrations build the schema the models describe; the demo data loads once."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from casework import demo as demo_data
from casework.accounts.models import RoleAssignment, User
from casework.core.models import Case
from casework.funds.models import Fund
from casework.funds.operations import ledger_balance
from casework.search.models import include_name


def test_migrations_match_the_models(db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_demo_loads_once_with_one_account_per_role(demo, db):
    users = db.session.scalar(select(func.count()).select_from(User))
    again = demo_data.load()
    db.session.commit()
    assert not any(again.values())
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    names = {u.username for u in db.session.scalars(select(User))}
    expected = {"admin", "worker1", "worker2", "worker3", "leader1", "staff1", "fund1", "evaluator1", "evaluator2",
                "motions1", "handler1", "rep1", "rep2", "rep3"} | {f"committee{i}" for i in range(1, 6)}
    assert expected <= names
    roles = {r for (r,) in db.session.execute(select(RoleAssignment.role).distinct())}
    assert roles == {"worker", "representative", "group_leader", "union_staff", "committee", "fund_manager",
                     "evaluator", "motion_committee", "admin"}
    for user in db.session.scalars(select(User)):
        assert user.check_password("demo-password")


def test_demo_funds_agree_with_their_ledger(demo, db):
    for fund in db.session.scalars(select(Fund)):
        assert ledger_balance(fund) == (fund.balance, fund.reserved)
        assert fund.balance > 0


def test_the_demo_loader_makes_no_cases(demo, db):
    # The year of casework comes from demo_history, through `flask casework demo`; tests rely on its absence.
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
