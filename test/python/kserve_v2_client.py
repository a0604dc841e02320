"""Drives the runtime's V2 REST API with KServe's Python client (kserve.InferenceRESTClient, protocol v2), unchanged.

Usage: kserve_v2_client.py <base-url> <case-file.json>   (same case file as triton_http_client.py)
Prints one JSON object with what the client saw; the mocha test asserts on it.
"""
import asyncio
import json
import sys

import numpy as np
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig
from kserve.protocol.infer_type import RequestedOutput

from datatype_values import values_for, as_strings


async def main(url, case):
    client = InferenceRESTClient(RESTConfig(protocol="v2", timeout=60))
    out = {
        "live": await client.is_server_live(url),
        "ready": await client.is_server_ready(url),
        "model_ready": await client.is_model_ready(url, case["model"]),
        "model_ready_unknown": await client.is_model_ready(url, "no-such-model"),
    }
    image = np.array(case["image"], dtype=np.float32).reshape([1, 64, 64, 1])
    expression = {}
    for binary_in in (True, False):
        for binary_out in (True, False):
            inp = InferInput(case["input"], list(image.shape), "FP32")
            inp.set_data_from_numpy(image, binary_data=binary_in)
            request = InferRequest(
                case["model"], [inp], request_id="kserve-1",
                request_outputs=[RequestedOutput(case["output"], parameters={"binary_data": binary_out})],
            )
            response = await client.infer(url, request, model_name=case["model"])
            expression[f"in_{'binary' if binary_in else 'json'}_out_{'binary' if binary_out else 'json'}"] = {
                "id": response.id,
                "scores": response.outputs[0].as_numpy().astype(np.float64).flatten().tolist(),
            }
    out["expression"] = expression

    datatypes = {}
    for datatype, model in case["identity_models"].items():
        seen = {}
        for binary_in in (True, False):
            # KServe's client refuses FP16 as JSON itself ("use the binary data format").
            if datatype == "FP16" and not binary_in:
                continue
            sent = values_for(datatype, json_safe=not binary_in)
            inp = InferInput("x", list(sent.shape), datatype)
            inp.set_data_from_numpy(sent, binary_data=binary_in)
            request = InferRequest(model, [inp], parameters={"binary_data_output": binary_in})
            response = await client.infer(url, request, model_name=model)
            got = response.outputs[0].as_numpy()
            seen[f"in_{'binary' if binary_in else 'json'}"] = {"sent": as_strings(sent, datatype), "shape": list(got.shape), "got": as_strings(got, datatype)}
        datatypes[datatype] = seen
    out["datatypes"] = datatypes

    try:
        await client.infer(url, InferRequest("no-such-model", [InferInput("x", [1], "FP32", [1.0])]), model_name="no-such-model")
        out["unknown_model_error"] = None
    except Exception as e:  # httpx.HTTPStatusError carries the status and the server's message
        out["unknown_model_error"] = {"status": getattr(getattr(e, "response", None), "status_code", None), "message": str(e)}
    await client.close()
    return out


url, case_file = sys.argv[1], sys.argv[2]
with open(case_file) as f:
    case = json.load(f)
print(json.dumps(asyncio.run(main(url, case))))
