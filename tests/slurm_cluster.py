"""A one-node SLURM cluster from Debian's packages (slurmctld, slurmd, munge), for tests.

Settings that work on machines without cgroups or accounting: proctrack/linuxproc, task/none,
jobacct_gather/none, accounting_storage/none, slurm.conf at Debian's default location (the Snakemake jobstep
plugin strips SLURM_CONF from job environments). Every daemon this starts is stopped on exit.
"""
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

CONF = Path("/etc/slurm/slurm.conf")


def _run(cmd, timeout=300, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout, **kw)


def can_install() -> str | None:
    """None if this machine can host the cluster, else the reason why not."""
    if os.geteuid() != 0:
        return "needs root to install and start slurmctld, slurmd and munge"
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        return "needs apt-get (Debian) to install slurmctld, slurmd and munge"
    return None


def install():
    if all(shutil.which(b) for b in ("slurmctld", "slurmd", "munged", "sbatch", "squeue")):
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    _run(["apt-get", "update"], timeout=600, env=env)
    _run(["apt-get", "install", "-y", "--no-install-recommends", "slurmctld", "slurmd", "slurm-client", "munge"],
         timeout=600, env=env)


class Cluster:
    def __init__(self, scratch: Path):
        self.scratch = Path(scratch)
        self.pids: list[tuple[str, Path]] = []
        self.backup = None

    def __enter__(self):
        install()
        s = self.scratch
        for d in ("state", "spool"):
            (s / d).mkdir(parents=True, exist_ok=True)
        host = socket.gethostname().split(".")[0]
        mem = 20000
        try:
            out = _run(["slurmd", "-C"]).stdout
            mem = min(mem, int(out.split("RealMemory=")[1].split()[0]) - 500)
        except Exception:  # slurmd -C is advisory
            pass
        cpus = os.cpu_count() or 2
        # munge: key and run directory owned by the munge user
        key = Path("/etc/munge/munge.key")
        if not key.exists():
            key.parent.mkdir(parents=True, exist_ok=True)
            key.write_bytes(os.urandom(1024))
            shutil.chown(key, "munge", "munge")
            key.chmod(0o400)
        for d in ("/run/munge", "/var/log/munge", "/var/lib/munge"):
            Path(d).mkdir(parents=True, exist_ok=True)
            shutil.chown(d, "munge", "munge")
        _run(["runuser", "-u", "munge", "--", "munged", "--force"])
        self.pids.append(("munged", Path("/run/munge/munged.pid")))
        if CONF.exists():
            self.backup = CONF.read_text()
        CONF.parent.mkdir(parents=True, exist_ok=True)
        CONF.write_text(f"""ClusterName=amodal-test
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
MailProg=/bin/true
StateSaveLocation={s}/state
SlurmdSpoolDir={s}/spool
SlurmctldPidFile={s}/slurmctld.pid
SlurmdPidFile={s}/slurmd.pid
SlurmctldLogFile={s}/slurmctld.log
SlurmdLogFile={s}/slurmd.log
NodeName={host} CPUs={cpus} RealMemory={mem} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
        _run(["slurmctld", "-c"])  # -c: start without saved state
        self.pids.append(("slurmctld", s / "slurmctld.pid"))
        _run(["slurmd"])
        self.pids.append(("slurmd", s / "slurmd.pid"))
        deadline = time.time() + 60
        while time.time() < deadline:
            out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True).stdout
            if "idle" in out:
                return self
            time.sleep(1)
        raise RuntimeError(f"the test node never became idle; see {s}/slurmctld.log and {s}/slurmd.log")

    def __exit__(self, *exc):
        subprocess.run(["scancel", "--user", "root"], capture_output=True)
        for _name, pidfile in reversed(self.pids):
            try:
                pid = int(Path(pidfile).read_text().strip())
                os.kill(pid, signal.SIGTERM)
                for _ in range(50):
                    os.kill(pid, 0)
                    time.sleep(0.1)
            except (FileNotFoundError, ValueError, ProcessLookupError):
                continue
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.backup is not None:
            CONF.write_text(self.backup)
        elif CONF.exists():
            CONF.unlink()
        return False
