"""The one HTTP call the realworld scripts make: a FHIR JSON request, answered with
(status, headers with lower-case names, body bytes), HTTP errors included."""

import json
import urllib.error
import urllib.request

FHIR_JSON = "application/fhir+json"


def send(method, url, body=None, raw=None):
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", FHIR_JSON)
    if data is not None:
        req.add_header("Content-Type", FHIR_JSON)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()
