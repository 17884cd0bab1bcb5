"""Property-based tests of a served syndicate against its own OpenAPI document.

Starts `syndicate serve --demo` on the given database, gives the demo's
second publisher and second licensee clients of their own, mints a token for
each principal through the token endpoint, then runs schemathesis once per
role (admin, publisher, licensee) with every check, the principals listed as
peers for the object-level authorisation check.

Usage: run.py SCHEMATHESIS BINARY DATABASE_URL
Environment: SCHEMATHESIS_SEED, SCHEMATHESIS_EXAMPLES (see schemathesis.toml).
"""

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROLES = os.environ.get("SCHEMATHESIS_ROLES", "admin publisher_a licensee_a").split()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(base, path, token=None, data=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = urllib.parse.urlencode(data).encode() if data else None
    req = urllib.request.Request(base + path, data=body, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.load(response)


def token(base, client_id, secret):
    """An access token from the token endpoint (client credentials in the body)."""
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return request(base, "/v1/auth/token", data=form)["access_token"]


def wait_ready(base, server):
    for _ in range(600):
        if server.poll() is not None:
            sys.exit(f"the service exited with {server.returncode} before it was ready")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit("the service did not become ready in 60 s")


def demo_credentials(output):
    """(client id, secret) per role from the demo's banner."""
    found = {}
    for role in ("admin", "publisher", "licensee"):
        match = re.search(rf"^\s+{role}\s+client_id=(\S+)\s+client_secret=(\S+)", output, re.M)
        if not match:
            sys.exit(f"no {role} credentials in the demo banner:\n{output}")
        found[role] = (match.group(1), match.group(2))
    return found


def admin_client(binary, env, name, role, organisation):
    created = subprocess.run(
        [binary, "admin", "create-client", "--name", name, "--role", role, "--organisation", organisation],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    client = json.loads(created.stdout)
    return client["client_id"], client["client_secret"]


def main():
    schemathesis, binary, database_url = sys.argv[1:4]
    work = tempfile.mkdtemp(prefix="schemathesis-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        SYNDICATE_JWT_KEYS=os.path.join(work, "keys"),
        SYNDICATE_JOURNAL_DIR=os.path.join(work, "journal"),
        SYNDICATE_TOKEN_TTL="3600",
        SYNDICATE_LOG="warn",
    )
    banner = open(os.path.join(work, "serve.out"), "w+")
    server = subprocess.Popen(
        [binary, "serve", "--demo", "--bind", f"127.0.0.1:{port}", "--drain-delay-ms", "0"],
        env=env,
        stdout=banner,
        stderr=open(os.path.join(work, "serve.log"), "w"),
    )
    try:
        wait_ready(base, server)
        banner.seek(0)
        demo = demo_credentials(banner.read())
        clients = {
            "admin": demo["admin"],
            "publisher_a": demo["publisher"],
            "licensee_a": demo["licensee"],
        }
        tokens = {role: token(base, *client) for role, client in clients.items()}
        own = {
            "publisher": request(base, "/v1/me", token=tokens["publisher_a"])["organisation"]["id"],
            "licensee": request(base, "/v1/me", token=tokens["licensee_a"])["organisation"]["id"],
        }
        for role, listing in (("publisher", "/v1/publishers"), ("licensee", "/v1/licensees")):
            others = [o["id"] for o in request(base, listing, token=tokens["admin"])["items"] if o["id"] != own[role]]
            tokens[f"{role}_b"] = token(base, *admin_client(binary, env, f"{role} B", role, others[0]))

        users = [
            {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {value}"}]}
            for name, value in tokens.items()
        ]
        auth_file = os.path.join(work, "auth.json")
        with open(auth_file, "w") as out:
            json.dump({"auth": users}, out)

        overrides = []
        if os.environ.get("SCHEMATHESIS_SEED"):
            overrides += ["--seed", os.environ["SCHEMATHESIS_SEED"]]
        if os.environ.get("SCHEMATHESIS_EXAMPLES"):
            overrides += ["--max-examples", os.environ["SCHEMATHESIS_EXAMPLES"]]
        # Anything else schemathesis takes, e.g. "--include-path /v1/media".
        overrides += shlex.split(os.environ.get("SCHEMATHESIS_ARGS", ""))
        failed = []
        for role in ROLES:
            print(f"\n== schemathesis as {role} against {database_url.split(':')[0]} ==", flush=True)
            run = subprocess.run(
                [
                    schemathesis,
                    "--config-file",
                    os.path.join(HERE, "schemathesis.toml"),
                    "--no-color",
                    "run",
                    f"{base}/openapi.json",
                    "--auth-wfc-user",
                    role,
                    *overrides,
                ],
                env=dict(os.environ, WFC_AUTH=auth_file),
                cwd=work,
            )
            if run.returncode != 0:
                failed.append(role)
        if failed:
            sys.exit(f"schemathesis found failures as: {', '.join(failed)}")
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
