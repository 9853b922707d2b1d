"""Access tokens: issued to a person of the roster and printed once, stored only as a hash, revoked, listed without
secrets; a request's person is whoever its token was issued to, never a name it claims."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from test_ledger_cli import POLICY, ROSTER, exported, state, tiergate


@pytest.fixture
def ledger(tmp_path):
    path = tmp_path / "ledger.db"
    assert tiergate("roster", "import", ROSTER, "--ledger", path, "--actor", "admin",
                    "--at", "2026-01-01T00:00:00Z").exit_code == 0
    return path


def create(ledger, person, *args, actor="rita"):
    return tiergate("token", "create", person, "--ledger", ledger, "--actor", actor, *args)


def test_a_token_is_printed_once_and_the_ledger_keeps_only_its_hash(ledger):
    import hashlib

    result = create(ledger, "raj", "--expires", "90d")
    assert result.exit_code == 0, result.stderr
    token = result.stdout.strip()
    assert token.startswith("tg_") and len(token) > 40
    event = exported(ledger)[-1]
    assert event["type"] == "token_issued" and event["person"] == "raj" and event["actor"] == "rita"
    assert event["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(exported(ledger))  # nowhere in the ledger, in no form but its hash
    db = sqlite3.connect(ledger)
    assert not any(token in row[0] for row in db.execute("SELECT body FROM events"))
    db.close()
    assert result.stderr.startswith(f"token {event['token_id']} for raj, until ")
    issued = datetime.fromisoformat(event["at"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(event["expires"].replace("Z", "+00:00")) - issued == timedelta(days=90)


def test_two_tokens_differ(ledger):
    first, second = create(ledger, "raj").stdout, create(ledger, "raj").stdout
    assert first != second


def test_a_token_is_issued_only_to_a_person_of_the_roster(ledger):
    before = state(ledger)
    refused = create(ledger, "mallory")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert "error[E610]: mallory is not in the roster (event 2): a token is issued to a person the roster names" \
        in refused.stderr
    assert state(ledger) == before
    spelled = create(ledger, "  RAJ ")  # one identity, written as the roster writes it
    assert spelled.exit_code == 0 and exported(ledger)[-1]["person"] == "raj"


@pytest.mark.parametrize("value", ["90", "d", "0d", "-1d", "1.5d", "3x", "ninety days"])
def test_a_lifetime_that_is_not_a_duration_is_refused(ledger, value):
    result = create(ledger, "raj", "--expires", value)
    assert result.exit_code == 2 and "is not a duration" in result.stderr and result.stdout == ""


def test_list_and_revoke(ledger):
    create(ledger, "raj")
    create(ledger, "bea", "--expires", "2w")
    listed = json.loads(tiergate("token", "list", "--ledger", ledger, "--format", "json").stdout)
    assert [(t["person"], t["revoked_at"]) for t in listed] == [("raj", None), ("bea", None)]
    assert all(set(t) == {"token_id", "person", "issued_at", "issued_by", "expires", "revoked_at", "revoked_by"}
               for t in listed)  # never the token, nor its hash
    token_id = listed[0]["token_id"]
    revoked = tiergate("token", "revoke", token_id, "--ledger", ledger, "--actor", "rita")
    assert revoked.exit_code == 0 and revoked.stdout.startswith(f"token {token_id} revoked (#")
    again = tiergate("token", "revoke", token_id, "--ledger", ledger, "--actor", "rita")
    assert again.exit_code == 2 and f"the token {token_id} is revoked already" in again.stderr
    unknown = tiergate("token", "revoke", "0123456789ab", "--ledger", ledger, "--actor", "rita")
    assert unknown.exit_code == 2 and "no token has the id 0123456789ab" in unknown.stderr
    text = tiergate("token", "list", "--ledger", ledger).stdout.splitlines()
    assert text[0].startswith(f"{token_id}  raj  issued ") and " revoked " in text[0] and text[0].endswith("by rita")
    assert "expires" in text[1]


def authenticate(ledger, token, at=None):
    from tiergate.app.tokens import authenticate as who
    from tiergate.ledger.service import Ledger

    with Ledger(ledger, create=False) as led:
        return who(led, token, at or datetime.now(timezone.utc))


def test_a_token_names_its_person_until_it_expires_or_is_revoked(ledger):
    from tiergate.app.tokens import Unauthenticated

    token = create(ledger, "raj", "--expires", "1d").stdout.strip()
    assert authenticate(ledger, token) == "raj"
    with pytest.raises(Unauthenticated):
        authenticate(ledger, token, datetime.now(timezone.utc) + timedelta(days=2))
    for forged in ("", None, "raj", token[:-1], token + "x", "tg_" + "A" * 43, token.upper()):
        with pytest.raises(Unauthenticated):
            authenticate(ledger, forged)
    token_id = exported(ledger)[-1]["token_id"]
    assert tiergate("token", "revoke", token_id, "--ledger", ledger, "--actor", "rita").exit_code == 0
    with pytest.raises(Unauthenticated):
        authenticate(ledger, token)


def test_a_person_removed_from_the_roster_is_no_longer_authenticated(ledger, tmp_path):
    from tiergate.app.tokens import Unauthenticated

    token = create(ledger, "raj").stdout.strip()
    fewer = tmp_path / "fewer.yaml"
    fewer.write_text("people:\n  rita: [risk_audit]\n  admin: [risk_audit]\n")
    assert tiergate("roster", "import", fewer, "--ledger", ledger, "--actor", "rita").exit_code == 0
    with pytest.raises(Unauthenticated):
        authenticate(ledger, token)


def test_token_events_travel_with_an_export(ledger, tmp_path):
    token = create(ledger, "raj").stdout.strip()
    dump = tmp_path / "export.jsonl"
    dump.write_text(tiergate("export", "--ledger", ledger).stdout)
    copy = tmp_path / "copy.db"
    assert tiergate("import", dump, "--ledger", copy, "--policy", POLICY).exit_code == 0
    assert state(copy)[0] == state(ledger)[0]
    assert authenticate(copy, token) == "raj"


def test_authentication_reads_the_tokens_once_while_no_token_event_is_added(tmp_path, monkeypatch):
    """A request costs one read of the latest token events, not a read of every token: the tokens are read again
    only when one is issued or revoked, and a revocation counts at once."""
    from datetime import datetime, timezone

    from tiergate.app.tokens import Unauthenticated, authenticate
    from tiergate.ledger import tokens
    from tiergate.ledger.service import Ledger

    ledger = tmp_path / "ledger.db"
    assert tiergate("roster", "import", ROSTER, "--ledger", ledger, "--actor", "rita").exit_code == 0
    token = tiergate("token", "create", "dana", "--ledger", ledger, "--actor", "rita").stdout.strip()
    reads = []
    real = tokens.TokenBook.__init__

    def counted(self, store):
        reads.append(store.url)
        real(self, store)

    monkeypatch.setattr(tokens.TokenBook, "__init__", counted)
    now = datetime.now(timezone.utc)
    with Ledger(ledger, create=False, readonly=True) as opened:
        assert [authenticate(opened, token, now) for _ in range(20)] == ["dana"] * 20
    assert len(reads) <= 1
    other = tiergate("token", "create", "rita", "--ledger", ledger, "--actor", "rita").stdout.strip()
    token_id = [t for t in json.loads(tiergate("token", "list", "--ledger", ledger, "--format", "json").stdout)
                if t["person"] == "dana"][0]["token_id"]
    assert tiergate("token", "revoke", token_id, "--ledger", ledger, "--actor", "rita").exit_code == 0
    with Ledger(ledger, create=False, readonly=True) as opened:
        with pytest.raises(Unauthenticated):
            authenticate(opened, token, datetime.now(timezone.utc))
        assert authenticate(opened, other, datetime.now(timezone.utc)) == "rita"
