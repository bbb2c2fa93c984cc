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
import threading
import uuid


def _registry():
    """On a worker: the task processes of each run (run id -> set of Popen) and the runs stopped,
    kept on the Worker object so that every task and stop_run see the same ones."""
    from distributed import get_worker
    worker = get_worker()
    if not hasattr(worker, "aqueducts_tasks"):
        worker.aqueducts_tasks = (threading.Lock(), {}, set())
    return worker.aqueducts_tasks


def run_partition(task, binary, run_id):
    """One attempt at one partition, on a worker: a fresh attempt id every time Dask runs it."""
    attempt = uuid.uuid4().hex

    def die_with_worker():
        # PR_SET_PDEATHSIG: if the worker process dies (killed), its task process dies with it
        # instead of writing on unobserved.
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)

    lock, running, stopped = _registry()
    with lock:
        if run_id in stopped:
            raise RuntimeError("the run was stopped")
        proc = subprocess.Popen(
            [binary, "distribute-task", "--attempt", attempt],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=die_with_worker,
        )
        running.setdefault(run_id, set()).add(proc)
    try:
        out, err = proc.communicate(task.encode())
    finally:
        with lock:
            running[run_id].discard(proc)
    if proc.returncode != 0:
        message = err.decode(errors="replace").strip()
        raise RuntimeError(message or "distribute-task exited with %d" % proc.returncode)
    return json.loads(out.decode())


def stop_run(run_id, dask_worker=None):
    """On every worker (client.run): kill the task processes of run `run_id`, wait until they
    have exited (so none writes after the driver removed the staging directory), and refuse to
    start more."""
    del dask_worker
    lock, running, stopped = _registry()
    with lock:
        stopped.add(run_id)
        procs = list(running.get(run_id, ()))
    for proc in procs:
        proc.kill()
    for proc in procs:
        proc.wait()
    return len(procs)


def stop(client, futures, run_id):
    """Cancel every task of the run and stop the task processes already running."""
    client.cancel(list(futures))
    try:
        client.run(stop_run, run_id)
    except Exception as error:  # pylint: disable=broad-except
        say("warning: could not stop the running tasks on every worker: %s" % error)


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
            future = client.submit(run_partition, task["task"], args.worker_binary, run_id,
                                   key=key, pure=False)
            futures[future] = task["partition"]
        results = []
        rows = 0
        for future in as_completed(list(futures)):
            partition = futures[future]
            if future.status != "finished":
                error = future.exception()
                stop(client, futures, run_id)
                say("error: partition %d of %d failed: %s" % (partition, total, error))
                say("every other task was cancelled; no destination was changed")
                return 1
            result = future.result()
            results.append(result)
            rows += result["rows"]
            say("partition %d done: %d rows (attempt %s); %d of %d partitions, %d rows"
                % (partition, result["rows"], result["attempt"], len(results), total, rows))
    except KeyboardInterrupt:
        stop(client, futures, run_id)
        say("cancelled: every task of the run was cancelled")
        return 130
    with open(args.result, "w", encoding="utf-8") as f:
        json.dump(results, f)
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
