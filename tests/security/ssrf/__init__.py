"""SSRF through outbound webhooks (issue 14, finding 4): the attacks (test_attacks.py) and the guard's own mechanism
(test_outbound.py), over one harness (harness.py; its fixtures, autouse for this package only, in conftest.py)."""
