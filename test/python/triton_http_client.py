"""Drives the runtime's V2 REST API with Triton's Python HTTP client, unchanged.

Usage: triton_http_client.py <base-url> <case-file.json>
The case file names the expression model, its input/output, an image (flat FP32 list) and the identity model of
each datatype. Prints one JSON object with what the client saw; the mocha test asserts on it.
"""
import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from datatype_values import values_for, as_strings

url, case_file = sys.argv[1], sys.argv[2]
with open(case_file) as f:
    case = json.load(f)

client = httpclient.InferenceServerClient(url=url.removeprefix("http://"), connection_timeout=30, network_timeout=60)
out = {
    "live": client.is_server_live(),
    "ready": client.is_server_ready(),
    "model_ready": client.is_model_ready(case["model"]),
    "server_metadata": client.get_server_metadata(),
    "model_metadata": client.get_model_metadata(case["model"]),
    "model_metadata_version": client.get_model_metadata(case["model"], model_version=case["version"]),
}

# The expression model on one image, with binary and with JSON tensors both ways.
image = np.array(case["image"], dtype=np.float32).reshape([1, 64, 64, 1])
expression = {}
for binary_in in (True, False):
    for binary_out in (True, False):
        inp = httpclient.InferInput(case["input"], list(image.shape), "FP32")
        inp.set_data_from_numpy(image, binary_data=binary_in)
        requested = [httpclient.InferRequestedOutput(case["output"], binary_data=binary_out)]
        result = client.infer(case["model"], [inp], outputs=requested, request_id="expr-1")
        response = result.get_response()
        expression[f"in_{'binary' if binary_in else 'json'}_out_{'binary' if binary_out else 'json'}"] = {
            "id": response.get("id"),
            "scores": result.as_numpy(case["output"]).astype(np.float64).flatten().tolist(),
            "output_has_data": "data" in response["outputs"][0],
        }
# No outputs named: the client asks for every output in binary.
inp = httpclient.InferInput(case["input"], list(image.shape), "FP32")
inp.set_data_from_numpy(image)
result = client.infer(case["model"], [inp], model_version=case["version"])
expression["all_outputs_versioned"] = {"scores": result.as_numpy(case["output"]).astype(np.float64).flatten().tolist()}
out["expression"] = expression

# Every datatype through its identity model, in every combination of binary and JSON.
datatypes = {}
for datatype, model in case["identity_models"].items():
    seen = {}
    for binary_in in (True, False):
        for binary_out in (True, False):
            # JSON numbers cannot carry 64-bit integers beyond 2^53: those go binary only.
            sent = values_for(datatype, json_safe=not binary_in)
            inp = httpclient.InferInput("x", list(sent.shape), datatype)
            inp.set_data_from_numpy(sent, binary_data=binary_in)
            result = client.infer(model, [inp], outputs=[httpclient.InferRequestedOutput("y", binary_data=binary_out)])
            got = result.as_numpy("y")
            seen[f"in_{'binary' if binary_in else 'json'}_out_{'binary' if binary_out else 'json'}"] = {
                "sent": as_strings(sent, datatype),
                "shape": list(got.shape),
                "got": as_strings(got, datatype),
                "output_has_data": "data" in result.get_response()["outputs"][0],
            }
    datatypes[datatype] = seen
out["datatypes"] = datatypes

# Errors as the client reports them.
errors = {}
def error_of(fn):
    try:
        fn()
        return None
    except InferenceServerException as e:
        return {"status": e.status(), "message": e.message()}

errors["unknown_model"] = error_of(lambda: client.get_model_metadata("no-such-model"))
errors["unknown_version"] = error_of(lambda: client.get_model_metadata(case["model"], model_version="999"))
bad = httpclient.InferInput(case["input"], [1, 64, 64, 1], "INT32")
bad.set_data_from_numpy(np.zeros([1, 64, 64, 1], dtype=np.int32))
errors["wrong_datatype"] = error_of(lambda: client.infer(case["model"], [bad]))
bad_shape = httpclient.InferInput(case["input"], [1, 32, 32, 1], "FP32")
bad_shape.set_data_from_numpy(np.zeros([1, 32, 32, 1], dtype=np.float32))
errors["wrong_shape"] = error_of(lambda: client.infer(case["model"], [bad_shape]))
out["errors"] = errors
out["model_ready_unknown"] = client.is_model_ready("no-such-model")

print(json.dumps(out))
