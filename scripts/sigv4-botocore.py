#!/usr/bin/env python3
"""Random S3 requests signed by botocore's S3SigV4Auth at a fixed time, as JSON, for a
differential test of mlv's signer (Tests/MLVHTTPTests/SigV4BotocoreTests.swift).

    sigv4-botocore.py COUNT SEED

Keys hold spaces, unicode, reserved and odd ASCII characters; queries have several parameters
(empty values, repeated names, encoded characters); some requests carry a session token, extra
headers with runs of spaces, or a body. Each case: the inputs (decoded key, query pairs, headers),
and botocore's Authorization header.
"""
import datetime, hashlib, json, random, sys
from urllib.parse import quote
import botocore.auth
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

FIXED = datetime.datetime(2026, 11, 27, 13, 5, 7)
botocore.auth.get_current_datetime = lambda: FIXED

ALPHABET = list("abcXYZ019-_.~ /!$&'()*+,;=:@%?#[]{}^`|\"<>\\") + ["é", "ü", "ñ", "中", "🙂", "\u00a0"]


def word(rng, n):
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, n)))


def main():
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        key = "/".join(word(rng, 12) for _ in range(rng.randint(1, 4))).strip("/") or "k"
        bucket = rng.choice(["mlv-test", "b.with.dots", "bucket-1"])
        method = rng.choice(["GET", "PUT", "HEAD", "DELETE", "POST"])
        query = []
        for _ in range(rng.choice([0, 0, 1, 2, 4])):
            name = rng.choice(["list-type", "prefix", "uploadId", "partNumber", "continuation-token", word(rng, 6)])
            value = rng.choice(["", "2", word(rng, 10)])
            query.append([name, value])
        body = rng.randbytes(rng.randint(0, 64)) if method in ("PUT", "POST") and rng.random() < 0.7 else b""
        host = rng.choice(["127.0.0.1:8333", "s3.eu-west-1.amazonaws.com", "localhost:9000"])
        headers = [["Host", host]]
        if rng.random() < 0.3:
            headers.append(["Content-Type", rng.choice(["application/octet-stream", "application/xml"])])
        if rng.random() < 0.3:
            headers.append(["x-amz-meta-note", "  spaced   out\tvalue  "])
        # Session tokens are base64 (header values are ASCII on the wire).
        token = "".join(rng.choice("ABCxyz0189+/=") for _ in range(rng.randint(20, 60))) if rng.random() < 0.2 else None
        region = rng.choice(["us-east-1", "eu-west-1", "ap-southeast-2"])
        creds = Credentials("AKID" + str(i), "secret/" + word(rng, 20), token)
        path = "/" + bucket + "/" + key
        url = f"http://{host}" + quote(path, safe="/~")
        if query:
            url += "?" + "&".join(quote(k, safe="-_.~") + "=" + quote(v, safe="-_.~") for k, v in query)
        request = AWSRequest(method=method, url=url, data=body, headers={k: v for k, v in headers})
        S3SigV4Auth(creds, "s3", region).add_auth(request)
        cases.append({
            "method": method, "path": path, "query": query, "headers": headers,
            "payload_hash": hashlib.sha256(body).hexdigest(), "region": region,
            "access_key": creds.access_key, "secret_key": creds.secret_key, "token": token,
            "timestamp": (FIXED - datetime.datetime(1970, 1, 1)).total_seconds(),
            "authorization": request.headers["Authorization"],
        })
    json.dump(cases, sys.stdout, ensure_ascii=True)


if __name__ == "__main__":
    main()
