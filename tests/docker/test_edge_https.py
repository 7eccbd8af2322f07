"""HTTPS behind one switch: DOMAIN in .env, and `make run` serves that name over TLS.

No ACME server can be reached here, so the project also sets TLS_ISSUER=internal
(the README's way for a name the internet cannot reach): Caddy's own CA issues
the certificate, and the test trusts that CA's root, copied out of the edge.
`make run` then publishes 80 and 443 on every interface (compose.domain.yaml);
the requests go to 127.0.0.1 with the domain as the TLS server name and Host.
"""

import http.client
import json
import socket
import ssl

import pytest

from tests.docker.session import TEST_DOMAIN as DOMAIN
from tests.docker.session import inspect

pytestmark = pytest.mark.docker


def https_get(path: str, context: ssl.SSLContext) -> http.client.HTTPResponse:
    """GET https://DOMAIN/path, connecting to 127.0.0.1:443; the certificate must be
    DOMAIN's (SNI and the host name check) and signed by a CA context trusts."""
    connection = http.client.HTTPConnection(DOMAIN, 443, timeout=10)
    connection.sock = context.wrap_socket(
        socket.create_connection(("127.0.0.1", 443), timeout=10), server_hostname=DOMAIN
    )
    connection.request("GET", path, headers={"Host": DOMAIN})
    return connection.getresponse()


@pytest.fixture(scope="module")
def trusting_the_test_ca(https_stack, tmp_path_factory) -> ssl.SSLContext:
    root = tmp_path_factory.mktemp("ca") / "root.crt"
    https_stack.compose("cp", "edge:/data/caddy/pki/authorities/local/root.crt", str(root))
    return ssl.create_default_context(cafile=str(root))


def test_https_serves_the_domain_with_a_certificate_the_test_ca_signed(
    https_stack, trusting_the_test_ca
):
    response = https_get("/health", trusting_the_test_ca)
    assert response.status == 200
    assert json.loads(response.read()) == {"status": "ok"}
    assert response.getheader("Strict-Transport-Security") == "max-age=31536000"
    assert response.getheader("Server") == "gunicorn"


def test_the_certificate_is_refused_without_the_test_ca(https_stack):
    """The control: the check above really verified the certificate."""
    with pytest.raises(ssl.SSLCertVerificationError):
        https_get("/health", ssl.create_default_context())


def test_http_redirects_to_https(https_stack):
    connection = http.client.HTTPConnection("127.0.0.1", 80, timeout=10)
    connection.request("GET", "/health?from=http", headers={"Host": DOMAIN})
    response = connection.getresponse()
    assert response.status == 308
    assert response.getheader("Location") == f"https://{DOMAIN}/health?from=http"


def test_the_edge_publishes_80_and_443_on_every_interface(https_stack):
    [edge] = https_stack.containers("edge")
    bindings = inspect(edge)["HostConfig"]["PortBindings"]
    assert {"HostIp": "", "HostPort": "80"} in bindings["8080/tcp"]
    assert bindings["8443/tcp"] == [{"HostIp": "", "HostPort": "443"}]
