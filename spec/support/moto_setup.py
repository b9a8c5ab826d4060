#!/usr/bin/env python3
"""moto (an AWS emulator independent of laws) with authentication ENFORCED, on 127.0.0.1 port 0.

moto counts the actions it serves; INITIAL_NO_AUTH_ACTION_COUNT=3 lets exactly the bootstrap
actions through unauthenticated (CreateUser, PutUserPolicy, CreateAccessKey, made here with
boto3). Every later request is verified by moto: SigV4 signature with the real key pair, then
the IAM policy (allow-all for user "laws"). Announces "<port> <access key id> <secret>" through
serverlib (spec/support/servers.lua's moto() reads it) and serves until the test process exits.
"""
import logging
import os
import sys
import threading

BOOTSTRAP_ACTIONS = 3
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = str(BOOTSTRAP_ACTIONS)  # read by moto.settings at import
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import boto3  # noqa: E402
    from moto.server import DomainDispatcherApplication, create_backend_app  # noqa: E402
    from werkzeug.serving import make_server  # noqa: E402
except ImportError as e:  # say how to get it, do not pass silently
    sys.stderr.write("moto_setup: %s\nmoto is needed: pip install 'moto[server]' (no Debian package); "
                     "boto3/botocore: apt-get install python3-boto3 python3-botocore\n" % e)
    sys.exit(3)

import serverlib  # noqa: E402

POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
USER = "laws"


def main():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the log
    serverlib.watch_parent()
    app = DomainDispatcherApplication(create_backend_app)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    port = srv.server_port
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    iam = boto3.client("iam", endpoint_url="http://127.0.0.1:%d" % port, region_name="us-east-1",
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName=USER)
    iam.put_user_policy(UserName=USER, PolicyName="all", PolicyDocument=POLICY)
    key = iam.create_access_key(UserName=USER)["AccessKey"]
    serverlib.announce(port, "%s %s" % (key["AccessKeyId"], key["SecretAccessKey"]))
    threading.Event().wait()


if __name__ == "__main__":
    main()
