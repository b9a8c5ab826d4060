"""Shared by the Python test servers: report the bound port, exit when the test process dies."""
import os
import threading
import time


def announce(port, extra=""):
    """Write "<port> <extra>\n" to LAWS_READY_FILE (atomically) so spec/support/proc.lua can go on."""
    path = os.environ.get("LAWS_READY_FILE")
    line = f"{port} {extra}".rstrip() + "\n"
    if not path:
        print(line, end="", flush=True)
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(line)
    os.rename(tmp, path)


def watch_parent():
    """Exit the whole process when LAWS_PARENT_PID is gone."""
    pid = os.environ.get("LAWS_PARENT_PID")
    if not pid:
        return

    def run():
        while True:
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass
            time.sleep(0.5)

    threading.Thread(target=run, daemon=True).start()
