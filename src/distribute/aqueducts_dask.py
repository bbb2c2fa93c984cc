"""The Dask driver of `aqueducts run --dask` (docs/scale-out.md).

It only orchestrates: the `aqueducts` program plans the run and hands this script a plan with one
task description per partition; this script submits one Dask task per partition, each of which
runs `aqueducts distribute-task` on a worker, and writes the results of the tasks Dask reports as
finished to --result. The `aqueducts` program then commits exactly those attempts.

Exit codes: 0 every partition finished (results written), 1 a task failed (every other task is
cancelled; the message names the partition and the stage), 2 usage or connection error,
130 interrupted (Ctrl+C or SIGINT: every task is cancelled).
"""

import argparse
import ctypes
import json
import signal
import subprocess
import sys
import uuid


def run_partition(task, binary):
    """One attempt at one partition, on a worker: a fresh attempt id every time Dask runs it."""
    attempt = uuid.uuid4().hex

    def die_with_worker():
        # PR_SET_PDEATHSIG: if the worker process dies (killed), its task process dies with it
        # instead of writing on unobserved.
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)

    proc = subprocess.run(
        [binary, "distribute-task", "--attempt", attempt],
        input=task.encode(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=die_with_worker,
        check=False,
    )
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip()
        raise RuntimeError(message or "distribute-task exited with %d" % proc.returncode)
    return json.loads(proc.stdout.decode())


def say(text):
    print(text, file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scheduler", required=True)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--result", required=True)
    parser.add_argument("--worker-binary", required=True)
    parser.add_argument("--connect-timeout", type=float, default=30.0)
    args = parser.parse_args()

    try:
        from distributed import Client, as_completed
    except ImportError as error:
        say("error: the Dask driver needs dask.distributed for %s: %s (Debian: apt-get install "
            "python3-distributed)" % (sys.executable, error))
        return 2

    with open(args.plan, encoding="utf-8") as f:
        plan = json.load(f)
    tasks = plan["tasks"]
    total = len(tasks)
    run_id = uuid.uuid4().hex[:12]
    try:
        client = Client(args.scheduler, timeout=args.connect_timeout)
    except (OSError, TimeoutError) as error:
        say("error: cannot connect to the Dask scheduler at %s: %s" % (args.scheduler, error))
        return 2

    futures = {}
    try:
        for task in tasks:
            key = "aqueducts-%s-partition-%d" % (run_id, task["partition"])
            future = client.submit(run_partition, task["task"], args.worker_binary, key=key,
                                   pure=False)
            futures[future] = task["partition"]
        results = []
        rows = 0
        for future in as_completed(list(futures)):
            partition = futures[future]
            if future.status != "finished":
                error = future.exception()
                client.cancel(list(futures))
                say("error: partition %d of %d failed: %s" % (partition, total, error))
                say("every other task was cancelled; no destination was changed")
                return 1
            result = future.result()
            results.append(result)
            rows += result["rows"]
            say("partition %d done: %d rows (attempt %s); %d of %d partitions, %d rows"
                % (partition, result["rows"], result["attempt"], len(results), total, rows))
    except KeyboardInterrupt:
        client.cancel(list(futures))
        say("cancelled: every task of the run was cancelled")
        return 130
    with open(args.result, "w", encoding="utf-8") as f:
        json.dump(results, f)
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
