"""The customer key every service derives from an e-mail."""
from __future__ import annotations

import pytest

from sagebridge_common.customers import email_key


@pytest.mark.parametrize("given,key", [(" Ann.Lee@Example.COM ", "ann.lee@example.com"),
                                       ("ann.lee@example.com", "ann.lee@example.com"),
                                       ("\tBOB@x.io\n", "bob@x.io"), (None, ""), ("", "")])
def test_email_key_is_trimmed_lower_case(given, key):
    assert email_key(given) == key


def test_the_same_address_in_another_case_has_the_same_key():
    assert email_key("Grace@Navy.mil") == email_key("grace@navy.MIL ")
