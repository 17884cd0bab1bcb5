"""The request list the delivery benchmarks share: a token for every seeded
licensee and for the admin, minted at the server at BASE, and every
(licensee, article) pair the seed made, shuffled with a fixed seed.

    python3 bench/requests.py WORK BASE

reads WORK/seed.json (`syndicate seed` output) and writes
WORK/requests.txt (a path and an Authorization value per line, for
delivery.lua) and WORK/admin.token.
"""
import json
import random
import sys
import urllib.parse
import urllib.request


def token(base, client):
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client["client_id"],
                                   "client_secret": client["client_secret"]}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{base}/v1/auth/token", data=form)) as response:
        return json.load(response)["access_token"]


def main(work, base):
    seed = json.load(open(f"{work}/seed.json"))
    pairs = []
    for licensee in seed["licensees"]:
        bearer = "Bearer " + token(base, licensee["client"])
        pairs += [(f"/v1/content/{article}", bearer) for article in licensee["articles"]]
    random.Random(7).shuffle(pairs)
    with open(f"{work}/requests.txt", "w") as out:
        out.write("".join(f"{path}\t{bearer}\n" for path, bearer in pairs))
    with open(f"{work}/admin.token", "w") as out:
        out.write(token(base, seed["admin"]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
