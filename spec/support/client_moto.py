#!/usr/bin/env python3
"""moto with authentication enforced, for the client specs (fallback when
spec/support/servers.lua offers no moto()). Binds 127.0.0.1 port 0, creates an IAM
user with an allow-all policy and an access key during the first unauthenticated
actions, then announces "<port> <access key id> <secret>"; every later request is
verified by moto (signature and IAM policy)."""
import os
import sys
import threading

os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"  # CreateUser, PutUserPolicy, CreateAccessKey
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402
import boto3  # noqa: E402
from moto.server import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


def main():
    serverlib.watch_parent()
    app = DomainDispatcherApplication(create_backend_app)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    port = srv.server_port
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    iam = boto3.client("iam", endpoint_url="http://127.0.0.1:%d" % port, region_name="us-east-1",
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="laws")
    iam.put_user_policy(UserName="laws", PolicyName="all", PolicyDocument=POLICY)
    key = iam.create_access_key(UserName="laws")["AccessKey"]
    serverlib.announce(port, "%s %s" % (key["AccessKeyId"], key["SecretAccessKey"]))
    threading.Event().wait()


if __name__ == "__main__":
    main()
