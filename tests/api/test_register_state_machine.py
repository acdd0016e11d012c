"""A hypothesis state machine over the share register and the ledger (issue 3).

Each example opens one fresh venture in a database cloned from the demo county and runs up to
ten steps drawn from: subscribe, allocate (collective → household), transfer and redeem through
POST /ventures/{id}/share-movements; subsidies through POST /ventures/{id}/subsidies; a reversal of
a posted entry with db.ledger.reverse_entry on a direct connection; a replay of an earlier request
under its Idempotency-Key, unchanged (same answer, no new effect) or changed (422, no effect).

The model is the list of accepted movements in the order they were accepted, plus the journal
lines each accepted request should have written. After every step:
- every entry balances, all lines sum to zero and account_balances agrees with the lines;
- the venture's accounts hold exactly what the model's entries and reversals put there;
- the register as of every movement date so far, 2025-12-31 and today equals the model replayed
  with holdings_as_of, has no negative holding, and its totals match Σ subscribed − Σ redeemed;
- every member account's capital and subsidy share equal the model.

Dates come from twelve days of 2025 so same-day and back-dated movements collide often.

The test is synchronous (hypothesis drives the steps) and runs the app in an event loop of its
own, the way conftest's _api does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import asyncpg
import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from db import ledger
from db.pool import init_connection
from service.core.clock import CHINA_TZ
from service.core.money import round_half_up_div
from service.ledger import chart
from service.ledger.rules import AlreadyReversed, LedgerError
from service.ventures.rules import NegativeHoldingError, ShareMovement, holdings_as_of
from tests.conftest import _api

COUNTY = "621223000000"
VILLAGE = "621223100201"
HOUSEHOLDS = ("621223100201-001", "621223100201-002")
DATES = tuple(
    dt.date(2025, m, d)
    for m, d in (
        (1, 1),
        (1, 15),
        (2, 28),
        (3, 31),
        (4, 15),
        (5, 31),
        (6, 30),
        (7, 1),
        (8, 15),
        (9, 30),
        (11, 11),
        (12, 31),
    )
)
YEAR_END = dt.date(2025, 12, 31)
SETTINGS = settings(
    max_examples=200,
    deadline=None,
    stateful_step_count=10,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@dataclass
class Harness:
    """What every example shares: the loop, the in-process client and a direct connection."""

    loop: asyncio.AbstractEventLoop
    api: object
    conn: asyncpg.Connection
    auth: dict[str, str]
    auditor: dict[str, str]
    households: dict[str, str]  # household_no → id
    seen: Counter = field(default_factory=Counter)  # outcomes, to show the run was not vacuous

    def run(self, coro):
        return self.loop.run_until_complete(coro)


@dataclass
class Sent:
    """A request sent under an Idempotency-Key and the answer it got."""

    url: str
    body: dict
    key: str
    status: int
    answer: dict


@dataclass
class Entry:
    """A journal entry the model expects, as account code → amount."""

    id: str
    lines: dict[str, int]
    is_reversal: bool = False


@dataclass
class Model:
    movements: list[ShareMovement] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    reversed: set[str] = field(default_factory=set)
    subsidy: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sent: list[Sent] = field(default_factory=list)


def replay(movements: list[ShareMovement]) -> str | None:
    """None if the movements replay cleanly, else the kind of refusal the domain raises."""
    try:
        holdings_as_of(movements, dt.date.max)
    except NegativeHoldingError:
        return "negative"
    except ValueError:
        return "invalid"
    return None


def equal_split(amount: int, member_ids: list[str]) -> dict[str, int]:
    """Equal shares to the fen, written out independently of service.core.allocation: each gets
    the floor, the odd fen go one each to the smallest ids."""
    base, odd = divmod(amount, len(member_ids))
    return {m: base + (1 if i < odd else 0) for i, m in enumerate(sorted(member_ids))}


class RegisterMachine(RuleBasedStateMachine):
    harness: Harness  # set by the test before the machine runs

    def run(self, coro):
        return self.harness.run(coro)

    # --- setup -------------------------------------------------------------------------------

    @initialize(
        model=st.sampled_from(["cooperative", "cooperative", "branch_company", "enterprise"]),
        day=st.sampled_from(DATES[:4]),
        shares=st.integers(1, 1000),
        price=st.sampled_from([0, 100, 1234]),
    )
    def open_venture(self, model, day, shares, price):
        """A venture whose collective subscribes its original shares, so that steps have
        something to allocate, transfer and redeem from the start."""
        self.model_kind = model
        self.m = Model()
        self.swept: tuple | None = None
        self.run(self._open(model))
        self._movement(
            {
                "kind": "subscribe",
                "share_class": "ordinary",
                "shares": shares,
                "capital_fen": shares * price,
                "effective_date": day.isoformat(),
                "to_member_id": self.collective,
            },
            None,
        )

    async def _open(self, model):
        api = self.harness.api
        r = await api.client.post(
            "/ventures",
            headers=self.harness.auth,
            json={
                "name": "状态机合作社",
                "model": model,
                "village_code": VILLAGE,
                "registered_capital_fen": 100_000_000,
                "charter": {"patronage_bp": 7000, "reserve_bp": 1000},
            },
        )
        assert r.status_code == 201, r.text
        self.vid = r.json()["id"]
        # member id → kind, in creation order: draws index into it, so it must not depend on the ids.
        self.members: dict[str, str] = {}
        bodies = [{"kind": "collective", "name": "南沿沟村集体"}, {"kind": "person", "name": "大户张三"}]
        for no, household_id in self.harness.households.items():
            bodies.append({"kind": "household", "name": f"农户{no[-3:]}", "household_id": household_id})
        for body in bodies:
            r = await api.client.post(f"/ventures/{self.vid}/members", headers=self.harness.auth, json=body)
            assert r.status_code == 201, r.text
            self.members[r.json()["id"]] = body["kind"]
        self.collective = next(m for m, k in self.members.items() if k == "collective")
        self.households = [m for m, k in self.members.items() if k == "household"]

    # --- helpers -----------------------------------------------------------------------------

    async def _effects(self) -> tuple:
        """Counts that any accepted request would change."""
        row = await self.harness.conn.fetchrow(
            """SELECT (SELECT count(*) FROM journal_entries) AS entries,
                      (SELECT count(*) FROM audit_log) AS audit,
                      (SELECT count(*) FROM share_movements WHERE venture_id = $1) AS movements,
                      (SELECT count(*) FROM subsidies WHERE venture_id = $1) AS subsidies,
                      (SELECT count(*) FROM member_account_movements WHERE venture_id = $1) AS accounts""",
            uuid.UUID(self.vid),
        )
        return tuple(row)

    async def _post(self, url: str, body: dict, key: str | None):
        headers = dict(self.harness.auth)
        if key:
            headers["Idempotency-Key"] = key
        r = await self.harness.api.client.post(url, json=body, headers=headers)
        assert r.status_code < 500, r.text
        if key:
            self.m.sent.append(Sent(url, body, key, r.status_code, r.json()))
        return r

    def _key(self, data) -> str | None:
        return f"sm-{uuid.uuid4().hex}" if data.draw(st.booleans(), label="with key") else None

    def _movement(self, body: dict, key: str | None) -> None:
        candidate = ShareMovement(
            body["kind"],
            body.get("from_member_id"),
            body.get("to_member_id"),
            body["share_class"],
            body["shares"],
            body["capital_fen"],
            dt.date.fromisoformat(body["effective_date"]),
        )
        refusal = replay([*self.m.movements, candidate])
        url = f"/ventures/{self.vid}/share-movements"
        before = self.run(self._effects())
        r = self.run(self._post(url, body, key))
        self.harness.seen[f"{body['kind']} {'accepted' if r.status_code == 201 else 'refused'}"] += 1
        if r.status_code == 201:
            assert refusal is None, f"accepted a movement the model refuses ({refusal}): {body}"
            self.m.movements.append(candidate)
            out = r.json()
            capital = body["capital_fen"]
            if body["kind"] in ("subscribe", "redeem") and capital:
                sign = 1 if body["kind"] == "subscribe" else -1
                assert out["entry_id"], out
                self.m.entries.append(
                    Entry(
                        out["entry_id"],
                        {
                            chart.BANK_CODE[self.model_kind]: sign * capital,
                            chart.CAPITAL_CODE[self.model_kind]: -sign * capital,
                        },
                    )
                )
            else:
                assert out["entry_id"] is None, out
        else:
            assert r.status_code == 422, r.text
            assert refusal is not None, f"refused a movement the model accepts: {body} → {r.text}"

            assert r.json()["errors"][0]["field"] in ("shares", "capital_fen"), r.text
            assert self.run(self._effects()) == before

    def _take(self, data, kind: str, source: str | None, target: str | None, share_class: str) -> None:
        """A movement out of a holding. Mostly aimed at a holding that exists and sized against the
        least it holds from that day on, so that many are accepted; otherwise anywhere, any size."""
        source_class = "ordinary" if kind == "allocate" else share_class
        by_day = {d: holdings_as_of(self.m.movements, d) for d in DATES}
        sources = [source] if source else list(self.members)
        if target is not None:
            sources = [m for m in sources if m != target]
        held = [(m, d) for m in sources for d in DATES if (m, source_class) in by_day[d]]
        if held and data.draw(st.integers(0, 3), label="aim") > 0:
            source, day = data.draw(st.sampled_from(held), label="holding")
        else:
            source = source or data.draw(st.sampled_from(sources), label="from")
            day = data.draw(st.sampled_from(DATES), label="date")
        if target is None and kind != "redeem":
            target = data.draw(st.sampled_from([m for m in self.members if m != source]), label="to")
        key = (source, source_class)
        holding = by_day[day].get(key)
        have, capital_held = (holding.shares, holding.capital_fen) if holding else (0, 0)
        # Movements on later days draw on the same holding: only this much can leave today.
        spare = min(by_day[d][key].shares if key in by_day[d] else 0 for d in DATES if d >= day)
        size = data.draw(st.sampled_from(["all", "spare", "part", "over", "any"]), label="size")
        if size == "all":
            shares = max(have, 1)
        elif size == "spare":
            shares = max(spare, 1)
        elif size == "over":
            shares = spare + 1
        elif size == "part":
            shares = data.draw(st.integers(1, max(spare, 1)), label="part")
        else:
            shares = data.draw(st.integers(1, 400), label="shares")
        how = data.draw(st.sampled_from(["pro_rata", "pro_rata", "whole", "zero", "any"]), label="capital")
        if how == "pro_rata":
            capital = round_half_up_div(capital_held * shares, have) if have else 0
        elif how == "whole":
            capital = capital_held
        elif how == "zero":
            capital = 0
        else:
            capital = data.draw(st.integers(0, capital_held + 1000), label="capital_fen")
        body = {
            "kind": kind,
            "share_class": share_class,
            "shares": shares,
            "capital_fen": capital,
            "effective_date": day.isoformat(),
            "from_member_id": source,
        }
        if target is not None:
            body["to_member_id"] = target
        self._movement(body, self._key(data))

    # --- rules -------------------------------------------------------------------------------

    @rule(data=st.data())
    def subscribe(self, data):
        # The collective twice as likely: allocations draw on its ordinary shares.
        target = data.draw(st.sampled_from([self.collective, *self.members]), label="to")
        shares = data.draw(st.integers(1, 500), label="shares")
        price = data.draw(st.sampled_from([0, 1, 100, 1000, 1234]), label="price")
        self._movement(
            {
                "kind": "subscribe",
                "share_class": data.draw(st.sampled_from(["ordinary", "poverty"])),
                "shares": shares,
                "capital_fen": shares * price,
                "effective_date": data.draw(st.sampled_from(DATES)).isoformat(),
                "to_member_id": target,
            },
            self._key(data),
        )

    @rule(data=st.data())
    def allocate(self, data):
        target = data.draw(st.sampled_from(self.households), label="to")
        share_class = data.draw(st.sampled_from(["poverty", "poverty", "ordinary"]), label="class")
        self._take(data, "allocate", self.collective, target, share_class)

    @rule(data=st.data())
    def transfer(self, data):
        self._take(data, "transfer", None, None, data.draw(st.sampled_from(["ordinary", "poverty"])))

    @rule(data=st.data())
    def redeem(self, data):
        self._take(data, "redeem", None, None, data.draw(st.sampled_from(["ordinary", "poverty"])))

    @rule(data=st.data(), amount=st.integers(1, 100_000), day=st.sampled_from(DATES))
    def post_subsidy(self, data, amount, day):
        body = {"amount_fen": amount, "source": "省级财政专项", "received_on": day.isoformat()}
        before = self.run(self._effects())
        r = self.run(self._post(f"/ventures/{self.vid}/subsidies", body, self._key(data)))
        if self.model_kind != "cooperative":
            assert r.status_code == 422, r.text
            assert self.run(self._effects()) == before
            return
        assert r.status_code == 201, r.text
        out = r.json()
        expected = equal_split(amount, list(self.members))
        assert out["shares"] == expected
        for m, n in expected.items():
            self.m.subsidy[m] += n
        self.m.entries.append(Entry(out["entry_id"], {"102": amount, "311": -amount}))

    @precondition(lambda self: self.m.entries)
    @rule(data=st.data(), day=st.sampled_from(DATES))
    def reverse(self, data, day):
        entry = data.draw(st.sampled_from(self.m.entries), label="entry")
        outcome = self.run(self._reverse(entry.id, day))
        self.harness.seen[f"reverse {outcome if isinstance(outcome, str) else 'done'}"] += 1
        if entry.is_reversal:
            assert outcome == "refused", "a reversal was itself reversed"
            return
        if entry.id in self.m.reversed:
            assert outcome == "already", f"entry {entry.id} reversed twice"
            return
        assert isinstance(outcome, uuid.UUID), outcome
        self.m.reversed.add(entry.id)
        self.m.entries.append(Entry(str(outcome), {c: -a for c, a in entry.lines.items()}, is_reversal=True))
        # A second reversal of the same entry, straight away, must be refused and change nothing.
        assert self.run(self._reverse(entry.id, day)) == "already"

    async def _reverse(self, entry_id: str, day: dt.date):
        conn = self.harness.conn
        lines = await conn.fetchval("SELECT count(*) FROM journal_lines")
        try:
            async with conn.transaction():
                return await ledger.reverse_entry(conn, COUNTY, uuid.UUID(entry_id), memo="冲销", posted_on=day)
        except AlreadyReversed:
            outcome = "already"
        except LedgerError:
            outcome = "refused"
        assert await conn.fetchval("SELECT count(*) FROM journal_lines") == lines
        return outcome

    @precondition(lambda self: self.m.sent)
    @rule(data=st.data())
    def replay_same(self, data):
        sent = data.draw(st.sampled_from(self.m.sent), label="sent")
        before = self.run(self._effects())
        headers = {**self.harness.auth, "Idempotency-Key": sent.key}
        r = self.run(self.harness.api.client.post(sent.url, json=sent.body, headers=headers))
        self.harness.seen[f"replay {sent.status}"] += 1
        assert r.status_code == sent.status, r.text
        assert r.json() == sent.answer
        assert r.headers.get("idempotent-replayed") == "true"
        assert self.run(self._effects()) == before

    @precondition(lambda self: self.m.sent)
    @rule(data=st.data())
    def replay_changed(self, data):
        sent = data.draw(st.sampled_from(self.m.sent), label="sent")
        how = data.draw(st.sampled_from(["amount", "date", "other_route"]), label="change")
        url, body = sent.url, dict(sent.body)
        if how == "amount":
            name = "shares" if "shares" in body else "amount_fen"
            body[name] += 1
        elif how == "date":
            name = "effective_date" if "effective_date" in body else "received_on"
            body[name] = "2025-06-01" if body[name] != "2025-06-01" else "2025-06-02"
        elif url.endswith("/subsidies"):
            url, body = (
                f"/ventures/{self.vid}/share-movements",
                {
                    "kind": "subscribe",
                    "share_class": "ordinary",
                    "shares": 1,
                    "capital_fen": 1,
                    "effective_date": "2025-01-01",
                    "to_member_id": self.collective,
                },
            )
        else:
            url, body = (
                f"/ventures/{self.vid}/subsidies",
                {"amount_fen": 1, "source": "补助", "received_on": "2025-01-01"},
            )
        before = self.run(self._effects())
        headers = {**self.harness.auth, "Idempotency-Key": sent.key}
        r = self.run(self.harness.api.client.post(url, json=body, headers=headers))
        assert r.status_code == 422, r.text
        assert r.json()["type"].endswith("idempotency-key-reused"), r.text
        assert "idempotent-replayed" not in r.headers
        assert self.run(self._effects()) == before

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def books_and_register_agree(self):
        self.run(self._check())

    async def _check(self):
        conn = self.harness.conn
        books = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM (
                          SELECT e.id FROM journal_entries e
                          LEFT JOIN journal_lines l ON l.county_code = e.county_code AND l.entry_id = e.id
                          GROUP BY e.county_code, e.id
                          HAVING coalesce(sum(l.amount_fen), 0) <> 0 OR count(l.*) < 2) u) AS unbalanced,
                      (SELECT coalesce(sum(amount_fen), 0) FROM journal_lines) AS lines_total,
                      (SELECT coalesce(sum(balance_fen), 0) FROM account_balances) AS balances_total,
                      (SELECT count(*) FROM account_balances b FULL JOIN (
                          SELECT county_code, account_id, sum(amount_fen) AS total FROM journal_lines GROUP BY 1, 2) s
                        ON s.county_code = b.county_code AND s.account_id = b.account_id
                       WHERE coalesce(b.balance_fen, 0) <> coalesce(s.total, 0)) AS disagreeing"""
        )
        assert dict(books) == {"unbalanced": 0, "lines_total": 0, "balances_total": 0, "disagreeing": 0}, dict(books)

        expected_balances: dict[str, int] = defaultdict(int)
        for entry in self.m.entries:
            for code, amount in entry.lines.items():
                expected_balances[code] += amount
        rows = await conn.fetch(
            """SELECT a.code, coalesce(b.balance_fen, 0) AS balance FROM accounts a
               LEFT JOIN account_balances b ON b.county_code = a.county_code AND b.account_id = a.id
               WHERE a.owner_type = 'venture' AND a.owner_id = $1""",
            self.vid,
        )
        assert {r["code"]: r["balance"] for r in rows if r["balance"]} == {
            c: a for c, a in expected_balances.items() if a
        }

        # The register and the member accounts derive only from share_movements and
        # member_account_movements, both append-only: when their counts have not moved since the
        # last full sweep nothing they show can have changed, and the year end alone is re-read.
        effects = (await self._effects())[2:]  # this venture's movements, subsidies, account movements
        full = effects != self.swept
        days = sorted({m.effective_date for m in self.m.movements} | {YEAR_END}) if full else [YEAR_END]
        client, auth = self.harness.api.client, self.harness.auth
        base = f"/ventures/{self.vid}"
        registers = await asyncio.gather(
            *(client.get(f"{base}/register", params={"as_of": d.isoformat()}, headers=auth) for d in days)
        )
        for day, r in zip(days, registers, strict=True):
            assert r.status_code == 200, r.text
            reg = r.json()
            got = {(i["member_id"], i["share_class"]): (i["shares"], i["capital_fen"]) for i in reg["items"]}
            assert all(s > 0 and c >= 0 for s, c in got.values()), got
            expected = {
                k: (h.shares, h.capital_fen) for k, h in holdings_as_of(self.m.movements, day).items() if h.shares > 0
            }
            assert got == expected, f"register as of {day}"
            # Independently of the replay: shares only appear by subscription and leave by redemption.
            upto = [m for m in self.m.movements if m.effective_date <= day]
            issued = sum(m.shares for m in upto if m.kind == "subscribe") - sum(
                m.shares for m in upto if m.kind == "redeem"
            )
            paid_in = sum(m.capital_fen for m in upto if m.kind == "subscribe") - sum(
                m.capital_fen for m in upto if m.kind == "redeem"
            )
            assert (reg["total_shares"], reg["total_capital_fen"]) == (issued, paid_in), f"totals as of {day}"
        if full:
            await self._check_accounts()
        self.swept = effects

    async def _check_accounts(self):
        client, auth = self.harness.api.client, self.harness.auth
        base = f"/ventures/{self.vid}"
        accounts = await asyncio.gather(
            *(client.get(f"{base}/members/{m}/account", params={"year": 2025}, headers=auth) for m in self.members)
        )
        at_year_end = holdings_as_of(self.m.movements, YEAR_END)
        for member, r in zip(self.members, accounts, strict=True):
            assert r.status_code == 200, r.text
            account = r.json()
            capital = sum(h.capital_fen for (m, _), h in at_year_end.items() if m == member)
            if self.model_kind != "cooperative":
                capital = 0  # only a cooperative keeps 成员账户
            assert account["capital_fen"] == capital, f"member {self.members[member]} capital"
            assert account["subsidy_share_fen"] == self.m.subsidy.get(member, 0)

    def teardown(self):
        if not hasattr(self, "vid"):
            return
        self.run(self._finish())

    async def _finish(self):
        """The register with no as_of is today's, after every 2025 date; verify-ledger agrees."""
        client = self.harness.api.client
        r = await client.get(f"/ventures/{self.vid}/register", headers=self.harness.auth)
        assert r.status_code == 200, r.text
        got = {(i["member_id"], i["share_class"]): (i["shares"], i["capital_fen"]) for i in r.json()["items"]}
        today = dt.datetime.now(CHINA_TZ).date()
        assert got == {
            k: (h.shares, h.capital_fen) for k, h in holdings_as_of(self.m.movements, today).items() if h.shares > 0
        }
        r = await client.get("/ledger/verify", headers=self.harness.auditor)
        assert r.status_code == 200 and r.json()["ok"], r.text


async def _fast_commits(database_url: str) -> None:
    """This throwaway clone need not wait for its WAL to reach disk: thousands of small commits
    otherwise spend most of the test's time in fsync. Set before the app opens its pool."""
    conn = await asyncpg.connect(database_url)
    try:
        name = await conn.fetchval("SELECT current_database()")
        await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await conn.close()


def test_register_and_ledger_state_machine(demo_db):
    loop = asyncio.new_event_loop()
    loop.run_until_complete(_fast_commits(demo_db))
    apis = _api(demo_db)
    conn = None
    try:
        api = loop.run_until_complete(apis.__anext__())

        async def prepare():
            c = await asyncpg.connect(demo_db)
            await init_connection(c)
            households = {no: await api.household_id(no) for no in HOUSEHOLDS}
            return c, await api.login("kuaiji"), await api.login("shenji"), households

        conn, auth, auditor, households = loop.run_until_complete(prepare())
        RegisterMachine.harness = Harness(loop, api, conn, auth, auditor, households)
        run_state_machine_as_test(RegisterMachine, settings=SETTINGS)
        seen = RegisterMachine.harness.seen
        print(dict(sorted(seen.items())))
        # Every kind of step, accepted and refused, was exercised.
        for outcome in (
            "subscribe accepted",
            "allocate accepted",
            "transfer accepted",
            "redeem accepted",
            "allocate refused",
            "transfer refused",
            "redeem refused",
            "reverse done",
            "reverse already",
            "replay 201",
            "replay 422",
        ):
            assert seen[outcome] > 0, (outcome, seen)
    finally:
        if conn is not None:
            loop.run_until_complete(conn.close())
        loop.run_until_complete(apis.aclose())
        loop.close()
