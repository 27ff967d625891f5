"""Validates custom action responses in Rasa with a jsonschema validator compiled once.

Rasa 3.6's `RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` on every custom
action call, and `jsonschema.validate` first re-checks the schema itself against the metaschema (`check_schema`)
and builds a new validator. Rasa's events schema is large, so that check cost most of a consultation turn: a
profile of the Rasa process put 83% of its samples there (issue 13, "Fast turns"). The schema is a constant, so
we check it once, compile one validator and keep what `jsonschema.validate` does with the instance: the same
best-matching `ValidationError`, with Rasa's hint appended to its message, raised for an invalid response.

Activated by importing this module in the Rasa process (`bot/tracker_store.py`, which `rasa run` imports for the
tracker store of endpoints.yml); importing it again changes nothing.
"""

from __future__ import annotations

from typing import Any

from jsonschema import exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_SCHEMA = RemoteAction.action_response_format_spec()
_cls = validators.validator_for(_SCHEMA)
_cls.check_schema(_SCHEMA)  # once, instead of on every call
VALIDATOR = _cls(_SCHEMA)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    error = exceptions.best_match(VALIDATOR.iter_errors(result))
    if error is not None:  # as Rasa does
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
