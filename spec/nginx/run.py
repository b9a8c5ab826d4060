"""Run Debian's nginx for a spec: render spec/nginx/<template> into a temp prefix, pick a free
loopback port, start `nginx -p <prefix> -c nginx.conf -g 'daemon off;'`, announce
"<port> <prefix>" once it accepts connections, and stop nginx when the test process exits
(serverlib.watch_parent) or this runner is killed.

usage: run.py <template> KEY=VALUE...   (${KEY} in the template; PORT, PREFIX, ROOT are set here)
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
import serverlib  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def render(template, values):
    with open(template) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("${" + k + "}", v)
    if "${" in text:
        raise SystemExit("unfilled placeholder in " + template + ": " + text[text.index("${"):][:40])
    return text


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def main():
    template = os.path.join(os.path.dirname(__file__), sys.argv[1])
    values = dict(a.split("=", 1) for a in sys.argv[2:])
    prefix = tempfile.mkdtemp(prefix="laws-nginx-")
    for d in ("logs", "tmp"):
        os.makedirs(os.path.join(prefix, d))
    values.setdefault("ROOT", ROOT)
    values["PREFIX"] = prefix
    for attempt in range(5):  # the free port may be taken between probe and bind: try again
        values["PORT"] = str(free_port())
        with open(os.path.join(prefix, "nginx.conf"), "w") as f:
            f.write(render(template, values))
        proc = subprocess.Popen(["nginx", "-p", prefix, "-c", "nginx.conf", "-e", "logs/error.log",
                                 "-g", "daemon off;"],
                                stdout=sys.stdout, stderr=sys.stderr)
        deadline = time.time() + 10
        while time.time() < deadline and proc.poll() is None and not accepts(int(values["PORT"])):
            time.sleep(0.05)
        if proc.poll() is None and accepts(int(values["PORT"])):
            break
        proc.kill()
        proc.wait()
    else:
        with open(os.path.join(prefix, "logs", "error.log")) as f:
            sys.stderr.write(f.read())
        raise SystemExit("nginx did not start")

    def stop(*_):
        if proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)  # graceful: lets workers finish
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    serverlib.announce(values["PORT"], prefix)
    while proc.poll() is None:
        time.sleep(0.2)
        if not os.path.exists("/proc/" + (os.environ.get("LAWS_PARENT_PID") or str(os.getppid()))):
            stop()
    raise SystemExit("nginx exited with status %s" % proc.returncode)


if __name__ == "__main__":
    main()
