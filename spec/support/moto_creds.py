"""moto with IAM authentication enforced, set up for the credential-provider specs.

    python3 spec/support/moto_creds.py

Creates (before enforcement starts, through boto3 against itself):
  user  laws-user       inline policy: sts:AssumeRole on *         (its access key is announced)
  user  laws-nobody     no policy at all                           (its access key is announced)
  role  laws-hop1       trust: any AWS principal; may sts:AssumeRole
  role  laws-hop2       trust: any AWS principal; may dynamodb:*
  role  laws-ext        trust: any AWS principal with sts:ExternalId = laws-ext-id; may dynamodb:*
  role  laws-nodb       trust: any AWS principal; may s3:* only
  role  laws-web        trust: web identity (sts:AssumeRoleWithWebIdentity); may dynamodb:*
  table laws-creds-table (DynamoDB)
Then every request must be signed by a known key allowed to do the action (moto's
INITIAL_NO_AUTH_ACTION_COUNT = 0). POST /moto-api/reset-auth with "inf" / "0" switches it.

Announces "<port> <json>" with {user: {id, secret}, nobody: {id, secret}, account}.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bootstrap")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bootstrap")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)

import boto3  # noqa: E402
import requests  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402


def policy(actions):
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})


def trust(condition=None, web=False):
    st = {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity" if web else "sts:AssumeRole",
          "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.example"} if web
          else {"AWS": "*"}}
    if condition:
        st["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def setup(url):
    iam = boto3.client("iam", endpoint_url=url)
    ddb = boto3.client("dynamodb", endpoint_url=url)
    out = {"account": "123456789012"}
    for user, pol in (("laws-user", ["sts:AssumeRole"]), ("laws-nobody", None)):
        iam.create_user(UserName=user)
        if pol:
            iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=policy(pol))
        k = iam.create_access_key(UserName=user)["AccessKey"]
        out["user" if user == "laws-user" else "nobody"] = {"id": k["AccessKeyId"], "secret": k["SecretAccessKey"]}
    roles = {
        "laws-hop1": (trust(), ["sts:AssumeRole"]),
        "laws-hop2": (trust(), ["dynamodb:*"]),
        "laws-ext": (trust({"StringEquals": {"sts:ExternalId": "laws-ext-id"}}), ["dynamodb:*"]),
        "laws-nodb": (trust(), ["s3:*"]),
        "laws-web": (trust(web=True), ["dynamodb:*"]),
    }
    for name, (tr, pol) in roles.items():
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=tr)
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=policy(pol))
    ddb.create_table(TableName="laws-creds-table", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    return out


def main():
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    url = f"http://{host}:{port}"
    info = setup(url)
    requests.post(url + "/moto-api/reset-auth", data=b"0").raise_for_status()
    serverlib.watch_parent()
    serverlib.announce(port, json.dumps(info))
    try:
        import threading
        threading.Event().wait()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
