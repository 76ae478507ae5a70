"""The baseline: a background-removal Lambda written the way the public samples write it.

One image per invocation, everything in memory: download the whole object, decode it with Pillow
(the samples open the image to check or convert it), base64 it into a JSON body, POST it with a
signed query, download the result, upload it. Configured at 1024 MB on x86_64, as the samples are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import time
from typing import Any

import boto3
import requests
from PIL import Image

s3 = boto3.client("s3")
API_URL = os.environ["AIDGE_API_URL"]  # e.g. https://api.aidc-ai.com/rest/ai/image/cut/out
APP_KEY = os.environ["AIDGE_APP_KEY"]
APP_SECRET = os.environ["AIDGE_APP_SECRET"]
OUTPUT_BUCKET = os.environ["OUTPUT_BUCKET"]


def signed_query() -> dict[str, str]:
    timestamp = str(int(time.time() * 1000))
    digest = hmac.new(APP_SECRET.encode(), (APP_SECRET + timestamp).encode(), hashlib.sha256)
    return {
        "partner_id": "aidge",
        "sign_method": "sha256",
        "sign_ver": "v2",
        "app_key": APP_KEY,
        "timestamp": timestamp,
        "sign": digest.hexdigest().upper(),
    }


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    record = event["Records"][0]["s3"]
    bucket, key = record["bucket"]["name"], record["object"]["key"]
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    image = Image.open(io.BytesIO(data))
    image = image.convert("RGB")  # decode: check it is an image, normalise the mode
    payload = {"imageBase64": base64.b64encode(data).decode(), "backGroundType": "TRANSPARENT"}
    answer = requests.post(API_URL, params=signed_query(), json=payload, timeout=60).json()
    if not answer.get("success"):
        raise RuntimeError(f"API error {answer.get('resCode')}: {answer.get('resMessage')}")
    result = requests.get(answer["data"]["imageUrl"], timeout=60).content
    output_key = key.rsplit(".", 1)[0] + ".png"
    s3.put_object(Bucket=OUTPUT_BUCKET, Key=output_key, Body=result, ContentType="image/png")
    return {"statusCode": 200, "output": output_key, "size": image.size}
