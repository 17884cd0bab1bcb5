"""Verifies webhook messages with the reference Python implementation of
Standard Webhooks (the `standardwebhooks` package on PyPI), independently of
the Rust crate the service signs with.

Reads a JSON list of {"secret", "headers", "body"} on stdin and prints one
line per message: "ok" if it verifies, else "rejected: <why>".
"""

import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

for message in json.load(sys.stdin):
    try:
        Webhook(message["secret"]).verify(message["body"], message["headers"])
        print("ok")
    except WebhookVerificationError as error:
        print(f"rejected: {error}")
