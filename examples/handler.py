#!/usr/bin/env python3
"""A Kinesis-triggered Lambda handler, runnable as is under `kinlocal consume --exec`.

The same `handler(event, context)` works unchanged on AWS Lambda; the `__main__` block is the
local adapter: the event arrives on stdin, logs go to stderr, the return value to stdout.
"""
import base64
import json
import sys


def handler(event, context):
    failures = []
    for record in event["Records"]:
        payload = base64.b64decode(record["kinesis"]["data"])
        try:
            doc = json.loads(payload)
        except ValueError:
            # Report the record so Lambda retries from it (with ReportBatchItemFailures on).
            failures.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
            break
        print(f"{record['eventID']}: {doc.get('type', '?')} {doc.get('id', '')}", file=sys.stderr)
    return {"batchItemFailures": failures}


if __name__ == "__main__":
    print(json.dumps(handler(json.load(sys.stdin), None)))
