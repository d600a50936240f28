"""How SDK failures become one-line JobsApiErrors, and how secrets stay out of them."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from jobs_widgets.core import JobsApiError
from jobs_widgets.core.redact import redact, register_secret
from jobs_widgets.core.sdk import Gateway, make_client, translate_error
from jobs_widgets.sandbox import Sandbox


def test_throttling_past_the_sdk_budget_is_transient_with_retry_after(manual_sandbox: Sandbox) -> None:
    manual_sandbox.faults.add("runs/get:429:1:7")
    gateway = Gateway(manual_sandbox.client(instant_retries=True, retry_timeout_seconds=20))
    with pytest.raises(JobsApiError) as err:
        gateway.get_run(1)
    assert err.value.transient and err.value.status_code == 429 and err.value.retry_after == 7
    assert "rate limiting" in str(err.value)


def test_server_errors_are_transient_client_errors_are_not(manual_sandbox: Sandbox) -> None:
    gateway = Gateway(manual_sandbox.client(instant_retries=True))
    manual_sandbox.faults.add("runs/get:500:1")
    with pytest.raises(JobsApiError) as err:
        gateway.get_run(1)
    assert err.value.transient and err.value.status_code == 500
    manual_sandbox.faults.clear()
    with pytest.raises(JobsApiError) as err:
        gateway.get_run(999999)
    assert not err.value.transient and err.value.status_code == 404
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert str(err.value).startswith("[404 INVALID_PARAMETER_VALUE] Run 999999 does not exist")


def test_connection_errors_are_transient_and_hinted(manual_sandbox: Sandbox) -> None:
    client = manual_sandbox.client(instant_retries=True, retry_timeout_seconds=2)
    manual_sandbox.stop()
    with pytest.raises(JobsApiError) as err:
        Gateway(client).get_job(1)
    assert err.value.transient and "check DATABRICKS_HOST" in str(err.value)


class _HtmlHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"{}" if self.path.startswith("/.well-known") else b"<html>login</html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def html_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HtmlHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_host_that_is_not_databricks(html_server: str) -> None:
    with pytest.raises(JobsApiError, match="did not answer like a Databricks workspace"):
        Gateway(make_client(html_server, "dapi-x")).get_job(1)


def test_translate_passes_our_errors_through_and_wraps_others() -> None:
    ours = JobsApiError("x")
    assert translate_error(ours, "op") is ours
    wrapped = translate_error(RuntimeError("token=dapiabcdef0123456789 leaked"), "get run")
    assert "dapiabcdef" not in str(wrapped) and "get run: RuntimeError" in str(wrapped)


@pytest.mark.parametrize(
    "text",
    [
        "Invalid access token. Config: host=http://x, token=***, auth_type=pat",
        "Authorization: Bearer dapi0123456789abcdef0123456789abcdef",
        "failed with dapi0123456789abcdef0123456789abcdef in it",
        "client_secret=s3cr3tvalue&x=1",
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc",
    ],
)
def test_redact_masks_tokens_and_drops_the_config_dump(text: str) -> None:
    out = redact(text)
    for secret in ("dapi0123", "s3cr3t", "eyJhbGci", "Config:"):
        assert secret not in out


def test_registered_secrets_are_masked_anywhere() -> None:
    register_secret("plainsecretvalue")
    assert redact("a plainsecretvalue b") == "a *** b"
