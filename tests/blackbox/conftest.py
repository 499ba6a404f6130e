import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from iic_harness import new_server  # noqa: E402


@pytest.fixture(scope="module")
def server():
    s = new_server()
    yield s
    s.close()


@pytest.fixture()
def fresh_server():
    s = new_server()
    yield s
    s.close()


@pytest.fixture(scope="module")
def scim_tenant():
    """A fresh server with a started instance, one provisioning tenant and a bearer token."""
    from scim_support import provision
    s = new_server()
    try:
        yield provision(s)
    finally:
        s.close()
