"""A Dask cluster for the tests of `aqueducts run --dask`: one scheduler and N worker processes
(no nannies, one thread each) on 127.0.0.1, on ports the system picks.

Prints one line when every worker has joined:
    ready <scheduler address> <worker pid> <worker pid> ...
then runs until its stdin closes or it gets SIGTERM, and stops every process it started.
Run with /usr/bin/python3 (Debian's python3-distributed).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()

    from distributed import Client

    work = tempfile.mkdtemp(prefix="aq-dask-cluster-")
    scheduler_file = os.path.join(work, "scheduler.json")
    log = open(os.path.join(work, "cluster.log"), "w")
    procs = []

    def stop(*_):
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    python = sys.executable
    procs.append(subprocess.Popen(
        [python, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
         "--no-dashboard", "--scheduler-file", scheduler_file],
        stdout=log, stderr=log, cwd=work))
    deadline = time.time() + 60
    while not os.path.exists(scheduler_file):
        if time.time() > deadline or procs[0].poll() is not None:
            print("error: the scheduler did not start (see %s)" % log.name, flush=True)
            stop()
        time.sleep(0.05)
    for i in range(args.workers):
        procs.append(subprocess.Popen(
            [python, "-m", "distributed.cli.dask_worker", "--scheduler-file", scheduler_file,
             "--no-nanny", "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard",
             "--name", "worker-%d" % i, "--local-directory", os.path.join(work, "w%d" % i)],
            stdout=log, stderr=log, cwd=work))
    with open(scheduler_file) as f:
        address = json.load(f)["address"]
    client = Client(address, timeout=60)
    client.wait_for_workers(args.workers, timeout=60)
    client.close()
    print("ready %s %s" % (address, " ".join(str(p.pid) for p in procs[1:])), flush=True)

    # Until the test closes our stdin (or ends).
    threading.Thread(target=lambda: (sys.stdin.read(), stop()), daemon=True).start()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
