"""schemathesis CLI hooks: the same rule as the fuzz tests (mission_control.fuzzing).

    SCHEMATHESIS_HOOKS=mission_control.fuzz_hooks schemathesis run URL/openapi.json --checks all
"""

from __future__ import annotations

import schemathesis

from .fuzzing import keep_failure

schemathesis.hook("filter_failure")(keep_failure)
