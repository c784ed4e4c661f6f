"""A consumer of keyfob serve written with requests-oauthlib, as a Python
program would use it: refresh with the consumer credential at the token
endpoint, then read the token by name with the credential as bearer.

Usage: python3 requests_oauthlib_client.py BASE_URL CA_FILE ACCOUNT
The credential comes on stdin (never on a command line). Prints one JSON
object: the token from the refresh, the answer by name, and the error
class oauthlib raises for an unknown credential.
"""
import json
import sys

import requests
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

base, ca, account = sys.argv[1], sys.argv[2], sys.argv[3]
cred = sys.stdin.readline().strip()

expired = {"access_token": "stale", "refresh_token": cred, "token_type": "Bearer", "expires_in": -30}
session = OAuth2Session(client_id="ownerapi", token=expired)
token = session.refresh_token(base + "/oauth2/v3/token", verify=ca, client_id="ownerapi")

by_name = requests.get(base + "/v1/token/" + account, headers={"Authorization": "Bearer " + cred}, verify=ca)

unknown = "keyfob_" + "A" * 43
try:
    OAuth2Session(client_id="ownerapi").refresh_token(base + "/oauth2/v3/token", refresh_token=unknown, verify=ca)
    bad = "none"
except OAuth2Error as e:
    bad = type(e).__name__ + ":" + e.error

json.dump({"token": token, "by_name_status": by_name.status_code, "by_name": by_name.json(), "bad": bad}, sys.stdout)
