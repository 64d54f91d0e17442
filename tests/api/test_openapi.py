"""The OpenAPI document and the interactive documentation: a valid OpenAPI 3.1 document in which every
operation is described, states how it authenticates (checked against the authorisation matrix, which
tries every route with every credential) and answers its errors as problem+json with the shared
``Problem`` schema (checked against real answers too); Swagger UI at ``/docs`` from the app's own files."""

import re

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from postguard.access.models import ROLES
from postguard.app import create_app
from postguard.principals import SCOPES
from tests.api.test_authz_matrix import NOT_PERSONAL, TABLE, Case

PROBLEM = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
OWN_CONTENT = {("/healthz", "get", "503")}  # errors answered with a body of their own (a health check's JSON)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from postguard.settings import Settings

    data = tmp_path_factory.mktemp("openapi")
    return create_app(Settings(data_dir=data, database_url=f"sqlite:///{(data / 'pg.db').as_posix()}"))


@pytest.fixture(scope="module")
def doc(app):
    return TestClient(app).get("/openapi.json").json()


def operations(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_the_document_is_valid_openapi(doc):
    assert doc["openapi"].startswith("3.1")
    validate(doc)
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids)) > 80


def test_every_operation_is_described(doc):
    bare = [(m.upper(), p) for p, m, op in operations(doc) if len(op.get("description", "").strip()) < 20]
    assert not bare


def test_every_error_is_a_problem(doc):
    schemas = doc["components"]["schemas"]
    assert {"type", "title", "status", "detail"} <= set(schemas["Problem"]["required"])
    assert "HTTPValidationError" not in schemas  # FastAPI's own 422 shape is never answered
    seen = set()
    for path, method, op in operations(doc):
        for status, response in op["responses"].items():
            if int(status) < 400 or (path, method, status) in OWN_CONTENT:
                continue
            assert response["content"] == {PROBLEM: {"schema": PROBLEM_REF}}, (method, path, status)
            assert response["description"], (method, path, status)
            seen.add(int(status))
        if "requestBody" in op:
            assert {"413", "422"} <= op["responses"].keys(), (method, path)
        if any(p["in"] == "path" for p in op.get("parameters", [])):
            assert "404" in op["responses"], (method, path)
        if any(op.get("security", [])):
            assert "401" in op["responses"], (method, path)
    assert {400, 401, 403, 404, 409, 410, 413, 415, 422, 429} <= seen
    assert op_responses(doc, "/v1/shipments/{waybill}/status", "post") >= {"401", "403", "404", "409", "422", "429"}
    assert "Retry-After" in doc["paths"]["/v1/check"]["post"]["responses"]["429"]["headers"]


def op_responses(doc, path, method):
    return set(doc["paths"][path][method]["responses"])


def test_security_schemes_are_the_ways_requests_authenticate(doc):
    schemes = doc["components"]["securitySchemes"]
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "http", "scheme": "bearer"}
    assert (schemes["staffSession"]["in"], schemes["staffSession"]["name"]) == ("cookie", "pg_session")
    assert (schemes["csrfToken"]["in"], schemes["csrfToken"]["name"]) == ("header", "X-CSRF-Token")
    assert (schemes["subjectProofCookie"]["in"], schemes["subjectProofCookie"]["name"]) == ("cookie", "pg_me")
    for path, method, op in operations(doc):
        for requirement in op.get("security", []):
            assert requirement.keys() <= schemes.keys(), (method, path)
            assert set(requirement.get("apiKey", [])) <= set(SCOPES), (method, path)
            assert set(requirement.get("staffSession", [])) <= set(ROLES), (method, path)
            if method == "get":
                assert "csrfToken" not in requirement
    assert doc["paths"]["/metrics"]["get"]["security"] == [{"metricsToken": []}]
    assert not doc["paths"]["/v1/audit/checkpoint"]["get"].get("security")  # public


def _cases(row):
    return row if isinstance(row, tuple) else (row,)


def test_security_agrees_with_the_authorisation_matrix(doc):
    """Every API route the matrix tries: the document names the scope a key needs (or the alternatives
    the matrix knows), staff sessions where staff are let in, and no credential where the public is."""
    checked = 0
    for (method, path), row in TABLE.items():
        op = doc["paths"].get(path, {}).get(method.lower())
        if op is None or isinstance(row, NOT_PERSONAL):
            continue  # a page (not in the document) or a route that touches no personal data
        security = op.get("security", [])
        keys = [r["apiKey"] for r in security if "apiKey" in r]
        staff = [r for r in security if "staffSession" in r]
        for case in _cases(row):
            assert isinstance(case, Case)
            where = (method, path, case.note)
            if case.subject:
                assert {"subjectProof": []} in security and not keys, where
                continue
            if case.public:
                assert not security or {} in security, where
            if case.key == "refused":  # people only: sessions, never keys
                assert staff and not keys, where
            elif case.key not in ("any", "ignored"):
                assert [case.key] in keys, where
                assert {s for k in keys for s in k} <= {case.key, *case.without, *_scopes_of(row)}, where
            if case.roles is not None and not case.public:
                assert staff, where
                roles = set(staff[0]["staffSession"])
                assert not roles or roles == set(case.roles), where
            checked += 1
    assert checked > 60


def _scopes_of(row):
    return {c.key for c in _cases(row)}


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), [
    ("GET", "/no-such-page", {}, 404),
    ("GET", "/v1/shipments", {}, 401),
    ("POST", "/v1/check", {"json": {"value": 42}}, 422),
    ("POST", "/v1/check", {"content": b"value=1", "headers": {"Content-Type": "text/plain"}}, 415),
    ("PUT", "/v1/check", {}, 405),
])
def test_real_errors_fit_the_problem_schema(app, doc, method, path, kwargs, status):
    schema = {**PROBLEM_REF, "components": doc["components"]}
    resp = TestClient(app).request(method, path, **kwargs)
    assert resp.status_code == status and resp.headers["content-type"] == PROBLEM
    Draft202012Validator(schema).validate(resp.json())


def test_docs_are_served_from_the_app(app, doc):
    client = TestClient(app)
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert not re.search(r"(https?:)?//", page.text), "the page names no other host"
    assert "<script>" not in page.text  # no inline script: the CSP would block it
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert {"/docs/assets/swagger-ui.css", "/docs/assets/swagger-ui-bundle.js", "/docs/init.js"} <= set(refs)
    sizes = {}
    for ref in refs:
        got = client.get(ref)
        assert got.status_code == 200, ref
        assert got.headers["content-type"].split(";")[0] in ("text/css", "text/javascript", "image/png"), ref
        sizes[ref] = len(got.content)
    assert sizes["/docs/assets/swagger-ui-bundle.js"] > 500_000  # the real bundle, not a stub
    init = client.get("/docs/init.js").text
    assert '"/openapi.json"' in init and "validatorUrl: null" in init
    assert client.get("/openapi.json").json() == doc
    assert client.get("/docs/assets/index.html").status_code == 404  # only the files the page uses
    assert client.get("/docs/assets/..%2F..%2F__init__.py").status_code == 404
    redoc = client.get("/redoc", follow_redirects=False)
    assert redoc.status_code == 308 and redoc.headers["location"] == "/docs"
